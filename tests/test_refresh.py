"""The refresh job: batching, paging, OpenAlex faults, the ledger it fills, preprint/published pairs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers.digests.digest_blocks import digest_message
from services.digests.delivery import DigestService
from services.digests.refresh import LOOKBACK, RefreshService
from services.openalex.client import OpenAlexClient
from services.openalex.records import parse_work
from services.openalex.works import store_works
from services.store.engine import session_scope
from services.store.models import Follow, Researcher, ResearcherTopic, Topic
from tests.digest_support import T0, RecordingSender, add_member, author_id, follow, ledger_rows
from tests.openalex_works import WorksStandIn, work_json
from tests.store_support import add_researcher

ADA = ("A5000000001", "Ada Lovelace")
BOB = ("A5000000002", "Bob Babbage")
CAROL = ("A5000000003", "Carol Hopper")


@pytest.fixture
def standin() -> WorksStandIn:
    return WorksStandIn()


@pytest.fixture
def client(standin: WorksStandIn) -> Iterator[OpenAlexClient]:
    client = OpenAlexClient(
        "https://openalex.test", transport=httpx.MockTransport(standin), sleep=lambda _: None
    )
    yield client
    client.close()


@pytest.fixture
def refresh(engine: Engine, client: OpenAlexClient) -> RefreshService:
    return RefreshService(engine, client)


def _many_followed(engine: Engine, count: int) -> list[str]:
    member = add_member(engine, "U0ALICE")
    ids = [author_id(n) for n in range(1, count + 1)]
    with Session(engine) as session:
        rows = [Researcher(slug=i, openalex_id=i, name=f"Researcher {i}") for i in ids]
        session.add_all(rows)
        session.flush()
        followed_at = T0 - timedelta(days=60)
        session.add_all(
            Follow(member_id=member, researcher_id=r.id or 0, created_at=followed_at) for r in rows
        )
        session.commit()
    return ids


def test_250_followed_researchers_take_3_list_requests_plus_paging(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ids = _many_followed(engine, 250)
    # 150 recent works in the first batch: two pages of 100 there, one page elsewhere.
    for n in range(150):
        standin.add(work_json(f"W9{n:08d}", f"Paper number {n}", [(ids[n % 100], "Someone")]))
    standin.add(work_json("W800000001", "A paper in batch three", [(ids[240], "Someone")]))

    report = refresh.refresh(now=T0)

    assert [len(batch) for batch in standin.asked] == [100, 100, 100, 50]  # batch 1 took 2 pages
    assert standin.asked[0] == standin.asked[1]  # the same filter, next cursor
    assert sorted({i for batch in standin.asked for i in batch}) == ids
    assert max(standin.per_page_seen) <= 100
    assert (report.batches, report.batches_done, report.works_seen, report.works_new) == (3, 3, 151, 151)
    assert report.items_queued == 151  # all first seen after the follow, published recently


def test_the_filter_carries_the_look_back_window(
    engine: Engine, refresh: RefreshService, client: OpenAlexClient
) -> None:
    seen: list[str] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.params["filter"])
        return httpx.Response(200, json={"meta": {"count": 0, "next_cursor": None}, "results": []})

    _many_followed(engine, 2)
    RefreshService(engine, OpenAlexClient("https://x.test", transport=httpx.MockTransport(spy))).refresh(
        now=T0
    )
    since = (T0 - LOOKBACK).date().isoformat()
    assert seen == [f"authorships.author.id:{author_id(1)}|{author_id(2)},from_publication_date:{since}"]


def test_429_stops_the_cycle_and_the_next_cycle_resumes(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _many_followed(engine, 250)
    standin.add(work_json("W100000001", "First batch paper", [(ids[0], "One")]))
    standin.add(work_json("W100000002", "Third batch paper", [(ids[220], "Two")]))
    standin.fail_when(lambda asked: ids[100] in asked, 429)

    with caplog.at_level(logging.WARNING, logger="services.digests.refresh"):
        report = refresh.refresh(now=T0)

    assert report.rate_limited and report.retry_after == 3600
    assert (report.batches_done, report.works_seen) == (1, 1)
    assert len(standin.asked) == 2  # batch 3 never asked: 429 means the budget is spent
    assert "stopped at batch 2 of 3" in caplog.text and "Retry-After: 3600s" in caplog.text

    standin.faults.clear()
    again = refresh.refresh(now=T0 + timedelta(hours=6))
    assert (again.batches_done, again.works_seen, again.works_new) == (3, 2, 1)
    # It resumed where the budget ran out, then wrapped round to the start.
    assert [batch[0] for batch in standin.asked[2:]] == [ids[100], ids[200], ids[50]]
    assert sorted(i for batch in standin.asked[2:] for i in batch) == ids


def test_a_failing_batch_is_skipped_and_logged(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _many_followed(engine, 250)
    for n, index in enumerate((0, 150, 240)):
        standin.add(work_json(f"W20000000{n}", f"Paper in batch {n + 1}", [(ids[index], "X")]))
    standin.fail_when(lambda asked: ids[150] in asked, 503)

    with caplog.at_level(logging.WARNING, logger="services.digests.refresh"):
        report = refresh.refresh(now=T0)

    assert (report.batches_done, report.batches_skipped, report.works_seen) == (2, 1, 2)
    assert len([a for a in standin.asked if ids[150] in a]) == 4  # the client's retries, then skip
    assert "skipped batch 2 of 3 (100 researcher ids)" in caplog.text
    assert len(ledger_rows(engine)) == 2


def test_new_work_is_one_item_per_follower_however_many_followed_authors(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ada, bob, carol = (add_researcher(engine, name, openalex_id=aid) for aid, name in (ADA, BOB, CAROL))
    alice, bert, muted_mo = (add_member(engine, u) for u in ("U0ALICE", "U0BERT", "U0MO"))
    before = T0 - timedelta(days=3)
    follow(engine, alice, ada, at=before)
    follow(engine, alice, bob, at=before)
    follow(engine, bert, bob, at=before)
    follow(engine, muted_mo, carol, at=before, muted=True)
    standin.add(work_json("W300000001", "Joint work", [BOB, ADA, CAROL]))

    report = refresh.refresh(now=T0)
    again = refresh.refresh(now=T0 + timedelta(hours=6))

    rows = ledger_rows(engine)
    assert {(r.member_id, r.researcher_id, r.kind, r.status) for r in rows} == {
        (alice, bob, "new", "pending"),  # filed under the first followed author
        (bert, bob, "new", "pending"),
    }
    assert (report.items_queued, again.items_queued) == (2, 0)


def test_a_new_work_adds_its_topics_to_its_authors(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ada = add_researcher(engine, ADA[1], openalex_id=ADA[0])
    follow(engine, add_member(engine, "U0ALICE"), ada, at=T0 - timedelta(days=3))
    work = work_json("W300000002", "Engines that compute", [ADA, BOB])
    work["topics"] = [{"id": "https://openalex.org/T10001", "display_name": "Analytical engines"}]
    standin.add(work)

    refresh.refresh(now=T0)

    with Session(engine) as session:
        topics = session.exec(
            select(ResearcherTopic.researcher_id, Topic.name).join(
                Topic, col(Topic.id) == col(ResearcherTopic.topic_id)
            )
        ).all()
        bob = session.exec(select(Researcher.id).where(Researcher.openalex_id == BOB[0])).one()
    assert sorted(topics) == sorted([(ada, "Analytical engines"), (bob, "Analytical engines")])


def test_a_follow_made_today_does_not_flood_the_member_with_the_back_catalogue(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ada = add_researcher(engine, ADA[1], openalex_id=ADA[0])
    bob = add_researcher(engine, BOB[1], openalex_id=BOB[0])  # known only as a stub: no works stored yet
    member = add_member(engine, "U0ALICE")
    recent = [
        work_json(f"W40000000{n}", f"Ada back catalogue {n}", [ADA], published=T0.date() - timedelta(days=n))
        for n in range(1, 6)
    ]
    with session_scope(engine) as session:  # Ada was imported yesterday with her works
        store_works(session=session, works=[parse_work(w) for w in recent], now=T0 - timedelta(days=1))
    for work in recent:
        standin.add(work)
    for n in range(10, 30, 2):  # Bob's month, first seen by the refresh after the follow
        standin.add(
            work_json(f"W50000{n:04d}", f"Bob older {n}", [BOB], published=T0.date() - timedelta(days=n))
        )
    follow(engine, member, ada, at=T0)
    follow(engine, member, bob, at=T0)

    report = refresh.refresh(now=T0 + timedelta(hours=1))
    assert report.works_seen == 15 and report.items_queued == 0

    standin.add(work_json("W600000001", "Ada's genuinely new paper", [ADA], published=T0.date()))
    later = refresh.refresh(now=T0 + timedelta(hours=7))
    assert later.items_queued == 1
    assert [r.work_id for r in ledger_rows(engine)] == [_work_id(engine, "W600000001")]


def _work_id(engine: Engine, openalex_id: str) -> int:
    from sqlmodel import select

    from services.store.models import Work

    with Session(engine) as session:
        found = session.exec(select(Work.id).where(Work.openalex_id == openalex_id)).one()
        assert found is not None
        return found


def test_preprint_then_its_published_version_is_one_item_and_a_now_published_note(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ada = add_researcher(engine, ADA[1], openalex_id=ADA[0])
    alice, late_lee = add_member(engine, "U0ALICE"), add_member(engine, "U0LEE")
    follow(engine, alice, ada, at=T0 - timedelta(days=10))
    sender = RecordingSender()
    digests = DigestService(engine, sender, pause=lambda _: None)
    title = "Attention is all you need, again"
    standin.add(work_json("W700000001", title, [ADA], kind="preprint", published=date(2026, 10, 30)))

    refresh.refresh(now=T0)
    digests.deliver_due(now=T0, force=True)
    follow(engine, late_lee, ada, at=T0 + timedelta(hours=1))  # after the preprint, before publication
    standin.add(work_json("W700000002", title, [ADA], venue="Nature", published=date(2026, 11, 20)))
    report = refresh.refresh(now=T0 + timedelta(days=20))
    digests.deliver_due(now=T0 + timedelta(days=20), force=True)

    assert report.works_published == 1 and report.works_new == 0
    rows = ledger_rows(engine)
    assert len({r.work_id for r in rows}) == 1  # one item, both identifiers
    assert {(r.member_id, r.kind, r.status) for r in rows} == {
        (alice, "published", "sent"),
        (late_lee, "published", "sent"),
    }
    first, *news = sender.sent
    assert first.groups[0].items[0].kind == "new" and first.user_id == "U0ALICE"
    assert sorted(v.user_id for v in news) == ["U0ALICE", "U0LEE"]
    message = digest_message(news[0])
    shown = " ".join(str(b.to_dict()) for b in message.blocks)
    assert "now published in _Nature_ (2026)" in shown and title in shown


def test_both_versions_before_the_digest_make_one_pending_item_showing_the_venue(
    engine: Engine, refresh: RefreshService, standin: WorksStandIn
) -> None:
    ada = add_researcher(engine, ADA[1], openalex_id=ADA[0])
    alice = add_member(engine, "U0ALICE")
    follow(engine, alice, ada, at=T0 - timedelta(days=10))
    title = "Graph neural networks for everything"
    standin.add(work_json("W710000001", title, [ADA], kind="preprint", published=date(2026, 10, 30)))
    refresh.refresh(now=T0)
    standin.add(work_json("W710000002", title, [ADA], venue="Science", published=date(2026, 11, 1)))
    refresh.refresh(now=T0 + timedelta(hours=6))

    [row] = ledger_rows(engine)
    assert (row.kind, row.status) == ("new", "pending")
    preview = DigestService(engine).preview(alice, now=T0 + timedelta(hours=6))
    [item] = preview.groups[0].items
    assert (item.venue, item.published_venue) == ("arXiv", "Science")
    assert "now published in _Science_" in str([b.to_dict() for b in digest_message(preview).blocks])
