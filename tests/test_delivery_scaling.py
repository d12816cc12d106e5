"""Delivery on every scheduler (issue 18): several DigestServices deliver one due set at once,
each item exactly once and no digest flooded; and Slack's 429s are honoured per workspace, so a
rate-limited workspace waits its Retry-After while the others go on."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from services.digests import ledger
from services.digests.compose import DigestView
from services.digests.delivery import DigestService
from services.digests.port import SentMessage
from services.digests.workspace_gate import MAX_WAIT, DueMember
from services.slack_requests.sending import OutcomeUnknown
from tests.digest_support import T0, FakeClock, RecordingSender, add_member, author_id, follow, ledger_rows
from tests.openalex_works import work_json
from tests.store_support import add_researcher
from tests.test_digests import _queue

WAIT = 30  # seconds: an upper bound for events that normally take milliseconds


def _members(engine: Engine, teams: list[str], *, works: int = 1) -> dict[int, str]:
    """One member per entry of `teams` (in that order), each following their own researcher with
    `works` new works; member id → team."""
    made: dict[int, str] = {}
    news = []
    for n, team in enumerate(teams, start=1):
        researcher = add_researcher(engine, f"Researcher {n}", openalex_id=author_id(n))
        member = add_member(engine, f"U0M{n:04d}", team_id=team, frequency="instant")
        follow(engine, member, researcher, at=T0 - timedelta(days=30))
        news += [work_json(f"W3{n:05d}{k:03d}", f"Work {n}.{k}", [(author_id(n), "R")]) for k in range(works)]
        made[member] = team
    _queue(engine, news)
    return made


class _Timed(RecordingSender):
    """Records each send attempt's workspace and the service's clock when it was made."""

    def __init__(self, clock: FakeClock, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.attempts: list[tuple[str, float]] = []

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        self.attempts.append((team_id, self.clock.seconds))
        return super().send(team_id=team_id, user_id=user_id, digest=digest, key=key)


# -- Slack's rate limits, per workspace -----------------------------------------------------------


def test_a_429_in_one_workspace_delays_that_workspace_only_and_it_is_retried_after_the_wait(
    engine: Engine,
) -> None:
    members = _members(engine, ["T0A", "T0B"] * 3)  # interleaved: A, B, A, B, A, B
    clock = FakeClock()
    sender = _Timed(clock, limit_next={"T0A": 30})
    service = DigestService(engine, sender, pause=clock.pause, monotonic=clock.monotonic)
    report = service.deliver_due(now=T0)

    assert (report.messages_sent, report.failures, report.rate_limited_teams) == (6, 1, {"T0A"})
    teams = [team for team, _ in sender.attempts]
    assert teams == ["T0A", "T0B", "T0B", "T0B", "T0A", "T0A", "T0A"]  # B never waited for A
    b_times = [at for team, at in sender.attempts if team == "T0B"]
    assert b_times[-1] < 1  # B's three went out at B's own pace (0.25 s apart), at once
    a_retries = [at for team, at in sender.attempts[1:] if team == "T0A"]
    assert min(a_retries) >= 30  # A waited out its Retry-After, then went on
    assert {r.status for m in members for r in ledger_rows(engine, m)} == {"sent"}
    assert report.summary().endswith("; Slack rate-limited 1 workspace.")


def test_a_long_retry_after_leaves_that_workspace_for_later_cycles_and_they_respect_it(
    engine: Engine,
) -> None:
    members = _members(engine, ["T0A", "T0B", "T0A", "T0B"])
    clock = FakeClock()
    sender = _Timed(clock, limit_next={"T0A": 600})
    service = DigestService(engine, sender, pause=clock.pause, monotonic=clock.monotonic)

    first = service.deliver_due(now=T0)
    assert (first.messages_sent, first.held_back) == (2, 2)
    assert max(clock.pauses, default=0) < MAX_WAIT  # the cycle did not sit out A's 10 minutes
    a = [m for m, team in members.items() if team == "T0A"]
    assert {r.status for m in a for r in ledger_rows(engine, m)} == {"pending"}

    # The next cycle is within Slack's 10 minutes: it sends nothing to A, not even one try.
    tries = len(sender.attempts)
    second = service.deliver_due(now=T0 + timedelta(minutes=5))
    assert (second.messages_sent, second.held_back, len(sender.attempts)) == (0, 2, tries)
    third = service.deliver_due(now=T0 + timedelta(minutes=11))
    assert third.messages_sent == 2
    assert {r.status for m in a for r in ledger_rows(engine, m)} == {"sent"}


def test_through_slack_a_429_with_retry_after_holds_back_its_workspace_alone(
    engine: Engine, local_slack: LocalSlack, database_url: str
) -> None:
    _members(engine, ["T0A", "T0B", "T0B"])
    settings = Settings(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=local_slack.url)
    clock = FakeClock()
    service = DigestService(engine, SlackDigestSender(settings), pause=clock.pause, monotonic=clock.monotonic)
    local_slack.fail_next("chat.postMessage", status=429, retry_after=20)
    report = service.deliver_due(now=T0)

    posts = local_slack.calls_to("chat.postMessage")
    # The sender's client does not sleep on the 429 (that would hold up T0B): the service waits.
    assert [c.error for c in posts] == ["ratelimited", None, None, None]
    opened = {
        c.response["channel"]["id"]: c.params["users"] for c in local_slack.calls_to("conversations.open")
    }
    assert [opened[c.params["channel"]] for c in posts] == ["U0M0001", "U0M0002", "U0M0003", "U0M0001"]
    assert report.messages_sent == 3 and sum(clock.pauses) >= 20 - 1  # Retry-After, less B's pace


def test_followers_deliver_without_looking_up_and_the_leaders_look_up_settles_what_slack_took(
    engine: Engine,
) -> None:
    [member] = _members(engine, ["T0A"])

    class Unanswered(RecordingSender):
        """Slack takes the first post and its answer never comes."""

        lookups = 0

        def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
            taken = super().send(team_id=team_id, user_id=user_id, digest=digest, key=key)
            if len(self.sent) == 1:
                raise OutcomeUnknown("no answer", channel=taken.channel)
            return taken

        def find(self, **kwargs: Any) -> SentMessage | None:
            self.lookups += 1
            return super().find(**kwargs)

    sender = Unanswered()
    service = DigestService(engine, sender, pause=lambda _: None)
    assert service.deliver_due(now=T0, look_up=False).unconfirmed == 1
    later = T0 + timedelta(minutes=5)
    follower = service.deliver_due(now=later, look_up=False)  # a scheduler that does not lead
    assert (follower.confirmed, follower.messages_sent, sender.lookups) == (0, 0, 0)
    assert [r.status for r in ledger_rows(engine, member)] == ["unconfirmed"]
    leader = service.look_up_unconfirmed(now=later)
    assert (leader.confirmed, sender.lookups, len(sender.sent)) == (1, 1, 1)
    assert [r.status for r in ledger_rows(engine, member)] == ["sent"]


# -- several deliverers at once -------------------------------------------------------------------


class _AllAtOnce(RecordingSender):
    """Every deliverer's first send waits until each of `deliverers` threads is sending: proof
    that they all delivered, side by side."""

    def __init__(self, deliverers: int) -> None:
        super().__init__()
        self.together = threading.Barrier(deliverers, timeout=WAIT)
        self.started: set[int] = set()
        self.by_thread: Counter[str] = Counter()

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        me = threading.get_ident()
        if me not in self.started:
            self.started.add(me)
            self.together.wait()
        sent = super().send(team_id=team_id, user_id=user_id, digest=digest, key=key)
        self.by_thread[threading.current_thread().name] += 1
        return sent


@pytest.mark.parametrize("deliverers", [2, 4])
def test_several_services_deliver_one_due_set_at_once_each_item_exactly_once(
    engine: Engine, deliverers: int
) -> None:
    members = _members(engine, [f"T0W{n % 5}" for n in range(60)], works=2)
    sender = _AllAtOnce(deliverers)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            DigestService(engine, sender, pause=lambda _: None, claim_batch=4).deliver_due(now=T0)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=deliver, name=f"scheduler-{n}") for n in range(deliverers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not sender.together.broken
    assert len(sender.by_thread) == deliverers  # every one of them sent digests
    counts = Counter(sender.work_ids())
    assert len(counts) == 2 * len(members) and set(counts.values()) == {1}
    assert Counter(view.member_id for view in sender.sent) == Counter(dict.fromkeys(members, 1))
    assert {r.status for r in ledger_rows(engine)} == {"sent"}


@pytest.mark.parametrize("floor", [1, 5])
def test_a_waves_last_members_are_claimed_a_few_at_a_time_down_to_the_floor(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, floor: int
) -> None:
    # With whole claims to the end, schedulers that ran out of work waited for whoever held the
    # last full batch; smaller claims at the end let them run out together.
    members = _members(engine, [f"T0W{n % 5}" for n in range(60)])
    claim, sizes = ledger.claim_pending, []

    def recording(**kwargs: Any) -> dict[int, list[int]]:
        sizes.append(len(kwargs["member_ids"]))
        return claim(**kwargs)

    monkeypatch.setattr(ledger, "claim_pending", recording)
    sender = RecordingSender()
    service = DigestService(engine, sender, pause=lambda _: None, claim_batch=5, claim_floor=floor)
    report = service.deliver_due(now=T0)

    assert report.messages_sent == 60 and sum(sizes) == 60
    assert Counter(view.member_id for view in sender.sent) == Counter(dict.fromkeys(members, 1))
    if floor == 1:  # whole batches while an eighth of the rest is 5 or more, then that eighth
        assert sizes == [5] * 6 + [4, 4, 3, 3, 2, 2, 2, 2] + [1] * 8
    else:
        assert sizes == [5] * 12


def test_what_a_digest_held_for_the_next_one_is_not_sent_by_another_deliverer_in_the_same_wave(
    engine: Engine,
) -> None:
    [member] = _members(engine, ["T0A"], works=5)
    too_big = RecordingSender()
    too_big.fit = lambda digest: _first_item(digest)  # type: ignore[method-assign]

    class Late(DigestService):
        """A second scheduler that found the member due before the first one sent the digest."""

        def due_members(self, *, now: datetime, force: bool = False) -> list[DueMember]:
            return found_due

    first = DigestService(engine, too_big, pause=lambda _: None, max_messages=3)
    found_due = first.due_members(now=T0)
    assert first.deliver_due(now=T0).messages_sent == 3  # 3 of 5 works; 2 wait for the next digest
    second = Late(engine, too_big, pause=lambda _: None, max_messages=3).deliver_due(now=T0)
    assert second.messages_sent == 0
    assert sorted(r.status for r in ledger_rows(engine, member)) == ["pending"] * 2 + ["sent"] * 3
    assert first.deliver_due(now=T0 + timedelta(minutes=5)).items_sent == 2  # the next digest


def _first_item(digest: DigestView) -> DigestView:
    group = digest.groups[0]
    return DigestView(
        member_id=digest.member_id,
        team_id=digest.team_id,
        user_id=digest.user_id,
        schedule=digest.schedule,
        groups=(type(group)(group.researcher_id, group.name, group.items[:1]),),
        dm_channel=digest.dm_channel,
    )
