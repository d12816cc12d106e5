"""A local stand-in for Slack's Web API, response_url webhooks and file-upload URLs.

A real HTTP server on 127.0.0.1 (port 0) in a daemon thread, so the real `slack_sdk` clients
talk to it unchanged. The local shell renders what the app sends here; tests assert on it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bot.local.slack_methods import SlackApi
from bot.local.slack_objects import LocalChannel, SlackUser, UploadedFile
from bot.local.slack_wire import (
    LoopbackServer,
    Reply,
    bearer,
    json_reply,
    parse_body,
    text_reply,
    upload_bytes,
)

__all__ = ["LocalSlack", "RecordedCall"]

MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url")
# Slack allows five posts per response_url (its interactivity docs); the 404 body text is our own.
_RESPONSE_URL_USES = 5


@dataclass
class RecordedCall:
    """One request the app made: a Web API method, a response_url post or a file upload."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    response: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    path: str = ""


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int


@dataclass
class _Delay:
    seconds: float
    remaining: int


class LocalSlack:
    """Fake Slack: answers Web API methods like Slack does and records every call."""

    def __init__(
        self,
        *,
        team_id: str = "T0LOCAL",
        bot_user_id: str = "U0BOT",
        users: Iterable[SlackUser] = (),
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock` (epoch seconds): message timestamps follow it, as Slack's do its own time."""
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self._lock = threading.RLock()
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._response_uses: dict[str, int] = {}
        self._in_flight = 0
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self.uploads: list[bytes] = []
        self.api = SlackApi(
            team_id=team_id,
            bot_user_id=bot_user_id,
            users=users,
            upload_root=lambda: self.root,
            clock=clock,
        )

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalSlack:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        server = self._server = LoopbackServer(self._answer, self._track)
        # A short poll interval so stop() (and every test's teardown) returns promptly.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.02,), name="local-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """`http://127.0.0.1:PORT` of the running server."""
        if self._server is None:
            raise RuntimeError("LocalSlack is not started")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def url(self) -> str:
        """The Web API base URL (the value for SLACK_API_URL / WebClient(base_url=...))."""
        return self.root + "/api/"

    def response_url(self) -> str:
        """A fresh response_url for a command or action payload."""
        hook = uuid.uuid4().hex
        with self._lock:
            self._response_uses[hook] = 0
        return f"{self.root}/response/{hook}"

    def show_ack(self, response_url: str, ack_body: str | bytes) -> None:
        """What Slack does with the HTTP answer to a slash command: a message in it is shown as a
        post to the command's response_url would be, so it is recorded as one (without using
        the URL up). An empty ack shows nothing."""
        message = json.loads(ack_body) if ack_body else {}
        if not isinstance(message, dict) or not ("text" in message or "blocks" in message):
            return
        path = urlsplit(response_url).path
        with self._lock:
            self._calls.append(RecordedCall("response_url", message, None, time.time(), path=path))

    # state and assertions ----------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """A snapshot of every recorded call, oldest first."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls to one method (e.g. "chat.postMessage", "response_url", "upload")."""
        return [call for call in self.calls if call.method == method]

    def messages(self) -> list[RecordedCall]:
        """Successful message posts and updates (Web API and response_url), in order."""
        return [c for c in self.calls if c.method in MESSAGE_METHODS and c.error is None]

    def clear(self) -> None:
        """Forget recorded calls, uploads and pending faults (users and views stay)."""
        with self._lock:
            self._calls.clear()
            self.uploads.clear()
            self._faults.clear()
            self._delays.clear()

    @property
    def busy(self) -> bool:
        """True while a request is being answered."""
        with self._lock:
            return self._in_flight > 0

    def add_user(self, user: SlackUser) -> None:
        """Register (or replace) a workspace member."""
        self.api.add_user(user)

    def add_channel(self, channel: LocalChannel) -> None:
        """Register (or replace) a channel (public or private, with or without the bot)."""
        self.api.add_channel(channel)

    @property
    def oauth_grants(self) -> dict[str, dict[str, Any]]:
        """Per-code overrides merged into the canned `oauth.v2.access` answer."""
        return self.api.oauth_grants

    @property
    def files(self) -> dict[str, UploadedFile]:
        """Files announced via files.getUploadURLExternal, by file id."""
        return self.api.files

    def new_ts(self) -> str:
        """A fresh, increasing message timestamp like "1700000000.000100"."""
        return self.api.new_ts()

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to `method` fail.

        No status and no error: HTTP 429 "ratelimited" with Retry-After (default 1).
        An error alone: HTTP 200 {"ok": false, "error": error}, as Slack reports most errors.
        A status: that HTTP status (e.g. 500), with `error` or a generic one in the body.
        """
        code = status if status is not None else (429 if error is None else 200)
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(code, error, retry_after, times))

    def slow_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next `times` calls to `method` only after `seconds`.

        The call takes effect first (a message is posted, a view published) and the answer
        comes late: what Slack does when it is slow, and what a client that times out cannot
        tell from a call that never arrived.
        """
        with self._lock:
            self._delays.setdefault(method, []).append(_Delay(seconds, times))

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first (with their metadata)."""
        return self.api.history(channel)

    # request handling (called from server threads) ----------------------------------------

    def _answer(self, target: str, headers: Message, raw: bytes) -> Reply:
        """Record one request and build Slack's reply to it."""
        url = urlsplit(target)
        kind, _, rest = url.path.lstrip("/").partition("/")
        content_type = headers.get("Content-Type") or ""
        now = time.time()
        if kind == "api":
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(parse_body(content_type, raw))
            call = RecordedCall(rest, params, bearer(headers, params), now, path=url.path)
        elif kind == "response":
            params = parse_body(content_type or "application/json", raw)
            call = RecordedCall("response_url", params, None, now, path=url.path)
        elif kind == "upload":
            raw = upload_bytes(content_type, raw)
            params = {"file_id": rest, "length": str(len(raw))}
            call = RecordedCall("upload", params, None, now, path=url.path)
        else:
            return text_reply(404, "not found")
        fault = self._take_fault(call.method)
        if fault is not None:
            reply = _fault_reply(fault)
            call.response = json.loads(reply[2])
            call.error = call.response["error"]
        elif kind == "api":
            reply = self._api_reply(call)
        elif kind == "response":
            reply = self._response_reply(call, rest)
        else:
            reply = self._upload_reply(call, rest, raw)
        with self._lock:
            self._calls.append(call)
        delay = self._take_delay(call.method)
        if delay:
            time.sleep(delay)
        return reply

    def _api_reply(self, call: RecordedCall) -> Reply:
        if call.token is None and call.method != "oauth.v2.access":
            call.response = {"ok": False, "error": "not_authed"}
        else:
            call.response = self.api.call(call.method, call.params)
        if not call.response.get("ok"):
            call.error = str(call.response.get("error"))
        return json_reply(200, call.response)

    def _response_reply(self, call: RecordedCall, hook: str) -> Reply:
        with self._lock:
            uses = self._response_uses.get(hook)
            if uses is None or uses >= _RESPONSE_URL_USES:
                call.error = "used_url"
                return text_reply(404, "used_url")
            self._response_uses[hook] = uses + 1
        return text_reply(200, "ok")

    def _upload_reply(self, call: RecordedCall, file_id: str, data: bytes) -> Reply:
        if not self.api.store_upload(file_id, data):
            call.error = "file_not_found"
            return text_reply(404, "file_not_found")
        with self._lock:
            self.uploads.append(data)
        return text_reply(200, f"OK - {len(data)}")

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault

    def _take_delay(self, method: str) -> float:
        with self._lock:
            queue = self._delays.get(method)
            if not queue:
                return 0.0
            delay = queue[0]
            delay.remaining -= 1
            if delay.remaining <= 0:
                queue.pop(0)
            return delay.seconds

    def _track(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta


def _fault_reply(fault: _Fault) -> Reply:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    error = fault.error or ("ratelimited" if fault.status == 429 else "fatal_error")
    if fault.status == 429:
        # Slack always names a wait on 429; slack_sdk's RateLimitErrorRetryHandler reads it.
        headers.setdefault("Retry-After", "1")
    return json_reply(fault.status, {"ok": False, "error": error}, headers)
