"""Slow upstream calls run side by side: one user's OpenAlex look-up never queues another's
while the look-up pool has room."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from slack_bolt.request import BoltRequest

from bot.app import InlineExecutor, build_bolt_app
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from handlers.ids import Action
from services.research.papers import PaperService
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex
from tests.process_support import wait_until
from tests.slack_support import SlackDriver, all_text

PRESSES = 16  # the head-of-line scenario; Bolt's own listener pool holds 5


def test_sixteen_slow_lookups_reach_openalex_at_once(
    runtime: Runtime, local_slack: LocalSlack, openalex: FakeOpenAlex
) -> None:
    # Every look-up waits at the stand-in until all 16 are there; had the look-up pool fewer
    # threads than BZPEER_LOOKUP_THREADS says, the barrier would break and the look-ups would
    # answer "unavailable". Sixteen members: each may have two look-ups in flight.
    everyone_in = threading.Barrier(PRESSES, timeout=30)

    def autocomplete(_: httpx.Request) -> httpx.Response:
        try:
            everyone_in.wait()
        except threading.BrokenBarrierError:
            return httpx.Response(503, text="<html>busy</html>")
        return httpx.Response(200, json={"meta": {"count": 0}, "results": []})

    openalex.add_callable("/autocomplete/authors", autocomplete)
    # Acks come back before the listeners finish, as in production.
    settings = runtime.settings.model_copy(update={"bzpeer_lookup_threads": PRESSES})
    app = build_bolt_app(settings, runtime.services)
    driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
    acks: list[int] = []

    def press(n: int) -> None:
        value = json.dumps({"q": f"Nobody Here {n}"})
        acks.append(driver.press(Action.OPENALEX_LOOKUP, value, user_id=f"U0MEMBER{n}").status)

    threads = [threading.Thread(target=press, args=(n,)) for n in range(PRESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert acks == [200] * PRESSES
    # "Looking up…" then the answer, for each press.
    assert wait_until(lambda: len(driver.replies()) == 2 * PRESSES, timeout=60)
    answers = sorted(all_text(r).split("\n")[0] for r in driver.replies() if "Looking up" not in all_text(r))
    assert answers == sorted(f"OpenAlex has no author matching “Nobody Here {n}”." for n in range(PRESSES))
    assert not everyone_in.broken


def test_a_slash_command_is_acknowledged_before_its_work_runs(
    runtime: Runtime, local_slack: LocalSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The work waits until the test has seen the ack: were the ack after the work, dispatch
    # would not return until the 30 s timeout.
    acked = threading.Event()
    follows = runtime.services.follows
    follow_query = follows.follow_query

    def slow_follow(*args: Any, **kwargs: Any) -> Any:
        assert acked.wait(timeout=30)
        return follow_query(*args, **kwargs)

    monkeypatch.setattr(follows, "follow_query", slow_follow)
    driver = SlackDriver(
        app=build_bolt_app(runtime.settings, runtime.services), local=local_slack, secret=SIGNING_SECRET
    )
    response = driver.command("follow Samyadeep Basu")  # a write: answered after the ack
    assert response.status == 200 and driver.replies() == []
    acked.set()
    assert wait_until(lambda: len(driver.replies()) == 1, timeout=30)
    assert "You now follow *Samyadeep Basu*" in all_text(driver.last_reply())


def test_a_command_that_fails_inside_its_ack_is_answered_after_it(
    runtime: Runtime, local_slack: LocalSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A card is answered inside the ack; when that read fails (a statement timeout on the ack
    # engine, say), the ack is empty and the listener pool answers instead.
    find, calls = PaperService.find, []

    def fails_once(self: PaperService, *args: Any, **kwargs: Any) -> Any:
        calls.append(self)
        if len(calls) == 1:
            raise RuntimeError("canceling statement due to statement timeout")
        return find(self, *args, **kwargs)

    monkeypatch.setattr(PaperService, "find", fails_once)
    app = build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor())
    driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
    response = driver.command("papers Samyadeep Basu")
    assert response.status == 200 and not response.body  # the ack carried nothing
    assert len(calls) == 2 and len(driver.replies()) == 1
    assert "published items" in all_text(driver.last_reply())


def test_a_failing_background_listener_still_answers_with_an_error_id(
    driver: SlackDriver, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("store went away")

    # Inside the ack it fails first, then again on the listener pool, which reports it.
    monkeypatch.setattr(PaperService, "find", broken)
    assert driver.command("papers Samyadeep Basu").status == 200
    text = all_text(driver.last_reply())
    assert "Something went wrong" in text or "something went wrong" in text
    error_id = text.split("error id `")[1].split("`")[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_an_ack_never_waits_for_a_connection_the_work_holds(
    runtime: Runtime, local_slack: LocalSlack
) -> None:
    engine = runtime.services.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the dedupe check shares the one pool (one box, one file)")
    app = build_bolt_app(runtime.settings, runtime.services)
    driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
    # The process's first request also marks the workspace installed (once per process).
    assert driver.command("help").status == 200
    assert wait_until(lambda: len(driver.replies()) == 1, timeout=30)
    local_slack.clear()
    # Listener threads busy with work can hold every connection of the main pool.
    settings = runtime.settings
    held = [engine.connect() for _ in range(settings.database_pool_size + settings.database_max_overflow)]
    try:
        # A read answered inside the ack takes the ack engine's connections: answered at once.
        papers = driver.command("papers Samyadeep Basu")
        assert papers.status == 200 and "published items" in all_text(driver.last_reply())
        local_slack.clear()
        assert driver.command("follow Samyadeep Basu").status == 200
        assert driver.replies() == []  # the work is still waiting for a connection
    finally:
        for connection in held:
            connection.close()
    assert wait_until(lambda: len(driver.replies()) == 1, timeout=30)


def test_over_socket_mode_a_card_comes_in_the_acks_payload(runtime: Runtime, local_slack: LocalSlack) -> None:
    # Socket Mode sends the ack's body back as the envelope's payload, which Slack shows as the
    # reply; nothing reaches the response_url.
    app = build_bolt_app(
        runtime.settings, runtime.services, listener_executor=InlineExecutor(), socket_mode=True
    )
    body = {
        "command": "/peer",
        "text": "Samyadeep Basu",
        "team_id": "T0TEAM1",
        "user_id": "U0ALICE",
        "channel_id": "C0GENERAL",
        "response_url": local_slack.response_url(),
        "trigger_id": "1.2.socket",
    }
    response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert response.status == 200
    assert "Samyadeep Basu: Trust 13" in all_text(json.loads(response.body))
    assert local_slack.calls_to("response_url") == []
