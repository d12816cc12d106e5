"""Upstream faults: OpenAlex (500, 503, timeout, malformed JSON, HTML 404, 429 with a long
Retry-After) during an import from Slack or the command line and during refresh, and Slack
(429, 500, unreachable, channel_not_found, user_not_found) during digest delivery.

Each fault ends in a clear message or log line, leaves no half-written rows, and the next
attempt (or cycle) picks up where it stopped.

Already proven elsewhere, not repeated: the client's retry/backoff per status
(test_openalex_client), page-two 503/429 during an import (test_importer), HTML 404 and 429 on a
Slack look-up (test_openalex_lookup), CLI 404/429 (test_cli), refresh 429 at batch 2 and a 503
batch (test_refresh), Slack 429 retried, 500 kept pending, user_not_found/channel_not_found
parked (test_digests).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_server import LocalSlack
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from handlers.ids import Action
from services.digests.delivery import DigestService
from services.digests.refresh import RefreshService
from services.openalex.client import OpenAlexClient
from services.store.models import Authorship, Researcher, Work
from tests.digest_support import T0, add_member, author_id, follow, ledger_rows
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.openalex_works import WorksStandIn, work_json
from tests.slack_support import SlackDriver, all_text
from tests.store_support import add_researcher

MEARMAN = "A5017898742"
Responder = Callable[[httpx.Request], httpx.Response]


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


FAULTS: dict[str, Responder] = {
    "500": lambda _: httpx.Response(500, text="Internal Server Error"),
    "503": lambda _: httpx.Response(503, text="<html>Service Unavailable</html>"),
    "timeout": _timeout,
    "malformed JSON": lambda _: httpx.Response(
        200, text='{"meta": {"count": 1}, "results": [{"id": ', headers={"content-type": "application/json"}
    ),
    "HTML 404": lambda _: httpx.Response(
        404, text="<html><body>Not Found</body></html>", headers={"content-type": "text/html"}
    ),
    "429, Retry-After one day": lambda _: httpx.Response(
        429, json={"error": "Rate limit exceeded"}, headers={"Retry-After": "86400"}
    ),
}
# What the person is told, per fault.
SAID = {
    "500": "OpenAlex is unavailable right now (it answered HTTP 500, 4 attempts)",
    "503": "OpenAlex is unavailable right now (it answered HTTP 503, 4 attempts)",
    "timeout": "OpenAlex is unavailable right now (it timed out, 4 attempts)",
    "malformed JSON": "OpenAlex sent a reply that is not valid JSON",
    "HTML 404": "OpenAlex has nothing at /works (HTTP 404)",
    "429, Retry-After one day": "OpenAlex's request budget is spent for now; retry after 24 hours",
}


def _researcher_and_works(engine: Engine, openalex_id: str = MEARMAN) -> tuple[int, int]:
    with Session(engine) as session:
        researcher = session.exec(
            select(Researcher).where(col(Researcher.openalex_id) == openalex_id)
        ).first()
        if researcher is None:
            return 0, 0
        works = session.exec(
            select(func.count()).select_from(Authorship).where(col(Authorship.researcher_id) == researcher.id)
        ).one()
        return 1, int(works)


def _count_works(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Work)).one())


def _first_page_then(fault: Responder) -> Responder:
    """Page 1 of Mearman's works (with a cursor to page 2), then the fault."""
    page = fixture("works_list_by_author_A5017898742_per_page5_page1.json")
    page["meta"]["next_cursor"] = "page-2"

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "page-2":
            return fault(request)
        return httpx.Response(200, json=page)

    return respond


