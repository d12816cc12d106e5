"""Exactly once across Slack timeouts (issue 14): a post Slack made but answered too late is
found by its metadata key and never sent again; one Slack never made is sent once; an
invitation whose intro may be posted is kept, answerable and reconciled; a digest too big for
one message reaches the member whole, each work once. Real senders against the local Slack,
whose slowed answers come after the message is posted."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

import pytest
from alembic import command
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.app import InlineExecutor, build_bolt_app, web_client
from bot.collaboration_sender import SlackInvitationSender, WorkspaceClients
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from handlers.blocks import within_limits
from handlers.ids import Action
from services.collaboration.invitation_service import InvitationService
from services.digests import queueing
from services.digests.delivery import DigestService
from services.openalex.records import parse_work
from services.openalex.works import store_works
from services.store.engine import alembic_config, session_scope
from services.store.models import utcnow
from tests.collab_support import (
    ALICE,
    SAM,
    add_people,
    claim_and_approve,
    invitations,
    invite_via_modal,
    last_view,
    posted_with,
    press_as,
)
from tests.conftest import SIGNING_SECRET
from tests.digest_support import T0, add_member, author_id, follow, ledger_rows
from tests.openalex_works import work_json
from tests.slack_support import SlackDriver, all_text
from tests.store_support import add_researcher

# The senders give up after 1 s; Slack answers the slowed call after 3 s, having posted already.
TIMEOUT = 1
LATE = 3


class SlackClock:
    """The local Slack's time (message ts follow it): real, or pinned to a test's injected now."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None

    def __call__(self) -> float:
        return (self.pinned or datetime.now(UTC)).timestamp()


@pytest.fixture
def slack_clock() -> SlackClock:
    return SlackClock()


@pytest.fixture
def local_slack(slack_clock: SlackClock) -> Iterator[LocalSlack]:
    with LocalSlack(team_id="T0TEAM1", clock=slack_clock) as local:
        yield local


def _digests(engine: Engine, settings: Settings, *, timeout: int = TIMEOUT) -> DigestService:
    return DigestService(engine, SlackDigestSender(settings, timeout=timeout), pause=lambda _: None)


def _member_with_news(
    engine: Engine,
    *,
    user_id: str = "U0ALICE",
    team_id: str = "T0TEAM1",
    researchers: int = 2,
    works: int = 3,
    first: int = 1,
) -> tuple[int, list[str]]:
    """A member following `researchers` researchers (numbered from `first`) with `works` new
    works between them."""
    member = add_member(engine, user_id, team_id=team_id, frequency="instant")
    authors = [author_id(r) for r in range(first, first + researchers)]
    for author in authors:
        researcher = add_researcher(engine, f"Researcher {author}", openalex_id=author)
        follow(engine, member, researcher, at=T0 - timedelta(days=30))
    # Long titles, as real ones often are: a big backlog then fills messages by text, not blocks.
    titles = [f"Study {n:03d} of many things, considered" + " in depth" * 12 for n in range(1, works + 1)]
    news = [
        work_json(
            f"W7{first:04d}{n:04d}",
            title,
            [(authors[n % researchers], "R")],
            published=date(2026, 10, 1) + timedelta(hours=n),
        )
        for n, title in enumerate(titles, start=1)
    ]
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in news], now=T0)
        queueing.queue_stored_works(session=session, stored=stored, now=T0)
    return member, titles


def _dm(local: LocalSlack, user_id: str) -> str:
    opened = [
        c for c in local.calls_to("conversations.open") if c.params.get("users") == user_id and not c.error
    ]
    assert opened, f"no DM opened with {user_id}"
    return str(opened[0].response["channel"]["id"])


def _text(message: dict[str, Any]) -> str:
    return all_text({"blocks": message.get("blocks") or []})


def test_the_web_client_never_resends_a_request_that_reached_slack(settings: Settings) -> None:
    handlers = web_client(settings).retry_handlers
    request = HttpRequest(method="POST", url=settings.slack_api_url + "chat.postMessage", headers={})

    def retried(error: Exception) -> bool:
        return any(h.can_retry(state=RetryState(), request=request, error=error) for h in handlers)

    assert retried(URLError(ConnectionRefusedError()))  # it never left this machine
    # Dropped or timed out mid-answer: Slack may have posted it; the senders look it up instead.
    assert not any(retried(e) for e in (ConnectionResetError(), RemoteDisconnected(), TimeoutError()))


