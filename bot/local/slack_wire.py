"""HTTP plumbing for LocalSlack: a loopback server and Slack's request body formats."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import sys
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

# Form fields Slack expects as JSON strings inside form-encoded bodies.
_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata", "unfurls"})

Reply = tuple[int, dict[str, str], bytes]
Answer = Callable[[str, Message, bytes], Reply]


def json_reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    """A JSON reply, as the Web API sends."""
    head = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return status, head, json.dumps(body).encode()


def text_reply(status: int, text: str) -> Reply:
    """A plain-text reply, as webhooks and upload URLs send."""
    return status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()


def parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """Decode a form, multipart or JSON body; JSON-string fields like `blocks` are decoded."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        loaded = json.loads(raw or b"{}")
        return loaded if isinstance(loaded, dict) else {"_body": loaded}
    if kind == "multipart/form-data":
        params = parse_multipart(content_type, raw)
    else:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in "[{":
            # Undecodable JSON stays a string, as Slack would then reject it.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """The fields of a multipart/form-data body; file parts stay bytes."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            params[name] = payload if part.get_filename() else payload.decode("utf-8")
    return params


def upload_bytes(content_type: str, raw: bytes) -> bytes:
    """The file bytes of an upload: slack_sdk posts them raw, other clients as multipart."""
    if not content_type.startswith("multipart/form-data"):
        return raw
    parts = parse_multipart(content_type, raw)
    return next((value for value in parts.values() if isinstance(value, bytes)), raw)


def bearer(headers: Message, params: dict[str, Any]) -> str | None:
    """The token of a Web API call: the Authorization header, else a `token` field."""
    auth = headers.get("Authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    token = params.get("token")
    return token if isinstance(token, str) and token else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the shell owns the console."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        self.server.track(+1)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                status, headers, body = self.server.answer(self.path, self.headers, raw)
            except Exception as exc:  # a bug here must reach the client, not hang it
                status, headers, body = json_reply(500, {"ok": False, "error": repr(exc)})
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        finally:
            self.server.track(-1)


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 and a free port; `answer` builds every reply."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: a burst of replies from many threads overflows
    # it, and each dropped SYN costs the sender a 1 s retransmission.
    request_queue_size = 128

    def __init__(self, answer: Answer, track: Callable[[int], None]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.track = track

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up before its answer was written (timed out, or killed
        # mid-request, as benchmarks/chaos.py does) is not a server error worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def port(self) -> int:
        """The port the system picked."""
        return int(self.server_address[1])
