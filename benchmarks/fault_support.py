"""Plumbing for `benchmarks.faults`: a TCP proxy that can refuse PostgreSQL connections, signed
Slack requests over HTTP, the server's log read back, and the row type of the table.

Request bodies come from `bot.shell_payloads` (the shell's, the tests' and the benchmarks' one
builder); only the Events API envelope is built here, since the shell sends no events.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from slack_sdk.signature import SignatureVerifier

from benchmarks.presses import buttons
from benchmarks.slash import message_text
from bot.local.signed_requests import (
    Actor,
    SourceMessage,
    block_actions,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission,
)
from bot.local.slack_server import LocalSlack, RecordedCall

# ---------------------------------------------------------------------------------------------
# The table


@dataclass
class Row:
    """One line of the table: a fault, what the fixed product does, what we saw."""

    number: str
    fault: str
    expected: str
    seen: str = "not run"
    holds: bool = False


# ---------------------------------------------------------------------------------------------
# PostgreSQL that refuses connections


class TcpProxy:
    """Forwards 127.0.0.1:port to `target`. `close()` refuses new connections and cuts the open
    ones (what a PostgreSQL restart or a network cut looks like to the pool); `open()` listens
    again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def open(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)  # accept() wakes up to see close()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="pg-proxy").start()
        return self

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:
            _shut(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _shut(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _shut(sock)
                with self._lock:
                    self._sockets.discard(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# ---------------------------------------------------------------------------------------------
# Signed Slack requests over HTTP


@dataclass(frozen=True)
class Signed:
    """One request as Slack sends it: body and headers, and the response_url it names (if any)."""

    body: str
    headers: dict[str, str]
    response_url: str = ""


@dataclass(frozen=True)
class Answer:
    """What the server said and how long it took."""

    status: int
    seconds: float
    body: str = ""
    error: str | None = None  # a transport error or our timeout instead of an answer

    def json(self) -> dict[str, Any]:
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def __str__(self) -> str:
        head = self.error or f"HTTP {self.status}"
        return f"{head} after {self.seconds:.1f} s"


@dataclass(frozen=True)
class SlackRequests:
    """Builds signed requests for one signing secret; replies go to `slack`'s response_urls."""

    slack: LocalSlack
    secret: str
    command: str = "/peer"

    @property
    def _verifier(self) -> SignatureVerifier:
        return SignatureVerifier(self.secret)

    def _form(self, body: str, response_url: str = "") -> Signed:
        headers = {k: str(v) for k, v in signed_headers(self._verifier, body).items()}
        return Signed(body, headers, response_url)

    def slash(self, actor: Actor, text: str) -> Signed:
        """`/peer TEXT` typed by `actor`."""
        response_url = self.slack.response_url()
        return self._form(slash_command_body(actor, self.command, text, response_url), response_url)

    def press(
        self,
        actor: Actor,
        message: dict[str, Any],
        label: str,
        *,
        ephemeral: bool = True,
        channel: str | None = None,
        user_team: str | None = None,
    ) -> Signed:
        """Press the button `label` of `message`; `user_team` sets `user.team_id` apart from
        `team.id` (a member of another workspace pressing in this one)."""
        control = buttons(message).get(label)
        if control is None:
            raise LookupError(f"no {label!r} button in {message_text(message)[:200]!r}")
        source = SourceMessage(
            channel=channel or actor.channel_id,
            ts=str(message.get("ts") or "1700000000.000100"),
            text=str(message.get("text", "")),
            blocks=list(message.get("blocks", [])),
            ephemeral=ephemeral,
        )
        response_url = self.slack.response_url()
        payload = block_actions(actor, control, message=source, response_url=response_url)
        if user_team is not None:
            payload["user"]["team_id"] = user_team
        return self._form(interactive_body(payload), response_url)

    def submit(self, actor: Actor, view: dict[str, Any], values: dict[str, Any]) -> Signed:
        """Submit a modal the app opened, with these `state.values`."""
        filled = {**view, "state": {"values": values}}
        return self._form(interactive_body(view_submission(actor, filled)))

    def event(self, team_id: str, event: dict[str, Any], *, event_id: str | None = None) -> Signed:
        """An Events API `event_callback` (JSON body)."""
        body = json.dumps(
            {
                "token": "local-verification-token",
                "team_id": team_id,
                "api_app_id": "A0LOCAL",
                "event": {"event_ts": f"{time.time():.6f}", **event},
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": team_id, "user_id": "U0BOT", "is_bot": True}],
            }
        )
        return self.signed_json(body)

    def signed_json(self, body: str, **extra_headers: str) -> Signed:
        """Any JSON body, signed now (a Slack retry is signed afresh too)."""
        headers = {k: str(v) for k, v in signed_headers(self._verifier, body).items()}
        headers["content-type"] = "application/json"
        return Signed(body, {**headers, **extra_headers})

    def resign(self, request: Signed, **extra_headers: str) -> Signed:
        """The same body signed again now, e.g. for Slack's retry with X-Slack-Retry-Num."""
        content_type = request.headers.get("content-type", "")
        headers = {k: str(v) for k, v in signed_headers(self._verifier, request.body).items()}
        headers["content-type"] = content_type
        return Signed(request.body, {**headers, **extra_headers}, request.response_url)


def post(base: str, request: Signed, *, timeout: float = 40.0, path: str = "/slack/events") -> Answer:
    """POST a request to the server and time the answer (the acknowledgement)."""
    started = time.perf_counter()
    try:
        response = httpx.post(base + path, content=request.body, headers=request.headers, timeout=timeout)
    except httpx.HTTPError as error:
        return Answer(0, time.perf_counter() - started, error=f"no answer ({type(error).__name__})")
    return Answer(response.status_code, time.perf_counter() - started, response.text)


def get(base: str, path: str, *, timeout: float = 40.0) -> Answer:
    """GET a path (`/healthz`) and time it."""
    started = time.perf_counter()
    try:
        response = httpx.get(base + path, timeout=timeout)
    except httpx.HTTPError as error:
        return Answer(0, time.perf_counter() - started, error=f"no answer ({type(error).__name__})")
    return Answer(response.status_code, time.perf_counter() - started, response.text)


# ---------------------------------------------------------------------------------------------
# What reached Slack


def replies(slack: LocalSlack, response_url: str) -> list[RecordedCall]:
    """Posts to one response_url, oldest first."""
    path = "/" + response_url.split("/", 3)[3]
    return [c for c in slack.calls_to("response_url") if c.path == path]


def wait_for(check: Callable[[], Any], timeout: float, poll: float = 0.05) -> Any:
    """`check()`'s first truthy value within `timeout` s, else None."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(poll)


def text_of(call: RecordedCall) -> str:
    """Everything a person reads in a posted message (fallback text and blocks)."""
    params = dict(call.params)
    if isinstance(params.get("blocks"), str):
        params["blocks"] = json.loads(params["blocks"])
    return message_text(params)


def text_of_view(view: Any) -> str:
    """The words of a modal as posted to views.open / views.update."""
    if not isinstance(view, dict):
        return ""
    return " ".join(str(b.get("text", {}).get("text", "")) for b in view.get("blocks", []))


def final_view_text(slack: LocalSlack, view_id: str, *, after: int, timeout: float) -> str:
    """The text of the first views.update of `view_id` (from call index `after`) that is not a
    "Sending…" interim, waiting up to `timeout` s; "" when none came."""

    def settled() -> str:
        for call in slack.calls_to("views.update")[after:]:
            said = text_of_view(call.params.get("view"))
            if call.params.get("view_id") == view_id and "Sending" not in said:
                return said
        return ""

    return str(wait_for(settled, timeout) or "")


def as_message(call: RecordedCall) -> dict[str, Any]:
    """A posted message as a dict with decoded blocks and its ts (for pressing its buttons)."""
    params = dict(call.params)
    if isinstance(params.get("blocks"), str):
        params["blocks"] = json.loads(params["blocks"])
    params["ts"] = call.response.get("ts") or params.get("ts")
    return params


# ---------------------------------------------------------------------------------------------
# The server's log


@dataclass
class LogTail:
    """The JSON lines a server wrote to its log file after `mark()`."""

    path: Path
    offset: int = 0
    _lines: list[str] = field(default_factory=list)

    def mark(self) -> LogTail:
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        return self

    def lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode("utf-8", "replace").splitlines()

    def entries(self) -> Iterator[dict[str, Any]]:
        """The JSON lines since the mark (other lines, e.g. a bare traceback, are skipped)."""
        for line in self.lines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry

    def tracebacks(self) -> int:
        """Tracebacks since the mark: in a JSON line's `exc`, or printed bare."""
        bare = sum(1 for line in self.lines() if line.startswith("Traceback"))
        return bare + sum(1 for e in self.entries() if "Traceback" in str(e.get("exc", "")))

    def requests(self) -> list[dict[str, Any]]:
        """The one-line-per-request entries (logger bzpeer.request)."""
        return [e for e in self.entries() if e.get("logger") == "bzpeer.request"]