# ---------------------------------------------------------------------------------------------
# Digests


def test_a_digest_slack_posted_but_answered_late_is_found_and_never_sent_again(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    member, titles = _member_with_news(engine)
    digests = _digests(engine, settings)
    slack_clock.pinned = T0
    local_slack.slow_next("chat.postMessage", LATE)
    first = digests.deliver_due(now=T0)
    assert (first.messages_sent, first.unconfirmed) == (0, 1)
    dm = _dm(local_slack, "U0ALICE")
    [posted] = local_slack.history(dm)  # Slack has it; the sender never heard back
    key = posted["metadata"]["event_payload"]["key"]
    assert posted["metadata"]["event_type"] == "bzpeer_digest"
    assert {(r.status, r.send_key) for r in ledger_rows(engine, member)} == {("unconfirmed", key)}

    slack_clock.pinned = T0 + timedelta(minutes=5)
    second = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (second.confirmed, second.messages_sent) == (1, 0)
    [seen] = local_slack.history(dm)  # the member got one digest, with every work in it
    assert all(title in _text(seen) for title in titles)
    assert {(r.status, r.slack_channel, r.slack_ts) for r in ledger_rows(engine, member)} == {
        ("sent", dm, seen["ts"])
    }
    [lookup] = local_slack.calls_to("conversations.history")
    assert int(lookup.params["limit"]) <= 15 and lookup.params["include_all_metadata"] in ("1", "true")
    assert float(lookup.params["oldest"]) < float(seen["ts"]) < float(lookup.params["latest"])

    assert digests.deliver_due(now=T0 + timedelta(minutes=10)).quiet
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_a_digest_slack_never_posted_is_sent_exactly_once(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    member, titles = _member_with_news(engine)
    digests = _digests(engine, settings)
    slack_clock.pinned = T0
    # Slack fails the post and says so too late: the sender cannot tell this from the case above.
    local_slack.fail_next("chat.postMessage", status=500)
    local_slack.slow_next("chat.postMessage", LATE)
    assert digests.deliver_due(now=T0).unconfirmed == 1
    dm = _dm(local_slack, "U0ALICE")
    assert local_slack.history(dm) == []

    slack_clock.pinned = T0 + timedelta(minutes=5)
    second = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (second.not_posted, second.messages_sent, second.items_sent) == (1, 1, len(titles))
    [seen] = local_slack.history(dm)
    assert all(title in _text(seen) for title in titles)
    assert seen["metadata"]["event_type"] == "bzpeer_digest"
    assert {(r.status, r.slack_ts, r.send_key) for r in ledger_rows(engine, member)} == {
        ("sent", seen["ts"], seen["metadata"]["event_payload"]["key"])
    }
    methods = [
        c.method for c in local_slack.calls if c.method in ("conversations.history", "chat.postMessage")
    ]
    assert methods == ["chat.postMessage", "conversations.history", "chat.postMessage"]  # looked, then sent


def test_an_unreadable_history_holds_the_digest_back_and_never_sends_blind(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    member, _ = _member_with_news(engine)
    digests = _digests(engine, settings)
    slack_clock.pinned = T0
    local_slack.slow_next("chat.postMessage", LATE)
    digests.deliver_due(now=T0)
    # Tier 1 spent (Retry-After past what the client waits for), then a missing scope for a week.
    local_slack.fail_next("conversations.history", status=429, retry_after=60)
    limited = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (limited.still_unconfirmed, limited.messages_sent) == (1, 0)
    local_slack.fail_next("conversations.history", error="missing_scope", times=2)
    assert digests.deliver_due(now=T0 + timedelta(days=6)).still_unconfirmed == 1
    given_up = digests.deliver_due(now=T0 + timedelta(days=8))
    assert (given_up.items_parked, given_up.messages_sent) == (3, 0)
    assert {r.status for r in ledger_rows(engine, member)} == {"parked"}
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_a_workspace_whose_history_cannot_be_read_holds_back_no_other(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    stuck, _ = _member_with_news(engine, user_id="U0ANN", team_id="T0TEAM1", first=1)
    fine, _ = _member_with_news(engine, user_id="U0BEN", team_id="T0TEAM2", first=3)
    also_stuck, _ = _member_with_news(engine, user_id="U0CAT", team_id="T0TEAM1", first=5)
    digests = _digests(engine, settings)
    slack_clock.pinned = T0
    local_slack.slow_next("chat.postMessage", LATE, times=3)
    assert digests.deliver_due(now=T0).unconfirmed == 3
    local_slack.fail_next("conversations.history", error="missing_scope")  # T0TEAM1's install

    report = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (report.confirmed, report.still_unconfirmed, report.messages_sent) == (1, 2, 0)
    assert len(local_slack.calls_to("conversations.history")) == 2  # Cat's would fail like Ann's
    assert {r.status for r in ledger_rows(engine, fine)} == {"sent"}
    assert {r.status for m in (stuck, also_stuck) for r in ledger_rows(engine, m)} == {"unconfirmed"}


def test_a_history_that_cannot_tell_never_leads_to_a_blind_resend(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    member, _ = _member_with_news(engine)
    digests = _digests(engine, settings)
    slack_clock.pinned = T0
    local_slack.slow_next("chat.postMessage", LATE)
    digests.deliver_due(now=T0)
    dm = _dm(local_slack, "U0ALICE")
    for n in range(15):  # the member and the bot chat on: the digest is no longer on one page
        local_slack.api.call("chat.postMessage", {"channel": dm, "text": f"reply {n}"})

    report = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (report.still_unconfirmed, report.messages_sent) == (1, 0)
    assert {r.status for r in ledger_rows(engine, member)} == {"unconfirmed"}
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_a_big_backlog_reaches_the_member_whole_each_work_once_within_limits(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    member, _ = _member_with_news(engine, researchers=60, works=200)
    digests = _digests(engine, settings, timeout=10)
    per_digest: list[int] = []
    while {r.status for r in ledger_rows(engine, member)} != {"sent"}:
        assert len(per_digest) < 10, "the backlog never drained"
        slack_clock.pinned = now = T0 + timedelta(days=len(per_digest))
        report = digests.deliver_due(now=now, force=True)
        per_digest.append(report.messages_sent)

    messages = local_slack.history(_dm(local_slack, "U0ALICE"))
    assert len(per_digest) > 1 and per_digest[0] == 3 and sum(per_digest) == len(messages)
    assert all(within_limits(m["blocks"]) for m in messages)
    number = re.compile(r"Study (\d{3}) of many things")
    shown = Counter(n for m in messages for n in number.findall(_text(m)))
    assert shown == Counter(f"{n:03d}" for n in range(1, 201))  # every work, each exactly once
    notes = [_text(m) for m in messages]
    assert "they come in the next message" in notes[0]
    assert "they come with your next digest" in notes[2] and "more new work" not in notes[-1]
    ts_of = {n: m["ts"] for m in messages for n in number.findall(_text(m))}
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT w.title, d.slack_ts FROM delivery d JOIN work w ON w.id = d.work_id")
        )
        assert all(ts == ts_of[number.findall(title)[0]] for title, ts in rows)


# ---------------------------------------------------------------------------------------------
# Invitations


@pytest.fixture
def intros(runtime: Runtime, settings: Settings) -> InvitationService:
    """The invitation service on a sender that gives up after TIMEOUT seconds."""
    sender = SlackInvitationSender(WorkspaceClients(settings, timeout=TIMEOUT))
    return InvitationService(runtime.services.engine, sender)


@pytest.fixture
def people(
    runtime: Runtime, settings: Settings, local_slack: LocalSlack, intros: InvitationService
) -> SlackDriver:
    services = replace(runtime.services, invitations=intros)
    app = build_bolt_app(settings, services, listener_executor=InlineExecutor())
    driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
    add_people(driver)
    claim_and_approve(driver, SAM)
    return driver


def _invite_answered_late(people: SlackDriver, *, posted: bool) -> tuple[str, str]:
    """Alice invites Sam; Slack answers the intro's post too late. (group DM, modal text)"""
    if not posted:
        people.local.fail_next("chat.postMessage", status=500)
    people.local.slow_next("chat.postMessage", LATE)
    invite_via_modal(people, ALICE)
    group = _dm(people.local, "U0ALICE,U0SAM")
    return group, all_text(last_view(people, "views.update"))


def test_an_intro_answered_late_keeps_the_invitation_and_the_invitees_accept_works(
    people: SlackDriver, runtime: Runtime
) -> None:
    group, modal = _invite_answered_late(people, posted=True)
    assert "Slack didn't confirm your invitation to *Samyadeep Basu* yet" in modal
    assert "nothing was sent" not in modal
    [stored] = invitations(runtime.services.engine)
    assert (stored.status, stored.channel_id, stored.thread_ts) == ("open", group, None)
    [intro] = posted_with(people, Action.INVITE_ACCEPT)
    [in_slack] = people.local.history(group)
    assert in_slack["metadata"]["event_type"] == "bzpeer_invitation" and in_slack["ts"] == intro["_ts"]

    press_as(people, intro, Action.INVITE_ACCEPT, SAM, channel_id=group, message_ts=intro["_ts"])
    update = people.local.calls_to("chat.update")[-1]
    assert (update.params["channel"], update.params["ts"]) == (group, intro["_ts"])
    assert "<@U0SAM> accepted <@U0ALICE>'s invitation" in all_text(update.params)
    thread = [m for m in people.local.history(group) if m.get("thread_ts") == intro["_ts"]]
    assert thread and "over to you both" in _text(thread[-1])
    [stored] = invitations(runtime.services.engine)
    assert (stored.status, stored.thread_ts) == ("accepted", intro["_ts"])
    assert "no longer in the store" not in str(people.replies())


def test_an_intro_answered_late_is_found_by_the_delivery_job_not_sent_again(
    people: SlackDriver, runtime: Runtime, intros: InvitationService
) -> None:
    group, _ = _invite_answered_late(people, posted=True)
    # Not while its sender may still be posting it.
    assert intros.confirm_intros(now=utcnow() + timedelta(minutes=1)).confirmed == 0
    assert people.local.calls_to("conversations.history") == []
    report = intros.confirm_intros(now=utcnow() + timedelta(minutes=10))
    assert (report.confirmed, report.resent) == (1, 0)
    [intro] = people.local.history(group)
    [stored] = invitations(runtime.services.engine)
    assert (stored.status, stored.channel_id, stored.thread_ts) == ("open", group, intro["ts"])
    assert [c.params["channel"] for c in people.local.calls_to("chat.postMessage")].count(group) == 1


def test_an_intro_slack_never_posted_is_sent_once_with_the_same_key(
    people: SlackDriver, runtime: Runtime, intros: InvitationService
) -> None:
    group, modal = _invite_answered_late(people, posted=False)
    assert "Slack didn't confirm" in modal and people.local.history(group) == []
    report = intros.confirm_intros(now=utcnow() + timedelta(minutes=10))
    assert (report.confirmed, report.resent) == (0, 1)
    [intro] = people.local.history(group)
    [tried, resent] = [
        c for c in people.local.calls_to("chat.postMessage") if c.params.get("channel") == group
    ]
    assert tried.params["metadata"] == resent.params["metadata"] == intro["metadata"]
    [stored] = invitations(runtime.services.engine)
    assert stored.thread_ts == intro["ts"]
    press_as(people, intro, Action.INVITE_ACCEPT, SAM, channel_id=group, message_ts=intro["ts"])
    assert [i.status for i in invitations(runtime.services.engine)] == ["accepted"]


# ---------------------------------------------------------------------------------------------
# The migration


def test_migration_0005_adds_the_keys_and_hands_unconfirmed_rows_back_on_downgrade(engine: Engine) -> None:
    member, _ = _member_with_news(engine, works=1)
    with session_scope(engine) as session:
        session.execute(
            text("UPDATE delivery SET status = 'unconfirmed', send_key = 'k1', attempted_at = :at"),
            {"at": T0},
        )
    config = alembic_config(engine)
    command.downgrade(config, "0004")
    with engine.connect() as conn:
        # The older code cannot look a message up, only send it again.
        assert conn.execute(text("SELECT status FROM delivery")).scalars().all() == ["pending"]
        columns = {
            table: set(conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys())
            for table in ("delivery", "invitation")
        }
    command.upgrade(config, "head")
    assert (
        not columns["delivery"] & {"send_key", "attempted_at"} and "attempted_at" not in columns["invitation"]
    )
    [row] = ledger_rows(engine, member)
    assert (row.status, row.send_key, row.attempted_at) == ("pending", None, None)
