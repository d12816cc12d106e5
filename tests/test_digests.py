"""Digest delivery: idempotence, crash recovery, time zones, Slack faults, grouping and limits."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_server import LocalSlack
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from handlers.blocks import within_limits
from handlers.digests.digest_blocks import digest_message, fit_digest
from handlers.ids import Action
from handlers.values import ResearcherValue
from services.digests import ledger, queueing
from services.digests.compose import DigestView
from services.digests.delivery import LEASE, DigestService
from services.digests.port import SentMessage
from services.digests.workspace_gate import DEFAULT_RETRY_AFTER, MAX_TRIES
from services.openalex.records import parse_work
from services.openalex.works import store_works
from services.store.engine import session_scope
from services.store.models import Delivery, Follow, Member
from tests.digest_support import (
    T0,
    Crash,
    FakeClock,
    RecordingSender,
    add_member,
    author_id,
    follow,
    ledger_rows,
)
from tests.openalex_works import work_json
from tests.store_support import add_researcher


def _queue(engine: Engine, works: list[dict[str, object]], *, at: object = None) -> None:
    """Store works as the refresh job does (works and ledger rows in one transaction)."""
    now = T0 if at is None else at
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in works], now=now)  # type: ignore[arg-type]
        queueing.queue_stored_works(session=session, stored=stored, now=now)  # type: ignore[arg-type]


def _members_with_one_item_each(engine: Engine, count: int, *, frequency: str = "instant") -> list[int]:
    members = []
    for n in range(1, count + 1):
        researcher = add_researcher(engine, f"Researcher {n}", openalex_id=author_id(n))
        member = add_member(engine, f"U0M{n:04d}", frequency=frequency)
        follow(engine, member, researcher, at=T0 - timedelta(days=30))
        members.append(member)
    _queue(
        engine, [work_json(f"W1{n:08d}", f"Work {n}", [(author_id(n), f"R{n}")]) for n in range(1, count + 1)]
    )
    return members


def _service(engine: Engine, sender: RecordingSender) -> DigestService:
    return DigestService(engine, sender, pause=lambda _: None)


# -- idempotence and crashes ----------------------------------------------------------------------


def test_running_delivery_twice_sends_once(engine: Engine) -> None:
    _members_with_one_item_each(engine, 3)
    sender = RecordingSender()
    first = _service(engine, sender).deliver_due(now=T0)
    second = _service(engine, sender).deliver_due(now=T0 + timedelta(minutes=5))
    assert (first.messages_sent, first.items_sent, second.messages_sent) == (3, 3, 0)
    assert len(sender.sent) == 3 and sender.calls == 3
    rows = ledger_rows(engine)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.slack_ts and r.slack_channel and r.sent_at for r in rows)


@pytest.mark.parametrize("k", [0, 2, 4])
def test_a_crash_after_k_of_n_sends_and_a_rerun_sends_exactly_the_rest(engine: Engine, k: int) -> None:
    n = 5
    _members_with_one_item_each(engine, n)
    crashing = RecordingSender(crash_on=k + 1)
    with pytest.raises(Crash):
        _service(engine, crashing).deliver_due(now=T0)
    assert len(crashing.sent) == k

    rerun = RecordingSender()
    report = _service(engine, rerun).deliver_due(now=T0)  # same instant: no lease has run out
    assert report.messages_sent == n - k
    everything = crashing.work_ids() + rerun.work_ids()
    assert sorted(everything) == sorted(set(everything)) and len(everything) == n


def test_a_hard_crash_keeps_the_claim_until_the_lease_runs_out(engine: Engine) -> None:
    [member] = _members_with_one_item_each(engine, 1)
    lease_until = T0 + LEASE
    with session_scope(engine) as session:  # a process claimed the rows, then was killed -9
        assert ledger.claim_pending(session=session, member_ids=[member], lease_until=lease_until)

    sender = RecordingSender()
    during = _service(engine, sender).deliver_due(now=T0 + LEASE - timedelta(seconds=1))
    after = _service(engine, sender).deliver_due(now=T0 + LEASE + timedelta(seconds=1))
    assert (during.messages_sent, after.expired_claims, after.messages_sent) == (0, 1, 1)
    # The dead process never stamped a message with the rows: only the post that went out counts.
    assert [(r.attempts, r.status) for r in ledger_rows(engine)] == [(1, "sent")]


def test_a_long_cycle_leases_each_batch_from_when_it_is_claimed(engine: Engine) -> None:
    _members_with_one_item_each(engine, 3)
    elapsed = [0.0]  # each send takes Slack 20 minutes
    leases = []

    class Inspecting(RecordingSender):
        def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
            with Session(engine) as session:
                leases.extend(
                    session.exec(
                        select(Delivery.claimed_until).where(col(Delivery.member_id) == digest.member_id)
                    )
                )
            elapsed[0] += 20 * 60
            return super().send(team_id=team_id, user_id=user_id, digest=digest, key=key)

    service = DigestService(
        engine, Inspecting(), pause=lambda _: None, monotonic=lambda: elapsed[0], claim_batch=1
    )
    assert service.deliver_due(now=T0).messages_sent == 3
    # Without this, the third batch's lease would have ended 25 minutes before it was taken.
    assert [lease - T0 for lease in leases] == [LEASE + timedelta(minutes=20 * n) for n in (0, 1, 2)]


def test_two_concurrent_deliveries_send_each_item_exactly_once(engine: Engine) -> None:
    n = 40
    _members_with_one_item_each(engine, n)
    sender = RecordingSender()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            DigestService(engine, sender, pause=lambda _: None, claim_batch=3).deliver_due(now=T0)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    counts = Counter(sender.work_ids())
    assert len(counts) == n and set(counts.values()) == {1}
    assert {r.status for r in ledger_rows(engine)} == {"sent"}


def test_a_member_slack_keeps_rate_limiting_is_tried_max_tries_times_then_left_for_the_next_cycle(
    engine: Engine,
) -> None:
    _, limited, third = _members_with_one_item_each(engine, 3)  # one workspace
    sender, clock = RecordingSender(rate_limited={"U0M0002"}), FakeClock()
    service = DigestService(engine, sender, pause=clock.pause, monotonic=clock.monotonic)
    report = service.deliver_due(now=T0)
    assert (report.messages_sent, report.failures, report.held_back) == (2, MAX_TRIES, 1)
    assert sender.calls == 2 + MAX_TRIES and clock.seconds >= MAX_TRIES * DEFAULT_RETRY_AFTER
    assert report.summary().endswith(
        "Slack rate-limited 1 workspace; 1 due member left for a later cycle (Slack rate limit)."
    )
    assert [r.status for r in ledger_rows(engine, limited)] == ["pending"]
    assert [r.status for r in ledger_rows(engine, third)] == ["sent"]  # after the workspace's wait
    sender.rate_limited.clear()
    assert service.deliver_due(now=T0 + timedelta(minutes=5)).messages_sent == 1


def test_a_message_slack_keeps_refusing_is_parked_after_max_attempts(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    [member] = _members_with_one_item_each(engine, 1)
    service = DigestService(
        engine, RecordingSender(failing={"U0M0001"}), pause=lambda _: None, max_attempts=3
    )
    with caplog.at_level(logging.WARNING, logger="services.digests"):
        for cycle in range(4):
            service.deliver_due(now=T0 + timedelta(minutes=5 * cycle))
    [row] = ledger_rows(engine, member)
    assert (row.status, row.attempts) == ("parked", 3)
    assert "parked 1 items after 3 failed attempts" in caplog.text


# -- what is due ----------------------------------------------------------------------------------


def test_nothing_pending_sends_nothing_and_off_means_off(engine: Engine) -> None:
    add_member(engine, "U0IDLE", frequency="instant")
    [off] = _members_with_one_item_each(engine, 1, frequency="off")
    sender = RecordingSender()
    report = _service(engine, sender).deliver_due(now=T0, force=True)
    assert (report.members_due, report.messages_sent, sender.calls) == (0, 0, 0)
    assert ledger_rows(engine, off) == []  # "off" members get nothing queued at all


def test_each_member_gets_the_daily_digest_at_their_own_nine_oclock(engine: Engine) -> None:
    kolkata = add_member(engine, "U0KOLKATA", tz="Asia/Kolkata")
    la = add_member(engine, "U0LA", tz="America/Los_Angeles")
    researcher = add_researcher(engine, "Ada", openalex_id=author_id(1))
    for member in (kolkata, la):
        follow(engine, member, researcher, at=T0 - timedelta(days=30))
    day = T0.replace(hour=0, minute=0)  # 2026-11-02 00:00 UTC, a Monday; LA is on PST (UTC−8)
    _queue(engine, [work_json("W100000001", "Fresh", [(author_id(1), "Ada")])], at=day - timedelta(hours=1))
    sender = RecordingSender()
    service = _service(engine, sender)

    delivered_at: dict[str, list[str]] = {}
    for step in range(0, 24 * 12):  # the delivery job, every 5 minutes for a day
        now = day + timedelta(minutes=5 * step)
        before = len(sender.sent)
        service.deliver_due(now=now)
        for view in sender.sent[before:]:
            delivered_at.setdefault(view.user_id, []).append(now.strftime("%H:%M"))

    # 09:00 IST = 03:30 UTC; 09:00 PST = 17:00 UTC.
    assert delivered_at == {"U0KOLKATA": ["03:30"], "U0LA": ["17:00"]}


def test_force_treats_every_member_with_pending_items_as_due(engine: Engine) -> None:
    _members_with_one_item_each(engine, 2, frequency="weekly")
    sender = RecordingSender()
    assert _service(engine, sender).deliver_due(now=T0 + timedelta(days=2)).messages_sent == 0  # a Wednesday
    assert _service(engine, sender).deliver_due(now=T0 + timedelta(days=2), force=True).messages_sent == 2


def test_unfollowed_or_muted_before_delivery_is_skipped_and_preview_marks_nothing(engine: Engine) -> None:
    ada, bob = (
        add_researcher(engine, "Ada", openalex_id=author_id(1)),
        add_researcher(engine, "Bob", openalex_id=author_id(2)),
    )
    member = add_member(engine, "U0ALICE", frequency="instant")
    follow(engine, member, ada, at=T0 - timedelta(days=9))
    follow(engine, member, bob, at=T0 - timedelta(days=9))
    _queue(
        engine,
        [
            work_json("W1", "By Ada", [(author_id(1), "Ada")]),
            work_json("W2", "By Bob", [(author_id(2), "Bob")]),
        ],
    )
    service = _service(engine, RecordingSender())

    preview = service.preview(member, now=T0)
    assert sorted(g.name for g in preview.groups) == ["Ada", "Bob"]
    assert {r.status for r in ledger_rows(engine)} == {"pending"}  # nothing marked
    with Session(engine) as session:  # Bob gets muted
        row = session.exec(select(Follow).where(col(Follow.researcher_id) == bob)).one()
        row.muted = True
        session.add(row)
        session.commit()
    assert [g.name for g in service.preview(member, now=T0).groups] == ["Ada"]

    service.deliver_due(now=T0)
    assert {(r.researcher_id, r.status) for r in ledger_rows(engine)} == {(ada, "sent"), (bob, "skipped")}


# -- grouping and Slack's limits ------------------------------------------------------------------


def test_digest_groups_by_researcher_newest_first_within_slack_limits(engine: Engine) -> None:
    member = add_member(engine, "U0ALICE", frequency="instant")
    works = []
    for r in range(1, 41):  # 40 researchers × 8 works: far more than one message holds
        rid = add_researcher(engine, f"Researcher Number {r}", openalex_id=author_id(r))
        follow(engine, member, rid, at=T0 - timedelta(days=60))
        for w in range(8):
            works.append(
                work_json(
                    f"W{r:04d}{w:04d}",
                    f"A rather long title about topic {w} of researcher {r} " + "x" * 150,
                    [(author_id(r), f"R{r}")],
                    published=date(2026, 10, 1) + timedelta(days=r % 20, hours=w),
                )
            )
    _queue(engine, works)
    view = DigestService(engine).preview(member, now=T0)
    assert view.item_count == 320 and len(view.groups) == 40
    newest = [g.items[0].newest_at for g in view.groups]
    assert newest == sorted(newest, reverse=True)
    assert all(
        [i.newest_at for i in g.items] == sorted((i.newest_at for i in g.items), reverse=True)
        for g in view.groups
    )

    reply = digest_message(view)
    blocks = reply.payload()["blocks"]
    assert within_limits(blocks)
    text = str(blocks)
    shown = fit_digest(view)
    assert 0 < shown.item_count < 320 and shown.held_items == 320 - shown.item_count
    assert f"*{shown.item_count} new works* from {len(shown.groups)} researchers" in text
    held = f"…and {shown.held_items} more new works by {shown.held_researchers} researchers you follow"
    assert held in text
    assert "they come in the next message" in text and "/peer digest daily|weekly|instant|off" in text
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    first = view.groups[0].researcher_id
    assert {e["action_id"] for e in buttons[:2]} == {Action.UNFOLLOW, Action.MUTE_RESEARCHER}
    assert ResearcherValue.load(buttons[0]["value"]) == ResearcherValue(researcher_id=first)


def test_the_largest_digest_stays_inside_slack_limits() -> None:
    from services.digests.compose import DigestGroup, DigestItem, DigestView

    item = DigestItem(
        work_id=1,
        title="T" * 2000,
        url="https://example.org/" + "u" * 480,
        venue="V" * 500,
        year=2026,
        publication_date=date(2026, 11, 1),
        kind="new",
        published_venue="P" * 500,
        published_year=2027,
        published_url="https://doi.org/" + "d" * 480,
        newest_at=T0,
    )
    groups = tuple(DigestGroup(researcher_id=n, name="N" * 600, items=(item,) * 30) for n in range(1, 200))
    view = DigestView(member_id=1, team_id="T", user_id="U", schedule="daily at 09:00", groups=groups)
    blocks = digest_message(view, command="/" + "c" * 30).payload()["blocks"]
    assert within_limits(blocks)
    assert "more new works by 199 researchers you follow: they come in the next message" in str(blocks[-2])


# -- through the Slack sender and the fake Slack ----------------------------------------------------


@pytest.fixture
def slack_service(engine: Engine, local_slack: LocalSlack, database_url: str) -> Iterator[DigestService]:
    settings = Settings(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=local_slack.url)
    yield DigestService(engine, SlackDigestSender(settings), pause=lambda _: None)


def test_the_dm_goes_to_the_member_and_keeps_its_ts(
    engine: Engine, local_slack: LocalSlack, slack_service: DigestService
) -> None:
    [member] = _members_with_one_item_each(engine, 1)
    report = slack_service.deliver_due(now=T0)
    [opened] = local_slack.calls_to("conversations.open")
    [posted] = local_slack.calls_to("chat.postMessage")
    assert report.messages_sent == 1 and opened.params["users"] == "U0M0001"
    assert "Work 1" in posted.params["text"] and posted.params["channel"].startswith("D")
    [row] = ledger_rows(engine, member)
    assert (row.slack_channel, row.slack_ts) == (posted.response["channel"], posted.response["ts"])
    with Session(engine) as session:
        assert session.get(Member, member).last_digest_at is not None  # type: ignore[union-attr]


def test_a_slack_429_is_retried_after_its_retry_after_in_the_same_cycle(
    engine: Engine, local_slack: LocalSlack, slack_service: DigestService
) -> None:
    _members_with_one_item_each(engine, 1)
    local_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    report = slack_service.deliver_due(now=T0)
    assert report.messages_sent == 1
    assert [c.error for c in local_slack.calls_to("chat.postMessage")] == ["ratelimited", None]


def test_slack_500_keeps_the_items_pending_for_the_next_cycle(
    engine: Engine, local_slack: LocalSlack, slack_service: DigestService
) -> None:
    [member] = _members_with_one_item_each(engine, 1)
    local_slack.fail_next("chat.postMessage", status=500)
    failed = slack_service.deliver_due(now=T0)
    assert (failed.messages_sent, failed.failures) == (0, 1)
    assert [r.status for r in ledger_rows(engine, member)] == ["pending"]
    retried = slack_service.deliver_due(now=T0 + timedelta(minutes=5))
    assert retried.messages_sent == 1
    assert len([c for c in local_slack.calls_to("chat.postMessage") if c.error is None]) == 1


@pytest.mark.parametrize(
    ("method", "error"), [("conversations.open", "user_not_found"), ("chat.postMessage", "channel_not_found")]
)
def test_an_unreachable_member_is_parked_with_a_log_line_and_never_retried(
    engine: Engine,
    local_slack: LocalSlack,
    slack_service: DigestService,
    caplog: pytest.LogCaptureFixture,
    method: str,
    error: str,
) -> None:
    gone, fine = _members_with_one_item_each(engine, 2)
    local_slack.fail_next(method, error=error)
    with caplog.at_level(logging.WARNING, logger="services.digests"):
        report = slack_service.deliver_due(now=T0)
    assert (report.messages_sent, report.members_parked, report.parked_member_ids) == (1, 1, [gone])
    assert f"digest for member {gone} (T0TEAM1/U0M0001) parked, 1 items: recipient unreachable ({error})" in (
        caplog.text
    )
    assert [r.status for r in ledger_rows(engine, gone)] == ["parked"]
    assert [r.status for r in ledger_rows(engine, fine)] == ["sent"]
    local_slack.clear()
    assert slack_service.deliver_due(now=T0 + timedelta(minutes=5)).messages_sent == 0
    assert local_slack.calls_to("chat.postMessage") == []


def test_later_digests_reuse_the_dm_channel_and_reopen_a_stale_one(
    engine: Engine, local_slack: LocalSlack, slack_service: DigestService
) -> None:
    [member] = _members_with_one_item_each(engine, 1)
    slack_service.deliver_due(now=T0)
    _queue(engine, [work_json("W200000001", "Second", [(author_id(1), "R1")])], at=T0 + timedelta(hours=1))
    slack_service.deliver_due(now=T0 + timedelta(hours=1))
    assert len(local_slack.calls_to("conversations.open")) == 1  # Tier 3: opened once, then reused

    local_slack.fail_next("chat.postMessage", error="channel_not_found")
    _queue(engine, [work_json("W200000002", "Third", [(author_id(1), "R1")])], at=T0 + timedelta(hours=2))
    report = slack_service.deliver_due(now=T0 + timedelta(hours=2))
    assert report.messages_sent == 1 and len(local_slack.calls_to("conversations.open")) == 2
    assert [r.status for r in ledger_rows(engine, member)] == ["sent", "sent", "sent"]
