"""The WSGI web process: Bolt's handler for /slack/events (and OAuth paths), /healthz,
/metrics, and ORCID sign-in (/orcid/start, /orcid/callback)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine

from bot.logs import log_request, new_request_id, request_id_var
from bot.metrics import Metrics
from bot.orcid_web import ORCID_PATHS, orcid_route
from services.collaboration.orcid_service import OrcidService
from services.store.health import check_writable

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
# The OAuth pages Bolt serves outside dispatch, logged here.
OAUTH_KINDS = {"/slack/install": "oauth install", "/slack/oauth_redirect": "oauth redirect"}


class WebApp:
    """Routes /healthz and /metrics here and everything else to Bolt."""

    def __init__(
        self,
        app: App,
        engine: Engine,
        *,
        metrics: Metrics | None = None,
        queue_depth: Callable[[], int] | None = None,
        orcid: OrcidService | None = None,
    ) -> None:
        self._slack = SlackRequestHandler(app, path="/slack/events")
        self._engine = engine
        self._metrics = metrics
        self._queue_depth = queue_depth
        self._orcid = orcid

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            return self._health(start_response)
        if path == "/metrics" and self._metrics is not None and environ.get("REQUEST_METHOD") == "GET":
            payload, content_type = self._metrics.scrape(self._queue_depth)
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
            return [payload]
        if path in ORCID_PATHS:
            return self._logged(
                "orcid", environ, start_response, lambda env, respond: orcid_route(self._orcid, env, respond)
            )
        if path in OAUTH_KINDS:
            return self._logged(OAUTH_KINDS[path], environ, start_response)
        started = time.perf_counter()
        refusal = _unreadable_body(environ)
        if refusal is not None:
            status, reason = refusal
            code = int(status[:3])
            if self._metrics is not None:
                self._metrics.observe_request("unreadable body", code, time.perf_counter() - started)
            log_request(started=started, status=code, kind="unreadable body", request_id=new_request_id())
            return _plain(start_response, status, reason)
        # POST /slack/events is logged by the app's dispatch (bot/logs.py LoggingApp).
        return self._slack(environ, start_response)

    def _logged(
        self, kind: str, environ: dict[str, Any], start_response: StartResponse, route: WSGIApp | None = None
    ) -> Iterable[bytes]:
        """Answer with `route` (default: Bolt's handler), with one request log line and the metric."""
        started, seen = time.perf_counter(), {"status": 500}
        reset = request_id_var.set(new_request_id())

        def recording(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *args)

        try:
            return (route or self._slack)(environ, recording)
        finally:
            if self._metrics is not None:
                self._metrics.observe_request(kind, seen["status"], time.perf_counter() - started)
            log_request(started=started, status=seen["status"], kind=kind, request_id=request_id_var.get())
            request_id_var.reset(reset)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            # Writable, not merely reachable: an event is only worth a 200 if it can be recorded.
            check_writable(self._engine)
            status, body = "200 OK", {"status": "ok", "database": self._engine.dialect.name}
        except Exception as error:  # the probe reports any store failure as unhealthy
            status, body = (
                "503 Service Unavailable",
                {"status": "error", "error": type(error).__name__},
            )
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


# Slack's largest payloads (a view_submission of a full modal) are tens of kilobytes.
MAX_BODY_BYTES = 1_000_000


def _unreadable_body(environ: dict[str, Any]) -> tuple[str, str] | None:
    """A body Slack never sends: too large (413) or not UTF-8 (400, where Bolt's adapter would
    raise and answer 500). Otherwise the body is put back for Bolt and None is returned."""
    if environ.get("REQUEST_METHOD") != "POST":
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "bad Content-Length"
    if length > MAX_BODY_BYTES:
        return "413 Content Too Large", "request body too large"
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "400 Bad Request", "request body is not UTF-8"
    return None


def _plain(start_response: StartResponse, status: str, text: str) -> Iterable[bytes]:
    payload = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
    return [payload]
