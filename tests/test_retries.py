"""Slack retries and replays never act twice (across processes, through the slack_event table),
and a web process stopped with SIGTERM finishes the work it has started."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import event_callback, signed_headers
from bot.local.slack_server import LocalSlack
from bot.middleware import delivery_key
from bot.runtime import Runtime, build_runtime
from handlers.ids import Action
from handlers.values import LookupValue
from services.slack_requests.dedupe import DedupeService
from services.store.models import utcnow
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.oauth_support import event_headers
from tests.process_support import start_serve, wait_until
from tests.slack_support import SlackDriver, all_text

FORM = "application/x-www-form-urlencoded"


def _counting_app(runtime: Runtime) -> tuple[App, list[str]]:
    app = build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor())
    seen: list[str] = []

    @app.event("reaction_added")
    def count(event: dict[str, Any]) -> None:
        seen.append(event["reaction"])

    return app, seen


def _event(app: App, event_id: str, *, retry: int | None = None, reaction: str = "tada") -> int:
    body = event_callback("T0TEAM1", {"type": "reaction_added", "reaction": reaction}, event_id=event_id)
    return app.dispatch(BoltRequest(body=body, headers=event_headers(body, retry=retry))).status


def test_a_retried_or_replayed_event_acts_once(runtime: Runtime) -> None:
    app, seen = _counting_app(runtime)
    assert _event(app, "Ev0001") == 200
    assert _event(app, "Ev0001", retry=1) == 200  # Slack's retry of the same delivery
    assert _event(app, "Ev0001") == 200  # a replay without the header
    assert _event(app, "Ev0002", reaction="eyes") == 200
    assert seen == ["tada", "eyes"]


def test_a_retry_whose_first_attempt_never_arrived_acts_once(runtime: Runtime) -> None:
    app, seen = _counting_app(runtime)
    assert _event(app, "Ev0LOST", retry=1) == 200
    assert _event(app, "Ev0LOST", retry=2) == 200
    assert seen == ["tada"]


def test_another_web_process_sees_the_delivery_too(runtime: Runtime, settings: Any) -> None:
    app, seen = _counting_app(runtime)
    other_process = build_runtime(settings, migrate=False)
    try:
        other_app, other_seen = _counting_app(other_process)
        assert _event(app, "Ev0SHARED") == 200
        assert _event(other_app, "Ev0SHARED", retry=1) == 200
        assert (seen, other_seen) == (["tada"], [])
    finally:
        other_process.close()


def test_a_replayed_command_answers_once(driver: SlackDriver) -> None:
    body = driver.command_body("Samyadeep Basu")
    for retry in ({}, {"x-slack-retry-num": "1"}):
        assert driver.dispatch(body, extra_headers=retry).status == 200
    assert len(driver.replies()) == 1
    assert "Samyadeep Basu" in all_text(driver.last_reply())
    driver.command("Samyadeep Basu")  # a new invocation (new trigger_id) is answered
    assert len(driver.replies()) == 2


def test_a_replayed_button_press_acts_once(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    why = next(b for b in _buttons(driver.last_reply()) if b["action_id"] == Action.WHY_SCORE)
    body = driver.action_body(why["action_id"], why["value"])
    for _ in range(2):
        headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
        assert driver.app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    assert len(driver.replies()) == 2  # the card, then one breakdown


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in message.get("blocks", []):
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.append(element)
    return found


def test_delivery_keys() -> None:
    event = {"type": "event_callback", "event_id": "Ev9", "event": {"type": "app_home_opened"}}
    assert delivery_key(event) == "event:Ev9"
    command = {"command": "/peer", "team_id": "T1", "user_id": "U1", "trigger_id": "1.2.3", "text": "x"}
    assert delivery_key(command) == "command:T1:U1:1.2.3"
    press = {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": "U1", "team_id": "T1"},
        "trigger_id": "4.5.6",
        "actions": [{"action_id": "a", "action_ts": "1700000000.1"}],
    }
    assert delivery_key(press) == "block_actions:T1:U1:4.5.6:1700000000.1"
    # Option look-ups change nothing and carry no trigger: never deduplicated.
    assert delivery_key({"type": "block_suggestion", "action_id": "a", "value": "x"}) is None
    assert len(delivery_key({**command, "trigger_id": "9" * 400}) or "") <= 255


def test_old_keys_expire(engine: Any) -> None:
    dedupe = DedupeService(engine)
    long_ago = utcnow() - timedelta(days=2)
    assert dedupe.first_sighting("event:old", now=long_ago)
    assert dedupe.first_sighting("event:new")
    assert dedupe.purge(before=utcnow() - timedelta(days=1)) == 1
    assert dedupe.first_sighting("event:old")  # forgotten, so new again
    assert not dedupe.first_sighting("event:new")


# Graceful shutdown ---------------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_lets_in_flight_work_finish(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    """An OpenAlex look-up that takes 2 s is under way when the web process gets SIGTERM: the
    user still gets their card, and the process exits cleanly afterwards."""
    openalex = FakeOpenAlex()

    def slow_author(_: httpx.Request) -> httpx.Response:
        time.sleep(2)
        return httpx.Response(200, json=fixture("author_A5017898742.json"))

    openalex.add_callable("/authors/A5017898742", slow_author)
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
    with openalex.serve() as openalex_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "OPENALEX_"))}
        env.update(
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=local_slack.url,
            OPENALEX_URL=openalex_url,
        )
        server, base = start_serve(env, tmp_path)
        try:
            driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
            body = driver.action_body(Action.OPENALEX_LOOKUP, LookupValue(query="A5017898742").dump())
            headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
            # The ack comes back at once; the look-up goes on in the worker.
            assert (
                httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=5).status_code
                == 200
            )
            wait_until(lambda: bool(driver.replies()), timeout=5)
            assert "Looking up" in all_text(driver.last_reply())
            server.send_signal(signal.SIGTERM)
            output, _ = server.communicate(timeout=40)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    assert server.returncode == 0, output
    final = driver.last_reply()
    assert "Joseph Mearman" in all_text(final), output
    assert "8 works" in all_text(final)
