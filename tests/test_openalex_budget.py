"""Issue 14, finding 5: a look-up a person waits on gives up on a slow OpenAlex within 10 s.

OpenAlex here accepts every request and never answers (tests/fake_openalex.SilentOpenAlex), on
a clock of its own, so "10 seconds" is measured without anyone waiting for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, select

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from handlers.ids import Action
from services.openalex.author_lookup import LOOKUP_BUDGET_SECONDS
from services.openalex.client import OpenAlexClient
from services.openalex.records import OpenAlexTooSlow, OpenAlexUnavailable
from services.store.models import Researcher
from tests.fake_openalex import FakeOpenAlex, SilentOpenAlex, fixture
from tests.slack_support import SlackDriver, all_text

MEARMAN = "A5017898742"
SLOW = "OpenAlex is slow right now; please try again in a minute."


@pytest.fixture
def silent() -> SilentOpenAlex:
    return SilentOpenAlex()


@pytest.fixture
def runtime(settings: Settings, openalex: FakeOpenAlex, silent: SilentOpenAlex) -> Iterator[Runtime]:
    """The conftest runtime, its OpenAlex client on the silent OpenAlex's clock."""
    client = OpenAlexClient(
        settings.openalex_url, transport=openalex.transport(), clock=silent.clock, sleep=silent.sleep
    )
    runtime = build_runtime(settings, openalex=client)
    runtime.services.demo.load()
    yield runtime
    runtime.close()


def test_a_look_up_by_name_gives_up_within_the_budget_and_says_openalex_is_slow(
    driver: SlackDriver, openalex: FakeOpenAlex, silent: SilentOpenAlex
) -> None:
    openalex.add_callable("/autocomplete/authors", silent.handle)

    driver.command("Joseph Mearman")  # nobody in the store: the reply offers a look-up
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')

    reply = driver.last_reply()
    assert SLOW in all_text(reply) and reply["replace_original"] is True
    assert "error id" not in all_text(reply)
    assert silent.now <= LOOKUP_BUDGET_SECONDS <= 10
    # No request waited longer than the budget: not background work's 30 s read timeout.
    assert max(silent.read_timeouts) <= LOOKUP_BUDGET_SECONDS


def test_the_budget_covers_the_whole_import_not_each_request(
    driver: SlackDriver, openalex: FakeOpenAlex, silent: SilentOpenAlex, runtime: Runtime
) -> None:
    def author_after_six_seconds(request: httpx.Request) -> httpx.Response:
        silent.now += 6
        return httpx.Response(200, json=fixture("author_A5017898742.json"))

    openalex.add_callable(f"/authors/{MEARMAN}", author_after_six_seconds)
    openalex.add_callable("/works", silent.handle)

    driver.press(Action.OPENALEX_IMPORT, f'{{"a": "{MEARMAN}"}}')

    assert SLOW in all_text(driver.last_reply())
    assert silent.now <= LOOKUP_BUDGET_SECONDS
    assert silent.read_timeouts[0] == LOOKUP_BUDGET_SECONDS - 6
    with Session(runtime.services.engine) as session:  # nothing half-imported
        assert session.exec(select(Researcher).where(Researcher.openalex_id == MEARMAN)).first() is None


def test_background_work_keeps_its_patient_retries(silent: SilentOpenAlex) -> None:
    # The refresh job and `bzpeer import` have nobody waiting: four attempts, 30 s each.
    client = OpenAlexClient(
        "https://openalex.test",
        transport=httpx.MockTransport(silent.handle),
        clock=silent.clock,
        sleep=silent.sleep,
    )
    with pytest.raises(OpenAlexUnavailable) as raised:
        client.get_author(MEARMAN)
    client.close()

    assert not isinstance(raised.value, OpenAlexTooSlow)
    assert "it timed out, 4 attempts" in raised.value.user_message
    assert silent.read_timeouts == [30.0] * 4 and silent.now == 123.5


def test_a_budget_is_the_typed_error_handlers_already_explain(silent: SilentOpenAlex) -> None:
    client = OpenAlexClient(
        "https://openalex.test",
        transport=httpx.MockTransport(silent.handle),
        clock=silent.clock,
        sleep=silent.sleep,
    )
    with pytest.raises(OpenAlexUnavailable) as raised, client.time_budget(4):
        client.search_authors("Joseph Mearman")
    client.close()

    assert isinstance(raised.value, OpenAlexTooSlow) and raised.value.user_message == SLOW
    assert silent.now <= 4