# ---------------------------------------------------------------------------------------------
# Import from Slack (the look-up offer's Import button)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_during_a_slack_import_is_explained_and_leaves_nothing_half_written(
    driver: SlackDriver, openalex: FakeOpenAlex, runtime: object, fault: str
) -> None:
    engine: Engine = runtime.services.engine  # type: ignore[attr-defined]
    works_before = _count_works(engine)
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    openalex.add_callable("/works", _first_page_then(FAULTS[fault]))

    assert driver.press(Action.OPENALEX_IMPORT, f'{{"a": "{MEARMAN}"}}').status == 200
    reply = driver.last_reply()
    assert SAID[fault] in all_text(reply), all_text(reply)
    assert reply["replace_original"] is True and "error id" not in all_text(reply)
    assert _researcher_and_works(engine) == (0, 0)
    assert _count_works(engine) == works_before

    # OpenAlex is back: the same button imports everything.
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
    driver.press(Action.OPENALEX_IMPORT, f'{{"a": "{MEARMAN}"}}')
    assert "8 works" in all_text(driver.last_reply())
    assert _researcher_and_works(engine) == (1, 8)


def test_a_malformed_search_answer_is_explained(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    openalex.add_callable("/autocomplete/authors", FAULTS["malformed JSON"])
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')
    assert "OpenAlex sent a reply that is not valid JSON" in all_text(driver.last_reply())
    openalex.add("/autocomplete/authors", {"meta": {"count": 0}, "results": None})
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')
    assert "OpenAlex sent an autocomplete reply without results" in all_text(driver.last_reply())


# ---------------------------------------------------------------------------------------------
# Import from the command line (real processes against a local OpenAlex over HTTP)


def _bzpeer(*args: str, database_url: str, openalex_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "OPENALEX_"))}
    env.update(DATABASE_URL=database_url, OPENALEX_URL=openalex_url)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_cli_import_faults_are_one_clear_line_and_a_rerun_completes(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    openalex = FakeOpenAlex()
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    with openalex.serve() as url:
        for fault in ("503", "malformed JSON", "HTML 404", "429, Retry-After one day"):
            openalex.add_callable("/works", _first_page_then(FAULTS[fault]))
            result = _bzpeer("import", MEARMAN, database_url=database_url, openalex_url=url, cwd=tmp_path)
            assert result.returncode == 1, result.stdout
            *retries, line = [x for x in result.stderr.splitlines() if x.strip()]
            assert line.startswith(f"error: {MEARMAN}: ") and SAID[fault] in line, result.stderr
            assert all("OpenAlex answered HTTP 503 for /works; retrying in" in r for r in retries), retries
            assert _researcher_and_works(engine) == (0, 0)
        openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
        done = _bzpeer("import", MEARMAN, database_url=database_url, openalex_url=url, cwd=tmp_path)
    assert done.returncode == 0 and "8 works" in done.stdout
    assert _researcher_and_works(engine) == (1, 8)


# ---------------------------------------------------------------------------------------------
# Refresh


@pytest.fixture
def standin() -> WorksStandIn:
    return WorksStandIn()


def _followed(engine: Engine, count: int) -> list[str]:
    member = add_member(engine, "U0ALICE", frequency="instant")
    ids = [author_id(n) for n in range(1, count + 1)]
    for n, openalex_id in enumerate(ids, 1):
        follow(
            engine,
            member,
            add_researcher(engine, f"Researcher {n}", openalex_id=openalex_id),
            at=T0 - timedelta(days=60),
        )
    return ids


def _faulty(standin: WorksStandIn, bad: Callable[[list[str]], bool], fault: Responder) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        ids = request.url.params["filter"].split(",")[0].split(":", 1)[1].split("|")
        return fault(request) if bad(ids) else standin(request)

    return respond


@pytest.mark.parametrize("fault", ["500", "timeout", "malformed JSON", "HTML 404"])
def test_a_failing_refresh_batch_is_skipped_with_a_log_line_and_the_next_cycle_catches_up(
    engine: Engine, standin: WorksStandIn, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    ids = _followed(engine, 250)
    for n, index in enumerate((0, 150, 240)):
        standin.add(work_json(f"W30000000{n}", f"Paper in batch {n + 1}", [(ids[index], "X")]))
    healthy = [True]
    transport = httpx.MockTransport(
        _faulty(standin, lambda a: ids[150] in a and not healthy[0], FAULTS[fault])
    )
    healthy[0] = False
    refresh = RefreshService(
        engine, OpenAlexClient("https://openalex.test", transport=transport, sleep=lambda _: None)
    )

    with caplog.at_level(logging.WARNING, logger="services.digests.refresh"):
        report = refresh.refresh(now=T0)
    assert (report.batches_done, report.batches_skipped, report.items_queued) == (2, 1, 2)
    assert "refresh skipped batch 2 of 3 (100 researcher ids): OpenAlex" in caplog.text
    assert "(2 done, 1 skipped)" in report.summary()
    with Session(engine) as session:
        titles = {w.title for w in session.exec(select(Work))}
    assert titles == {"Paper in batch 1", "Paper in batch 3"}  # nothing of batch 2 half-stored

    healthy[0] = True
    again = refresh.refresh(now=T0 + timedelta(hours=6))
    assert (again.batches_skipped, again.items_queued) == (0, 1)
    assert len(ledger_rows(engine)) == 3 and {r.status for r in ledger_rows(engine)} == {"pending"}


def test_a_429_with_a_day_long_retry_after_stops_refresh_at_once_and_says_when(
    engine: Engine, standin: WorksStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _followed(engine, 150)
    standin.add(work_json("W400000001", "A new paper", [(ids[0], "X")]))
    asked: list[int] = []
    limited = [True]

    def respond(request: httpx.Request) -> httpx.Response:
        asked.append(1)
        return FAULTS["429, Retry-After one day"](request) if limited[0] else standin(request)

    client = OpenAlexClient(
        "https://openalex.test", transport=httpx.MockTransport(respond), sleep=lambda _: None
    )
    refresh = RefreshService(engine, client)
    with caplog.at_level(logging.WARNING, logger="services.digests.refresh"):
        report = refresh.refresh(now=T0)
    assert (report.rate_limited, report.retry_after, len(asked)) == (True, 86400, 1)  # no retry, no batch 2
    assert "stopped early: OpenAlex rate limit at batch 1 of 2" in report.summary()
    assert "Retry-After: 86400s" in caplog.text
    assert ledger_rows(engine) == []
    limited[0] = False
    assert refresh.refresh(now=T0 + timedelta(hours=6)).items_queued == 1


@pytest.mark.slow
def test_cli_refresh_says_why_it_stopped_and_the_next_run_resumes(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    ids = _followed(engine, 2)
    work = work_json("W500000001", "Found on the second run", [(ids[0], "X")])
    openalex = FakeOpenAlex()
    openalex.add_callable("/works", FAULTS["429, Retry-After one day"])
    with openalex.serve() as url:
        stopped = _bzpeer("refresh", database_url=database_url, openalex_url=url, cwd=tmp_path)
        standin = WorksStandIn()
        standin.add({**work, "publication_date": time.strftime("%Y-%m-%d")})
        openalex.add_callable("/works", standin)
        resumed = _bzpeer("refresh", database_url=database_url, openalex_url=url, cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped early: OpenAlex rate limit at batch 1 of 1" in stopped.stdout
    assert "OpenAlex answered 429 (Retry-After: 86400s); resuming next cycle" in stopped.stderr
    assert "1 new" in resumed.stdout and "1 digest item queued" in resumed.stdout, resumed.stdout


# ---------------------------------------------------------------------------------------------
# Slack during delivery


@pytest.fixture
def digests(engine: Engine, local_slack: LocalSlack, database_url: str) -> Iterator[DigestService]:
    settings = Settings(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=local_slack.url)
    yield DigestService(engine, SlackDigestSender(settings), pause=lambda _: None)


def _members_with_an_item(engine: Engine, count: int) -> list[int]:
    from services.digests.queueing import queue_stored_works
    from services.openalex.records import parse_work
    from services.openalex.works import store_works
    from services.store.engine import session_scope

    members = []
    for n in range(1, count + 1):
        researcher = add_researcher(engine, f"Researcher {n}", openalex_id=author_id(n))
        member = add_member(engine, f"U0M{n:04d}", frequency="instant")
        follow(engine, member, researcher, at=T0 - timedelta(days=30))
        members.append(member)
    works = [work_json(f"W6{n:08d}", f"Work {n}", [(author_id(n), f"R{n}")]) for n in range(1, count + 1)]
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in works], now=T0)
        queue_stored_works(session=session, stored=stored, now=T0)
    return members


def test_a_slack_429_with_a_long_retry_after_holds_its_workspace_back_that_long_without_waiting(
    engine: Engine, local_slack: LocalSlack, digests: DigestService
) -> None:
    _members_with_an_item(engine, 2)  # one workspace
    local_slack.fail_next("chat.postMessage", status=429, retry_after=3600)
    started = time.monotonic()
    report = digests.deliver_due(now=T0)
    assert time.monotonic() - started < 5  # slack_sdk alone would sleep an hour, twice
    assert (report.messages_sent, report.failures, report.held_back) == (0, 1, 2)
    assert [r.status for r in ledger_rows(engine)] == ["pending", "pending"]
    # The next cycles within Slack's hour leave the workspace alone; the first after it sends.
    posts = len(local_slack.calls_to("chat.postMessage"))
    assert digests.deliver_due(now=T0 + timedelta(minutes=5)).held_back == 2
    assert len(local_slack.calls_to("chat.postMessage")) == posts
    assert digests.deliver_due(now=T0 + timedelta(minutes=61)).messages_sent == 2
    assert [r.status for r in ledger_rows(engine)] == ["sent", "sent"]


def test_a_429_on_every_try_of_a_cycle_keeps_the_item_pending_for_the_next(
    engine: Engine, local_slack: LocalSlack, digests: DigestService
) -> None:
    _members_with_an_item(engine, 1)
    local_slack.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    report = digests.deliver_due(now=T0)
    assert (report.messages_sent, report.rate_limited) == (0, True)
    assert len(local_slack.calls_to("chat.postMessage")) == 3  # the first try and two retries
    assert report.held_back == 1
    assert digests.deliver_due(now=T0 + timedelta(minutes=5)).messages_sent == 1


def test_slack_unreachable_keeps_every_item_pending(
    engine: Engine, local_slack: LocalSlack, digests: DigestService, caplog: pytest.LogCaptureFixture
) -> None:
    _members_with_an_item(engine, 3)
    local_slack.stop()
    with caplog.at_level(logging.WARNING, logger="services.digests"):
        report = digests.deliver_due(now=T0)
    assert (report.messages_sent, report.failures) == (0, 3)
    assert "kept pending for the next cycle: Slack could not be reached" in caplog.text
    assert {r.status for r in ledger_rows(engine)} == {"pending"}


def test_channel_not_found_on_open_parks_and_500_on_open_retries(
    engine: Engine, local_slack: LocalSlack, digests: DigestService
) -> None:
    gone, flaky, fine = _members_with_an_item(engine, 3)
    local_slack.fail_next("conversations.open", error="channel_not_found")
    local_slack.fail_next("conversations.open", status=500)
    report = digests.deliver_due(now=T0)
    assert (report.messages_sent, report.members_parked, report.failures) == (1, 1, 1)
    assert [r.status for r in ledger_rows(engine, gone)] == ["parked"]
    assert [r.status for r in ledger_rows(engine, flaky)] == ["pending"]
    assert [r.status for r in ledger_rows(engine, fine)] == ["sent"]
    again = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (again.messages_sent, again.members_parked) == (1, 0)
    assert [r.status for r in ledger_rows(engine, flaky)] == ["sent"]
