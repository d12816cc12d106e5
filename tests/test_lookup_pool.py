"""OpenAlex look-ups run on a bounded pool of their own, at most two per member at a time, so a
slow OpenAlex never holds up other commands (issue 14, finding 5).

OpenAlex is held (every request waits until the test lets it answer): what arrives meanwhile
arrived without waiting for a look-up. The app is built as a web process builds it, with both
pools sized through the settings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from alembic import command
from slack_bolt.request import BoltRequest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.app import build_bolt_app
from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from handlers.ids import Action
from handlers.values import LookupValue
from services.openalex.lookup_slots import HOLD_FOR, LookupSlots
from services.store.engine import alembic_config
from services.store.models import LookupSlot
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex
from tests.process_support import wait_until
from tests.slack_support import SlackDriver, all_text

FORM = "application/x-www-form-urlencoded"
LIMIT_TEXT = "You already have 2 OpenAlex look-ups running; wait for them to finish."


@pytest.fixture
def release(openalex: FakeOpenAlex) -> Iterator[threading.Event]:
    """OpenAlex answers "nobody by that name", but only once the test sets this."""
    answer = threading.Event()

    def held(_: httpx.Request) -> httpx.Response:
        answer.wait(timeout=60)
        return httpx.Response(200, json={"meta": {"count": 0}, "results": []})

    openalex.add_callable("/autocomplete/authors", held)
    yield answer
    answer.set()  # a failed test must not leave look-ups waiting


def _driver(
    runtime: Runtime, local: LocalSlack, *, listener_threads: int, lookup_threads: int
) -> SlackDriver:
    settings = runtime.settings.model_copy(
        update={"bzpeer_listener_threads": listener_threads, "bzpeer_lookup_threads": lookup_threads}
    )
    return SlackDriver(app=build_bolt_app(settings, runtime.services), local=local, secret=SIGNING_SECRET)


def _look_up(driver: SlackDriver, query: str, user_id: str) -> str:
    """Press "Look up on OpenAlex" as `user_id`; the response_url its answers go to."""
    body = driver.action_body(Action.OPENALEX_LOOKUP, LookupValue(query=query).dump(), user_id=user_id)
    headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
    assert driver.app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    return str(json.loads(parse_qs(body)["payload"][0])["response_url"])


def _texts(local: LocalSlack, response_url: str) -> list[str]:
    """What one press was answered, oldest first."""
    return [all_text(c.params) for c in local.calls_to("response_url") if response_url.endswith(c.path)]


def _answered(local: LocalSlack, response_url: str, query: str) -> bool:
    return any(f"OpenAlex has no author matching “{query}”" in text for text in _texts(local, response_url))


def _has(local: LocalSlack, response_url: str, words: str) -> Any:
    return lambda: any(words in text for text in _texts(local, response_url))


def test_help_is_answered_while_openalex_holds_every_lookup(
    runtime: Runtime, local_slack: LocalSlack, release: threading.Event
) -> None:
    driver = _driver(runtime, local_slack, listener_threads=2, lookup_threads=2)
    # As many look-ups as there are listener threads, and more: on one shared pool they would
    # hold every thread until OpenAlex answers.
    pressed = [(f"Nobody {n}", _look_up(driver, f"Nobody {n}", f"U0MEMBER{n}")) for n in range(4)]

    driver.command("help")

    assert wait_until(lambda: any("follow QUERY" in all_text(r) for r in driver.replies()), timeout=20)
    assert not any(_answered(local_slack, url, query) for query, url in pressed)  # all still held
    release.set()
    assert wait_until(lambda: all(_answered(local_slack, url, query) for query, url in pressed), timeout=30)


def test_a_member_has_at_most_two_lookups_in_flight(
    runtime: Runtime, local_slack: LocalSlack, release: threading.Event
) -> None:
    driver = _driver(runtime, local_slack, listener_threads=8, lookup_threads=4)
    first, second = _look_up(driver, "Ada One", "U0ALICE"), _look_up(driver, "Ada Two", "U0ALICE")
    third = _look_up(driver, "Ada Three", "U0ALICE")
    someone_else = _look_up(driver, "Bo One", "U0BOB")

    assert wait_until(_has(local_slack, third, LIMIT_TEXT), timeout=20)
    refusal = next(c.params for c in local_slack.calls_to("response_url") if third.endswith(c.path))
    assert refusal["replace_original"] is False  # the Look up button stays, to press again later
    release.set()
    assert wait_until(lambda: _answered(local_slack, first, "Ada One"), timeout=30)
    assert wait_until(lambda: _answered(local_slack, second, "Ada Two"), timeout=30)
    assert wait_until(lambda: _answered(local_slack, someone_else, "Bo One"), timeout=30)
    assert not any("OpenAlex" in text and "Ada Three" in text for text in _texts(local_slack, third))

    # Finished look-ups free their places.
    again = _look_up(driver, "Ada Three", "U0ALICE")
    assert wait_until(lambda: _answered(local_slack, again, "Ada Three"), timeout=30)
    assert not any(LIMIT_TEXT in text for text in _texts(local_slack, again))


def test_the_limit_holds_across_web_processes(
    runtime: Runtime, local_slack: LocalSlack, release: threading.Event
) -> None:
    # Two apps on one store, as two gunicorn workers are: a member's presses land on either.
    one = _driver(runtime, local_slack, listener_threads=4, lookup_threads=2)
    other = _driver(runtime, local_slack, listener_threads=4, lookup_threads=2)
    first, second = _look_up(one, "Ada One", "U0ALICE"), _look_up(other, "Ada Two", "U0ALICE")
    third = _look_up(other, "Ada Three", "U0ALICE")

    assert wait_until(_has(local_slack, third, LIMIT_TEXT), timeout=20)
    release.set()
    assert wait_until(lambda: _answered(local_slack, first, "Ada One"), timeout=30)
    assert wait_until(lambda: _answered(local_slack, second, "Ada Two"), timeout=30)
    assert not any(LIMIT_TEXT in text for url in (first, second) for text in _texts(local_slack, url))

    # Given back in the store once done: the next press, in either process, runs.
    again = _look_up(one, "Ada Three", "U0ALICE")
    assert wait_until(lambda: _answered(local_slack, again, "Ada Three"), timeout=30)


def test_a_slot_whose_process_died_is_free_again_after_its_hold(runtime: Runtime) -> None:
    slots = runtime.services.lookup_slots
    taken_at = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)
    assert slots.take("T0TEAM1", "U0ALICE", now=taken_at) is not None
    assert slots.take("T0TEAM1", "U0ALICE", now=taken_at) is not None
    assert slots.take("T0TEAM1", "U0ALICE", now=taken_at + timedelta(minutes=1)) is None
    # Nobody gave them back (the process was killed): after HOLD_FOR they are free again.
    assert slots.take("T0TEAM1", "U0ALICE", now=taken_at + HOLD_FOR + timedelta(seconds=1)) is not None


def test_a_full_lookup_pool_says_queued_then_busy(
    runtime: Runtime, local_slack: LocalSlack, release: threading.Event
) -> None:
    driver = _driver(runtime, local_slack, listener_threads=8, lookup_threads=1)
    running = _look_up(driver, "Member 0", "U0MEMBER0")
    assert wait_until(_has(local_slack, running, "Looking up “Member 0” on OpenAlex"), timeout=20)
    # One thread: four more may wait their turn, each told where it stands; the sixth is refused.
    waiting = [_look_up(driver, f"Member {n}", f"U0MEMBER{n}") for n in range(1, 5)]
    refused = _look_up(driver, "Member 5", "U0MEMBER5")

    assert wait_until(
        _has(local_slack, waiting[0], "yours is queued and starts as soon as one is free"), timeout=20
    )
    assert wait_until(_has(local_slack, waiting[3], "yours is queued behind 3 others"), timeout=20)
    assert wait_until(_has(local_slack, refused, "BZPEER is busy with other OpenAlex look-ups"), timeout=20)
    release.set()
    for n, url in enumerate([running, *waiting]):
        assert wait_until(lambda url=url, n=n: _answered(local_slack, url, f"Member {n}"), timeout=30)
    assert not _answered(local_slack, refused, "Member 5")


def test_migration_0006_creates_and_drops_the_slots(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0005")
    assert "lookup_slot" not in inspect(engine).get_table_names()
    command.upgrade(config, "head")
    assert LookupSlots(engine).take("T0TEAM1", "U0ALICE") is not None


def test_forgetting_a_member_frees_their_slots(runtime: Runtime) -> None:
    slots = runtime.services.lookup_slots
    assert slots.take("T0TEAM1", "U0ALICE") and slots.take("T0TEAM1", "U0ALICE")
    assert slots.take("T0TEAM1", "U0BOB") is not None

    runtime.services.privacy.forget_member("T0TEAM1", "U0ALICE")

    with Session(runtime.services.engine) as session:
        left = session.exec(select(LookupSlot.team_id, LookupSlot.user_id)).all()
    assert left == [("T0TEAM1", "U0BOB")]
