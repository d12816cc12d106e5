"""The WSGI web process: Bolt's handler for /slack/events (and OAuth paths) plus /healthz."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from sqlalchemy.engine import Engine

StartResponse = Callable[..., Any]


class WebApp:
    """Routes /healthz here and everything else to Bolt."""

    def __init__(self, app: App, engine: Engine) -> None:
        self._slack = SlackRequestHandler(app, path="/slack/events")
        self._engine = engine

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            return self._health(start_response)
        return self._slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            status, body = "200 OK", {"status": "ok", "database": self._engine.dialect.name}
        except Exception as error:  # the probe reports any store failure as unhealthy
            status, body = (
                "503 Service Unavailable",
                {"status": "error", "error": type(error).__name__},
            )
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]
