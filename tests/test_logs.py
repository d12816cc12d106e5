"""Logs: one JSON line per request with workspace, user, kind and latency, and never a secret
(tokens, e-mail addresses, API keys, configured secrets), in-process and from `bzpeer serve`."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.local.signed_requests import event_callback, signed_headers
from bot.local.slack_server import LocalSlack
from bot.logs import JsonFormatter, RedactingFilter, TextFormatter, configure_logging, redact
from tests.conftest import SIGNING_SECRET
from tests.oauth_support import CLIENT_ID, CLIENT_SECRET, event_headers, install_over_http
from tests.process_support import start_serve, wait_until
from tests.slack_support import SlackDriver, all_text

TOKENS = (
    "xoxb-1234-5678-AbCdEf",
    "xoxp-1-2-3-user",
    "xoxe.xoxb-1-MTIzNDU2",
    "xoxe-1-My0xLTEyMy1yZWZyZXNo",
    "xapp-1-A0APP-123-abc",
    "xoxa-2-legacy",
    "xoxr-refresh",
)


@pytest.mark.parametrize("token", TOKENS)
def test_slack_tokens_are_redacted(token: str) -> None:
    line = redact(f"calling chat.postMessage with {token}, then 'Bearer {token}'")
    assert token not in line and "xox" not in line and "xapp" not in line
    assert line.count("[redacted]") == 2


def test_emails_query_secrets_and_configured_values_are_redacted() -> None:
    line = redact(
        "user jane.doe+lab@example.ac.uk GET https://api.openalex.org/works?api_key=abcd1234&per_page=100 "
        "code=1234.5678.abcd postgresql://bzpeer:hunter2@db.internal/bzpeer the-signing-secret-value",
        ["the-signing-secret-value"],
    )
    for secret in (
        "jane.doe",
        "example.ac.uk",
        "abcd1234",
        "1234.5678.abcd",
        "hunter2",
        "the-signing-secret",
    ):
        assert secret not in line, line
    assert "per_page=100" in line and "api.openalex.org/works" in line


def _record(message: str, *args: Any, exc: BaseException | None = None, **fields: Any) -> logging.LogRecord:
    record = logging.LogRecord("bzpeer.test", logging.ERROR, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    if fields:
        record.bzpeer = fields
    return record


def test_the_filter_cleans_arguments_tracebacks_and_fields_before_any_formatter() -> None:
    try:
        raise RuntimeError("token xoxb-999-leak rejected for bob@example.org")
    except RuntimeError as error:
        record = _record("auth failed for %s", "xoxb-999-leak", exc=error, team_id="T1", note="mail a@b.io")
    assert RedactingFilter(["client-secret-value"]).filter(record)
    for formatter in (JsonFormatter(), TextFormatter()):
        out = formatter.format(record)
        assert "xoxb-999" not in out and "bob@example.org" not in out and "a@b.io" not in out, out
        assert "RuntimeError" in out and "T1" in out
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "auth failed for [redacted]" and entry["team_id"] == "T1"


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """The process logging as the CLI sets it up (JSON), written to a buffer."""
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = configure_logging(json_lines=True, level=logging.INFO, secrets=[SIGNING_SECRET])
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_every_request_logs_one_json_line_without_the_typed_text(
    driver: SlackDriver, captured_log: io.StringIO
) -> None:
    driver.command("Samyadeep Basu", team_id="T0LAB1", user_id="U0JANE")
    assert "Samyadeep Basu" in all_text(driver.last_reply())
    driver.command("jane.doe@example.org", team_id="T0LAB1", user_id="U0JANE")
    lines = [json.loads(line) for line in captured_log.getvalue().splitlines()]
    requests = [line for line in lines if line["logger"] == "bzpeer.request"]
    assert len(requests) == 2
    first = requests[0]
    assert first["kind"] == "/peer profile" and first["status"] == 200
    assert (first["team_id"], first["user_id"]) == ("T0LAB1", "U0JANE")
    assert isinstance(first["latency_ms"], float) and len(first["request_id"]) == 16
    assert requests[0]["request_id"] != requests[1]["request_id"]
    text = captured_log.getvalue()
    assert "Samyadeep" not in text and "jane.doe" not in text


def test_a_forged_request_is_logged_with_its_status(driver: SlackDriver, captured_log: io.StringIO) -> None:
    body = driver.command_body("Samyadeep Basu")
    headers = signed_headers("wrong-secret", body, content_type="application/x-www-form-urlencoded")
    assert driver.app.dispatch(_request(body, headers)).status == 401
    line = json.loads(captured_log.getvalue().splitlines()[-1])
    assert line["status"] == 401 and line["kind"] == "/peer profile"


def _request(body: str, headers: dict[str, str]) -> Any:
    from slack_bolt.request import BoltRequest

    return BoltRequest(body=body, headers=headers)


@pytest.mark.slow
def test_bzpeer_serve_in_oauth_mode_logs_json_and_no_secret(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    secret_key = Fernet.generate_key().decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=local_slack.url,
        BZPEER_SECRET_KEY=secret_key,
    )
    bzpeer = [sys.executable, "-m", "bot"]
    subprocess.run([*bzpeer, "demo"], env=env, check=True, cwd=tmp_path, capture_output=True)
    server, base = start_serve(env, tmp_path, workers=2)
    try:
        install_over_http(base, local_slack, code="code-one", team_id="T0LAB1", token="xoxb-lab1-secret")
        install_over_http(base, local_slack, code="code-two", team_id="T0LAB2", token="xoxb-lab2-secret")
        # An attacker-chosen OAuth error is logged, but never as given.
        failed = httpx.get(f"{base}/slack/oauth_redirect", params={"error": "xoxb-9-9 spy@example.org"})
        assert failed.status_code == 200
        driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
        for team in ("T0LAB1", "T0LAB2"):
            body = driver.command_body("Samyadeep Basu", team_id=team, user_id="U0SAME")
            headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
            assert httpx.post(f"{base}/slack/events", content=body, headers=headers).status_code == 200
        wait_until(lambda: len(driver.replies()) >= 2, timeout=10)
        assert all("Samyadeep Basu: Trust" in all_text(reply) for reply in driver.replies())
        assert sorted(
            c.token or "" for c in local_slack.calls_to("auth.test") if "lab" in (c.token or "")
        ) == [
            "xoxb-lab1-secret",
            "xoxb-lab1-secret",
            "xoxb-lab2-secret",
            "xoxb-lab2-secret",
        ]  # one at install (bot id) and one at the first command, per workspace
        body = event_callback("T0LAB1", {"type": "app_uninstalled"}, event_id="Ev0UNINSTALL")
        posted = httpx.post(f"{base}/slack/events", content=body, headers=event_headers(body))
        assert posted.status_code == 200
        time.sleep(0.5)  # events are acked first, handled right after
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=40)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line is JSON
    kinds = [line.get("kind") for line in lines if line["logger"] == "bzpeer.request"]
    for kind in ("oauth install", "oauth redirect", "/peer profile", "event app_uninstalled"):
        assert kind in kinds, kinds
    commands = [line for line in lines if line.get("kind") == "/peer profile"]
    assert {line["team_id"] for line in commands} == {"T0LAB1", "T0LAB2"}
    assert any(line["msg"] == "workspace parked" and line["team_id"] == "T0LAB1" for line in lines)
    assert any(line["logger"].startswith("gunicorn") for line in lines)
    for secret in ("xoxb-", "xoxe", "spy@example.org", CLIENT_SECRET, SIGNING_SECRET, secret_key, "code-one"):
        assert secret not in output, secret
