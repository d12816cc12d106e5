"""The HTTP contract: /healthz, /slack/events through WSGI, and `bzpeer serve` as a real process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from bot.web import WebApp
from tests.conftest import SIGNING_SECRET
from tests.process_support import bot_env, start_serve
from tests.slack_support import SlackDriver, all_text


def _call(
    app: WebApp, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = status, dict(response_headers)

    body_out = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body_out


def test_healthz_reports_the_store(runtime: Runtime) -> None:
    app = WebApp(build_bolt_app(runtime.settings, runtime.services), runtime.services.engine)
    status, headers, body = _call(app, "GET", "/healthz")
    assert status.startswith("200") and headers["Content-Type"] == "application/json"
    assert json.loads(body)["status"] == "ok"


def test_slack_events_path_answers_signed_commands(runtime: Runtime, driver: SlackDriver) -> None:
    app = WebApp(
        build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor()),
        runtime.services.engine,
    )
    body = driver.command_body("Samyadeep Basu")
    headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
    headers["Content-Type"] = headers.pop("content-type")
    status, _, ack = _call(app, "POST", "/slack/events", body.encode(), headers)
    assert status.startswith("200")
    assert "Trust 13 - Unverified" in all_text(json.loads(ack))  # the card comes in the ack
    headers["x-slack-signature"] = "v0=" + "0" * 64
    status, _, _ = _call(app, "POST", "/slack/events", body.encode(), headers)
    assert status.startswith("401")


@pytest.mark.slow
def test_bzpeer_serve_answers_a_signed_command_over_http(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    env = bot_env(database_url, local_slack.url, SIGNING_SECRET)
    bzpeer = [sys.executable, "-m", "bot"]
    subprocess.run([*bzpeer, "demo"], env=env, check=True, cwd=tmp_path, capture_output=True)
    server, base = start_serve(env, tmp_path)
    try:
        driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
        body = driver.command_body("Samyadeep Basu")
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
        ack = httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=5)
        assert ack.status_code == 200
        assert "Trust 13 - Unverified" in all_text(ack.json())  # the card comes in the ack
        stale = signed_headers(
            SIGNING_SECRET,
            body,
            content_type="application/x-www-form-urlencoded",
            timestamp=int(time.time()) - 600,
        )
        assert httpx.post(f"{base}/slack/events", content=body, headers=stale, timeout=5).status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
