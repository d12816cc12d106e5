"""Plumbing for `benchmarks.faults`: signed Slack requests over HTTP, what reached the local
Slack, the server's log read back, and the row type of the table.

Bodies and signatures come from bot/local/signed_requests.py (the shell's, the tests' and the
benchmarks' one builder); the proxy that refuses PostgreSQL connections is the tests' own
(tests/outage_support.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.local.signed_requests import (
    JSON,
    Actor,
    SignedRequest,
    SourceMessage,
    block_actions,
    event_callback,
    interactive_body,
    sign,
    slash_command_body,
    view_submission,
)
from bot.local.slack_server import LocalSlack, RecordedCall
from tests.slack_support import all_text, placed_elements

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
# Signed Slack requests over HTTP


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

    def slash(self, actor: Actor, text: str) -> SignedRequest:
        """`/peer TEXT` typed by `actor`."""
        response_url = self.slack.response_url()
        body = slash_command_body(actor, self.command, text, response_url)
        return sign(self.secret, body, response_url=response_url)

    def press(
        self,
        actor: Actor,
        message: dict[str, Any],
        label: str,
        *,
        ephemeral: bool = True,
        channel: str | None = None,
        user_team: str | None = None,
    ) -> SignedRequest:
        """Press the button `label` of `message`; `user_team` sets `user.team_id` apart from
        `team.id` (a member of another workspace pressing in this one)."""
        placed = [
            (block_id, element)
            for block_id, element in placed_elements(message)
            if element.get("type") == "button" and element["text"]["text"] == label
        ]
        if not placed:
            raise LookupError(f"no {label!r} button in {all_text(message)[:200]!r}")
        block_id, element = placed[0]
        source = SourceMessage(
            channel=channel or actor.channel_id,
            ts=str(message.get("ts") or "1700000000.000100"),
            text=str(message.get("text", "")),
            blocks=list(message.get("blocks", [])),
            ephemeral=ephemeral,
        )
        response_url = self.slack.response_url()
        payload = block_actions(actor, element, block_id=block_id, message=source, response_url=response_url)
        if user_team is not None:
            payload["user"]["team_id"] = user_team
        return sign(self.secret, interactive_body(payload), response_url=response_url)

    def submit(self, actor: Actor, view: dict[str, Any], values: dict[str, Any]) -> SignedRequest:
        """Submit a modal the app opened, with these `state.values`."""
        filled = {**view, "state": {"values": values}}
        return sign(self.secret, interactive_body(view_submission(actor, filled)))

    def event(self, team_id: str, event: dict[str, Any]) -> SignedRequest:
        """An Events API `event_callback` (JSON body)."""
        return sign(self.secret, event_callback(team_id, event), content_type=JSON)

    def resign(self, request: SignedRequest, **extra_headers: str) -> SignedRequest:
        """The same body signed again now, e.g. for Slack's retry with X-Slack-Retry-Num."""
        content_type = request.headers.get("content-type", "")
        return sign(
            self.secret,
            request.body,
            content_type=content_type,
            response_url=request.response_url,
            **extra_headers,
        )


def post(base: str, request: SignedRequest, *, timeout: float = 40.0, path: str = "/slack/events") -> Answer:
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
    return all_text(params)


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
