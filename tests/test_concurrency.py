"""Slow upstream calls run side by side: one user's OpenAlex look-up never queues another's."""

from __future__ import annotations

import json
import threading

import httpx

from bot.app import build_bolt_app
from bot.local_slack import LocalSlack
from bot.runtime import Runtime
from handlers.ids import Action
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex
from tests.process_support import wait_until
from tests.slack_support import SlackDriver, all_text

PRESSES = 16  # the head-of-line scenario; Bolt's own listener pool holds 5


def test_sixteen_slow_lookups_reach_openalex_at_once(
    runtime: Runtime, local_slack: LocalSlack, openalex: FakeOpenAlex
) -> None:
    # Every look-up waits at the stand-in until all 16 are there; had the listener pool fewer
    # threads, the barrier would break and the look-ups would answer "unavailable".
    everyone_in = threading.Barrier(PRESSES, timeout=30)

    def autocomplete(_: httpx.Request) -> httpx.Response:
        try:
            everyone_in.wait()
        except threading.BrokenBarrierError:
            return httpx.Response(503, text="<html>busy</html>")
        return httpx.Response(200, json={"meta": {"count": 0}, "results": []})

    openalex.add_callable("/autocomplete/authors", autocomplete)
    # Acks come back before the listeners finish, as in production.
    app = build_bolt_app(runtime.settings, runtime.services)
    driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
    acks: list[int] = []

    def press(n: int) -> None:
        acks.append(driver.press(Action.OPENALEX_LOOKUP, json.dumps({"q": f"Nobody Here {n}"})).status)

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
