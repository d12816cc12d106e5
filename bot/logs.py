"""Logging for the long-running processes: one JSON object per line, one line per request, and a
filter that keeps secrets (Slack tokens, e-mail addresses, API keys, configured secrets) out.

Request lines carry a request id, the workspace and user ids, the kind of request (the
subcommand, action id, view callback id or event type; never the text a person typed), the
HTTP status and the latency in milliseconds.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest

from bot.metrics import Metrics
from bot.request_body import MalformedBody
from handlers.parsing import parse_slash_text

REDACTED = "[redacted]"
# Slack tokens: xoxb-/xoxp-/xoxa-/xoxr-/xoxe- (refresh), xoxe.xoxb- (rotating), xapp- (app-level).
_SLACK_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp)[.-][A-Za-z0-9._-]*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Secrets that travel in query strings or forms (OpenAlex api_key, OAuth code and secrets).
_PARAM = re.compile(
    r"(?<![\w-])((?:api_key|client_secret|code|refresh_token|token|password)=)[^&\s\"']+", re.IGNORECASE
)
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^@\s/]+@")
# Configured secrets shorter than this are not worth a blind substring replace.
_MIN_LITERAL = 8

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("bzpeer_request_id", default=None)
request_log = logging.getLogger("bzpeer.request")


def redact(text: str, literals: Iterable[str] = ()) -> str:
    """`text` with tokens, e-mail addresses and the given secret values replaced."""
    for literal in literals:
        text = text.replace(literal, REDACTED)
    text = _SLACK_TOKEN.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    text = _PARAM.sub(rf"\1{REDACTED}", text)
    return _EMAIL.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites every record that reaches the handler it is attached to (message, arguments,
    traceback, structured fields) so that no secret is formatted."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self._literals = sorted(
            {
                s.strip()
                for value in secrets
                if value
                for s in value.split(",")
                if len(s.strip()) >= _MIN_LITERAL
            },
            key=len,
            reverse=True,
        )

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string must still not leak its arguments
            message = str(record.msg)
        record.msg, record.args = redact(message, self._literals), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._literals)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._literals)
        fields = getattr(record, "bzpeer", None)
        if isinstance(fields, dict):
            record.bzpeer = {
                key: redact(value, self._literals) if isinstance(value, str) else value
                for key, value in fields.items()
            }
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, pid, the record's `bzpeer` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "bzpeer", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format for people at a terminal, with structured fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "bzpeer", None)
        if isinstance(fields, dict) and fields:
            head, sep, tail = line.partition("\n")
            pairs = " ".join(f"{key}={value}" for key, value in fields.items())
            line = f"{head} {pairs}{sep}{tail}"
        return line


def configure_logging(*, json_lines: bool, level: int, secrets: Iterable[str | None] = ()) -> logging.Handler:
    """Install the one stderr handler of this process on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_bzpeer", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))
    handler._bzpeer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def request_kind(body: dict[str, Any]) -> str:
    """What a Slack request asked for, without the words a person typed; whatever the body holds
    (it is logged for unsigned requests too), this never raises."""
    if isinstance(body, MalformedBody):
        return "malformed body"
    if "command" in body:
        return f"{_text(body.get('command'))} {parse_slash_text(_text(body.get('text')) or '').kind}"
    kind = _text(body.get("type")) or "unknown"
    if kind == "event_callback":
        return f"event {_text(_object(body.get('event')).get('type'))}"
    if kind in ("block_actions", "block_suggestion"):
        actions = body.get("actions")
        first = _object(actions[0]) if isinstance(actions, list) and actions else body
        return f"{'action' if kind == 'block_actions' else 'options'} {_text(first.get('action_id'))}"
    if kind in ("view_submission", "view_closed"):
        return f"view {_text(_object(body.get('view')).get('callback_id'))}"
    if kind in ("shortcut", "message_action"):
        return f"shortcut {_text(body.get('callback_id'))}"
    if body.get("ssl_check"):
        return "ssl_check"
    return kind


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def log_request(*, started: float, status: int, kind: str, **fields: Any) -> None:
    """The one line of a finished request."""
    entry = {"kind": kind, "status": status, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    entry.update({key: value for key, value in fields.items() if value is not None})
    request_log.info("request", extra={"bzpeer": entry})


class LoggingApp(App):
    """Bolt's App, logging one line per dispatched request (commands, interactivity, events),
    including those refused by signature verification, and counting it in `metrics` when set."""

    metrics: Metrics | None = None

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        request_id = new_request_id()
        req.context["request_id"] = request_id
        reset = request_id_var.set(request_id)
        status = 500
        try:
            response = super().dispatch(req)
            status = response.status
            return response
        finally:
            retry = req.headers.get("x-slack-retry-num", [None])[0]
            kind = request_kind(req.body)
            if self.metrics is not None:
                self.metrics.observe_request(kind, status, time.perf_counter() - started)
            log_request(
                started=started,
                status=status,
                kind=kind,
                request_id=request_id,
                team_id=req.context.team_id,
                user_id=req.context.user_id,
                retry=retry,
                duplicate=True if req.context.get("duplicate") else None,
                problem=req.body.reason if isinstance(req.body, MalformedBody) else None,
            )
            request_id_var.reset(reset)


def new_request_id() -> str:
    """A short random id that ties a request's log lines together."""
    return uuid.uuid4().hex[:16]
