"""Channel feeds (issue 17, deliverable 1): `/peer channel …` typed in a channel, through signed
requests against the local Slack; the channel's digest through the real processes (`bzpeer
refresh`, `bzpeer digest --now`) and the real sender: one post a run, into the channel, nothing
twice, claimed co-authors mentioned."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_objects import LocalChannel, SlackUser
from bot.local.slack_server import LocalSlack
from bot.manifest import BOT_SCOPES
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from handlers.blocks import within_limits
from handlers.ids import Action
from services.digests import queueing
from services.digests.channels import ChannelService
from services.digests.delivery import DigestService
from services.openalex.client import OpenAlexClient
from services.openalex.records import parse_work
from services.openalex.topic_lookup import TopicService
from services.openalex.works import store_works
from services.store.engine import session_scope
from services.store.models import Follow, Member, Researcher
from services.workspaces.members import ChannelRef, Viewer
from tests.collab_support import BOB, add_people, claim_and_approve
from tests.crash_support import Chaos, ChaosSlack, Worker, seed_pending, statuses, tally
from tests.digest_support import T0, author_id, ledger_rows
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.openalex_works import work_json
from tests.slack_support import (
    SlackDriver,
    all_text,
    assert_buttons_labelled,
    button,
    buttons,
    press,
    send_dm,
)
from tests.store_support import add_researcher
from tests.test_cli import _env, bzpeer
from tests.topic_support import bzpeer_processes, serve_new_work

BASU = "A5023888391"
FEIZI = "A5011111111"
LAB = "C0LABPAPERS"
NEW_TITLE = "Channel feeds that post exactly once: a field study"


def _set_openalex_id(engine: Engine, name: str, openalex_id: str) -> int:
    """The demo profile as the OpenAlex author it is (what `bzpeer import` would record)."""
    with Session(engine) as session:
        researcher = session.exec(select(Researcher).where(Researcher.name == name)).one()
        researcher.openalex_id = openalex_id
        session.add(researcher)
        session.commit()
        assert researcher.id is not None
        return researcher.id


def _in_channel(driver: SlackDriver, channel: LocalChannel) -> SlackDriver:
    driver.local.add_channel(channel)
    driver.channel_id = channel.id
    return driver


def _channel_row(engine: Engine, channel_id: str = LAB) -> Member | None:
    with Session(engine) as session:
        return session.exec(select(Member).where(col(Member.user_id) == channel_id)).first()


def _channel_follows(engine: Engine, channel_id: str = LAB) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Researcher.name)
            .join(Follow, col(Follow.researcher_id) == col(Researcher.id))
            .join(Member, col(Member.id) == col(Follow.member_id))
            .where(col(Member.user_id) == channel_id)
            .order_by(col(Researcher.name))
        )
        return list(rows)


def _posts_to(local: LocalSlack, channel: str) -> list[dict[str, Any]]:
    return [c.params for c in local.calls_to("chat.postMessage") if c.params.get("channel") == channel]


@pytest.fixture
def lab(driver: SlackDriver) -> SlackDriver:
    """The driver typing in #lab-papers, a public channel; the people of the workspace."""
    add_people(driver)
    members = ["U0ALICE", "U0SAM", "U0BOB"]
    return _in_channel(driver, LocalChannel(LAB, "lab-papers", members=members))


@pytest.mark.slow
def test_channel_follow_then_refresh_and_digest_posts_once_in_the_channel_mentioning_the_claimed_coauthor(
    lab: SlackDriver, engine: Engine, database_url: str, local_slack: LocalSlack, tmp_path: Path
) -> None:
    _set_openalex_id(engine, "Samyadeep Basu", BASU)
    _set_openalex_id(engine, "Soheil Feizi", FEIZI)
    claim_and_approve(lab, BOB, "Soheil Feizi")

    lab.command("channel follow Samyadeep Basu")
    answer = all_text(lab.last_reply())
    assert lab.last_reply().get("response_type") == "ephemeral"
    assert "#lab-papers now follows *Samyadeep Basu*" in answer
    assert "daily at 09:00 (Europe/London)" in answer  # Alice's zone: she set the channel up
    assert _channel_follows(engine) == ["Samyadeep Basu"]
    assert _posts_to(local_slack, LAB) == []  # a change posts nothing in the channel

    opened = len(local_slack.calls_to("conversations.open"))  # the claim's review DMs
    openalex = FakeOpenAlex()
    serve_new_work(openalex, "W4888888888", NEW_TITLE, [(BASU, "Samyadeep Basu"), (FEIZI, "Soheil Feizi")])
    with bzpeer_processes(openalex, local_slack, database_url, tmp_path) as bot:
        refreshed, sent = bot.refresh_then_digest()
        assert refreshed.returncode == 0 and sent.returncode == 0, refreshed.stderr + sent.stderr
        assert "1 digest item queued" in refreshed.stdout
        assert "Digest: 1 message sent (1 item)" in sent.stdout

        [post] = _posts_to(local_slack, LAB)
        text = all_text(post)
        assert NEW_TITLE in post["text"] and NEW_TITLE in text
        assert "<@U0BOB>" in text  # Bob claimed Soheil Feizi, a co-author
        assert "/peer channel" in text
        assert not [
            b for b in buttons(post).values() if b["action_id"] in (Action.UNFOLLOW, Action.MUTE_RESEARCHER)
        ]
        assert len(local_slack.calls_to("conversations.open")) == opened  # straight into the channel

        again_refresh, again = bot.refresh_then_digest()
    assert "0 digest items queued" in again_refresh.stdout
    assert "Digest: 0 messages sent" in again.stdout
    assert len(_posts_to(local_slack, LAB)) == 1


# ---------------------------------------------------------------------------------------------
# Where a feed can be set up


def test_a_private_channel_without_the_bot_gets_the_invite_hint_and_nothing_is_stored(
    driver: SlackDriver, engine: Engine
) -> None:
    _in_channel(driver, LocalChannel("G0SECRET", "secret-lab", is_private=True, bot_is_member=False))
    driver.command("channel follow Samyadeep Basu")
    answer = all_text(driver.last_reply())
    assert "Invite me first: `/invite @BZPEER`" in answer
    assert _channel_row(engine, "G0SECRET") is None

    # Once invited, the same command works.
    driver.local.add_channel(LocalChannel("G0SECRET", "secret-lab", is_private=True, bot_is_member=True))
    driver.command("channel follow Samyadeep Basu")
    assert "#secret-lab now follows *Samyadeep Basu*" in all_text(driver.last_reply())
    assert _channel_follows(engine, "G0SECRET") == ["Samyadeep Basu"]


def test_typed_in_a_dm_or_in_the_bots_dm_it_says_to_type_it_in_a_channel(
    driver: SlackDriver, engine: Engine
) -> None:
    driver.channel_id = "D0ALICE"
    driver.command("channel follow Samyadeep Basu")
    assert "Channel feeds are set up in a channel" in all_text(driver.last_reply())

    group = driver.local.api.call("conversations.open", {"users": "U0ALICE,U0SAM"})["channel"]["id"]
    driver.channel_id = group  # a group DM: conversations.info says is_mpim
    driver.command("channel follow Samyadeep Basu")
    assert "Channel feeds are set up in a channel" in all_text(driver.last_reply())

    send_dm(driver, "channel follow Samyadeep Basu")
    [answer] = driver.local.calls_to("chat.postMessage")
    assert "Channel feeds are set up in a channel" in all_text(answer.params)
    with Session(engine) as session:
        assert session.exec(select(Follow)).all() == []


def test_an_archived_channel_and_an_unknown_verb_are_answered_clearly(lab: SlackDriver) -> None:
    lab.command("channel subscribe Samyadeep Basu")
    assert "“subscribe” is not something `/peer channel` does" in all_text(lab.last_reply())
    lab.command("channel follow")
    assert "Type a researcher after `/peer channel follow`" in all_text(lab.last_reply())
    lab.command("channel follow <b>&amp;")
    assert "<b>" not in all_text(lab.last_reply())  # echoed text is escaped
    _in_channel(lab, LocalChannel("C0OLD", "old-papers", is_archived=True))
    lab.command("channel follow Samyadeep Basu")
    assert "#old-papers is archived" in all_text(lab.last_reply())


# ---------------------------------------------------------------------------------------------
# Subscriptions


def test_channel_lists_its_subscriptions_with_unfollow_buttons_and_unfollows(
    lab: SlackDriver, engine: Engine
) -> None:
    lab.command("channel")
    text = all_text(lab.last_reply())
    assert "#lab-papers follows nobody yet" in text
    # Nobody set the feed up: its zone is nobody's yet (not UTC, which it will not be).
    assert "daily at 09:00, in the time zone of whoever first changes what it follows or when" in text
    assert "UTC" not in text
    lab.command("channel follow Samyadeep Basu")
    lab.command("channel follow Soheil Feizi")
    lab.command("channel")
    listing = lab.last_reply()
    text = all_text(listing)
    assert "#lab-papers follows 2 researchers" in text
    assert "daily at 09:00 (Europe/London: the time zone of whoever set up this feed or last changed" in text
    unfollow = button(listing, Action.CHANNEL_UNFOLLOW)
    assert unfollow["accessibility_label"] == "Unfollow Samyadeep Basu in #lab-papers"

    press(lab, unfollow, channel_id=LAB)
    assert "#lab-papers no longer follows *Samyadeep Basu*" in all_text(lab.last_reply())
    assert _channel_follows(engine) == ["Soheil Feizi"]

    # A button pressed in another conversation does not change this channel.
    press(lab, button(listing, Action.CHANNEL_UNFOLLOW), channel_id="C0ELSEWHERE")
    assert "out of date" in all_text(lab.last_reply())

    lab.command("channel unfollow Soheil Feizi")
    assert "#lab-papers no longer follows *Soheil Feizi*" in all_text(lab.last_reply())
    lab.command("channel unfollow Soheil Feizi")
    assert "#lab-papers does not follow *Soheil Feizi*" in all_text(lab.last_reply())
    lab.command("channel unfollow Nobody Atall")
    assert "#lab-papers follows nobody matching “Nobody Atall”" in all_text(lab.last_reply())
    assert _channel_follows(engine) == []
    # People's own follows never list the channel's.
    lab.command("following")
    assert "Soheil" not in all_text(lab.last_reply())


def test_an_ambiguous_name_gives_a_pick_list_whose_follow_button_subscribes_the_channel(
    lab: SlackDriver, engine: Engine
) -> None:
    add_researcher(engine, "Jane Doe", openalex_id="A5000000101")
    add_researcher(engine, "Jane Doe", openalex_id="A5000000102")
    lab.command("channel follow Jane Doe")
    picks = lab.last_reply()
    follow = button(picks, Action.CHANNEL_FOLLOW)
    assert (
        follow["text"]["text"] == "Follow"
        and follow["accessibility_label"] == "Follow Jane Doe in #lab-papers"
    )
    press(lab, follow, channel_id=LAB)
    assert "#lab-papers now follows *Jane Doe*" in all_text(lab.last_reply())
    assert _channel_follows(engine) == ["Jane Doe"]


MEARMAN = "A5017898742"


def _serve_mearman(openalex: FakeOpenAlex, *, also: dict[str, Any] | None = None) -> None:
    def candidate(short_id: str, name: str, hint: str | None) -> dict[str, Any]:
        return {
            "id": f"https://openalex.org/{short_id}",
            "display_name": name,
            "hint": hint,
            "works_count": 9,
        }

    found = [candidate(MEARMAN, "Joseph Mearman", "Bangor University")]
    if also:
        found.append(candidate(also["id"], also["name"], None))
    openalex.add("/autocomplete/authors", {"meta": {"count": len(found)}, "results": found})
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))


def test_someone_not_in_the_store_is_looked_up_and_followed_for_the_channel(
    lab: SlackDriver, engine: Engine, openalex: FakeOpenAlex
) -> None:
    _serve_mearman(openalex)
    lab.command("channel follow Joseph Mearman & <b>")
    offer = lab.last_reply()
    text = all_text(offer)
    assert "No researcher matching “Joseph Mearman &amp; &lt;b&gt;” is in the store yet." in text
    assert "#lab-papers follows them" in text and "<b>" not in text
    # Not the personal look-up, whose card's Follow would follow for the presser.
    assert Action.OPENALEX_LOOKUP not in {b["action_id"] for b in buttons(offer).values()}
    look_up = button(offer, Action.CHANNEL_LOOKUP)
    assert look_up["accessibility_label"].startswith("Look up and follow in #lab-papers: Joseph Mearman")

    # Pressed in another conversation, it changes nothing.
    press(lab, look_up, channel_id="C0ELSEWHERE")
    assert "out of date" in all_text(lab.last_reply()) and _channel_follows(engine) == []

    lab.command("channel follow Joseph Mearman")
    press(lab, button(lab.last_reply(), Action.CHANNEL_LOOKUP), channel_id=LAB)
    progress, answer = lab.replies()[-2:]
    assert "Looking up “Joseph Mearman” on OpenAlex" in all_text(progress)
    assert answer["replace_original"] is True
    assert "#lab-papers now follows *Joseph Mearman*" in all_text(answer)
    assert _channel_follows(engine) == ["Joseph Mearman"]
    # The presser's own follows are untouched.
    lab.command("following")
    assert "Mearman" not in all_text(lab.last_reply())


def test_several_openalex_authors_give_a_pick_list_that_follows_for_the_channel(
    lab: SlackDriver, engine: Engine, openalex: FakeOpenAlex
) -> None:
    _serve_mearman(openalex, also={"id": "A5000000001", "name": "Joe Mearman"})
    lab.command("channel follow J Mearman")
    press(lab, button(lab.last_reply(), Action.CHANNEL_LOOKUP), channel_id=LAB)
    choices = lab.last_reply()
    assert "Follow the one you mean in #lab-papers" in all_text(choices)
    follows = [b["accessory"] for b in choices["blocks"] if b.get("accessory")]
    assert [f["action_id"] for f in follows] == [Action.CHANNEL_IMPORT] * 2
    assert follows[0]["accessibility_label"].startswith("Follow in #lab-papers: Joseph Mearman")
    press(lab, follows[0], channel_id=LAB)
    assert "#lab-papers now follows *Joseph Mearman*" in all_text(lab.last_reply())
    assert _channel_follows(engine) == ["Joseph Mearman"]


def test_follow_members_pages_through_the_channel_and_picks_up_newcomers(
    lab: SlackDriver, engine: Engine, local_slack: LocalSlack
) -> None:
    crowd = [f"U0P{n:05d}" for n in range(450)]  # three pages of conversations.members
    for user in crowd:
        local_slack.add_user(SlackUser(user, "T0TEAM1", user.lower(), f"Person {user}"))
    lab.local.add_channel(LocalChannel(LAB, "lab-papers", members=["U0ALICE", *crowd]))
    lab.command("channel follow members")
    assert "Nobody in #lab-papers has claimed a researcher profile yet" in all_text(lab.last_reply())
    assert _channel_row(engine) is None or _channel_follows(engine) == []

    claim_and_approve(lab, BOB, "Soheil Feizi")
    lab.local.add_channel(LocalChannel(LAB, "lab-papers", members=["U0ALICE", *crowd, "U0BOB"]))
    lab.command("channel follow members")
    assert "#lab-papers now follows 1 member who claimed a profile: Soheil Feizi" in all_text(
        lab.last_reply()
    )
    pages = [c for c in local_slack.calls_to("conversations.members") if c.params.get("channel") == LAB]
    assert len(pages) == 2 * 3 and all(int(c.params["limit"]) <= 200 for c in pages)

    claim_and_approve(lab, Viewer("T0TEAM1", "U0P00300"), "Samyadeep Basu")
    lab.command("channel follow members")
    text = all_text(lab.last_reply())
    assert "now follows 1 member who claimed a profile: Samyadeep Basu" in text
    assert "Already followed: 1 member (Soheil Feizi)" in text
    assert _channel_follows(engine) == ["Samyadeep Basu", "Soheil Feizi"]


def test_channel_digest_sets_the_schedule_in_the_setters_time_zone(lab: SlackDriver, engine: Engine) -> None:
    lab.local.add_user(SlackUser("U0BOB", "T0TEAM1", "bob", "Bob Builder", tz="Europe/Berlin"))
    lab.command("channel digest weekly on friday at 16:00", user_id="U0BOB")
    text = all_text(lab.last_reply())
    assert "#lab-papers now gets its digest posted weekly on Fridays at 16:00 (Europe/Berlin)" in text
    assert "(Europe/Berlin: your time zone, as you set it)" in text
    row = _channel_row(engine)
    assert row is not None and (row.digest_frequency, row.digest_time, row.digest_weekday, row.tz) == (
        "weekly",
        "16:00",
        4,
        "Europe/Berlin",
    )
    lab.command("channel digest hourly")
    assert "“hourly” is not a digest schedule" in all_text(lab.last_reply())
    lab.command("channel digest instant")
    assert "posted as soon as new works are found" in all_text(lab.last_reply())
    lab.command("channel digest off")
    text = all_text(lab.last_reply())
    assert "The digest of #lab-papers is now off: nothing is posted there" in text
    assert "The digest here is off. Change it with" in text
    # A person's own schedule is theirs: Bob's stays the default.
    lab.command("digest", user_id="U0BOB")
    assert "daily at 09:00" in all_text(lab.last_reply())


def test_the_manifest_asks_for_the_channel_scopes() -> None:
    assert {
        "chat:write.public",
        "channels:read",
        "groups:read",
        "channels:history",
        "groups:history",
        "channels:join",
    } <= set(BOT_SCOPES)


# ---------------------------------------------------------------------------------------------
# Sending: one post a run, within Slack's limits, exactly once


class SlackClock:
    """The local Slack's time (message ts follow it), pinned to the test's injected now."""

    def __init__(self) -> None:
        self.pinned = T0

    def __call__(self) -> float:
        return self.pinned.timestamp()


@pytest.fixture
def slack_clock() -> SlackClock:
    return SlackClock()


@pytest.fixture
def local_slack(slack_clock: SlackClock) -> Iterator[LocalSlack]:
    with LocalSlack(team_id="T0TEAM1", clock=slack_clock) as local:
        yield local
        assert_buttons_labelled(local.calls)


def _channel_with_news(engine: Engine, *, researchers: int, works: int, channel_id: str = LAB) -> list[str]:
    """A channel following `researchers` researchers, each with `works` new works (long titles)."""
    channels = channel_service(engine)
    ref, alice = ChannelRef("T0TEAM1", channel_id), Viewer("T0TEAM1", "U0ALICE")
    authors = [author_id(r) for r in range(1, researchers + 1)]
    for author in authors:
        researcher = add_researcher(engine, f"Researcher {author}", openalex_id=author)
        channels.follow(ref, researcher, setter=alice, now=T0 - timedelta(days=30))
    channels.set_schedule(ref, frequency="instant", setter=alice, now=T0 - timedelta(days=30))
    news, titles = [], []
    for r, author in enumerate(authors):
        for n in range(works):
            title = f"Study {r:02d}-{n:03d} of many things, considered" + " in depth" * 8
            titles.append(title)
            published = date(2026, 10, 1) + timedelta(hours=r * works + n)
            news.append(work_json(f"W7{r:04d}{n:04d}", title, [(author, "R")], published=published))
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in news], now=T0)
        queueing.queue_stored_works(session=session, stored=stored, now=T0)
    return titles


def channel_service(engine: Engine) -> ChannelService:
    """ChannelService as the app wires it, on an OpenAlex stand-in that answers nothing."""
    openalex = OpenAlexClient(
        "https://api.openalex.org", transport=FakeOpenAlex().transport(), sleep=lambda _: None
    )
    return ChannelService(engine, TopicService(engine, openalex))


def _digests(engine: Engine, settings: Settings, *, timeout: int = 1) -> DigestService:
    return DigestService(engine, SlackDigestSender(settings, timeout=timeout), pause=lambda _: None)


def test_the_largest_channel_digest_is_one_post_per_run_within_limits_and_nothing_is_skipped(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    local_slack.add_channel(LocalChannel(LAB, "lab-papers"))
    titles = _channel_with_news(engine, researchers=10, works=40)
    digests = _digests(engine, settings)
    seen: list[str] = []
    for run in range(40):
        now = T0 + timedelta(minutes=5 * run)
        slack_clock.pinned = now
        before = len(local_slack.history(LAB))
        report = digests.deliver_due(now=now)
        posts = local_slack.history(LAB)[before:]
        assert len(posts) <= 1 and report.messages_sent == len(posts)  # one post a run at most
        if not posts:
            break
        [post] = posts
        assert within_limits(post["blocks"])
        text = all_text({"blocks": post["blocks"]})
        seen += [title for title in titles if title in text]
        if len(set(seen)) < len(titles):
            assert "in the next post" in text  # what did not fit is said, and waits
        else:
            assert "in the next post" not in text
    assert sorted(seen) == sorted(titles)  # every work once, none skipped
    assert {r.status for r in ledger_rows(engine)} == {"sent"}
    assert len(local_slack.history(LAB)) > 1


def test_a_channel_post_slack_answered_late_is_found_in_the_channel_history_and_not_resent(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    local_slack.add_channel(LocalChannel(LAB, "lab-papers"))
    titles = _channel_with_news(engine, researchers=2, works=2)
    digests = _digests(engine, settings)
    local_slack.slow_next("chat.postMessage", 3)
    first = digests.deliver_due(now=T0)
    assert (first.messages_sent, first.unconfirmed) == (0, 1)
    [posted] = local_slack.history(LAB)

    slack_clock.pinned = T0 + timedelta(minutes=5)
    second = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (second.confirmed, second.messages_sent) == (1, 0)
    [lookup] = local_slack.calls_to("conversations.history")
    assert lookup.params["channel"] == LAB
    assert {(r.status, r.slack_channel, r.slack_ts) for r in ledger_rows(engine)} == {
        ("sent", LAB, posted["ts"])
    }
    assert all(title in all_text({"blocks": posted["blocks"]}) for title in titles)
    assert digests.deliver_due(now=T0 + timedelta(minutes=10)).quiet
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_a_late_post_in_a_public_channel_the_bot_never_joined_is_found_after_joining_it(
    engine: Engine, local_slack: LocalSlack, slack_clock: SlackClock, settings: Settings
) -> None:
    # chat:write.public posts without joining, but only members read a channel's history.
    local_slack.add_channel(LocalChannel(LAB, "lab-papers", bot_is_member=False))
    _channel_with_news(engine, researchers=1, works=2)
    digests = _digests(engine, settings)
    local_slack.slow_next("chat.postMessage", 3)
    assert digests.deliver_due(now=T0).unconfirmed == 1
    [posted] = local_slack.history(LAB)

    slack_clock.pinned = T0 + timedelta(minutes=5)
    second = digests.deliver_due(now=T0 + timedelta(minutes=5))
    assert (second.confirmed, second.messages_sent, second.members_parked) == (1, 0, 0)
    assert [c.params["channel"] for c in local_slack.calls_to("conversations.join")] == [LAB]
    assert len(local_slack.calls_to("conversations.history")) == 2  # refused, then read as a member
    assert {(r.status, r.slack_ts) for r in ledger_rows(engine)} == {("sent", posted["ts"])}
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_a_channel_the_bot_was_removed_from_is_parked_not_retried(
    engine: Engine, local_slack: LocalSlack, settings: Settings
) -> None:
    local_slack.add_channel(LocalChannel("G0GONE", "gone", is_private=True, bot_is_member=False))
    _channel_with_news(engine, researchers=1, works=2, channel_id="G0GONE")
    report = _digests(engine, settings).deliver_due(now=T0)
    assert (report.members_parked, report.items_parked, report.messages_sent) == (1, 2, 0)
    assert {r.status for r in ledger_rows(engine)} == {"parked"}


# ---------------------------------------------------------------------------------------------
# The local shell


@pytest.mark.slow
def test_the_shell_tries_a_channel_feed_end_to_end(database_url: str, tmp_path: Path) -> None:
    session = "\n".join(
        [":in #lab-papers", "/peer channel follow Samyadeep Basu", ":news", ":digest", ":channel", "quit", ""]
    )
    result = bzpeer(env=_env(database_url, COLUMNS="250"), cwd=tmp_path, stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You now type in #lab-papers" in out
    assert "#lab-papers now follows Samyadeep Basu" in out.replace("*", "")
    digest = out.split("bzpeer> :digest", 1)[1]
    assert "New papers from researchers this channel follows" in digest
    assert "A new paper by Samyadeep Basu (demo news" in digest
    assert "in #lab-papers" in digest and "1 message sent (1 item)" in digest
    assert "New papers from researchers this channel follows" in digest.split("bzpeer> :channel", 1)[1]


@pytest.mark.slow
def test_sigkills_mid_delivery_of_channel_posts_lose_nothing_and_send_nothing_twice(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack = ChaosSlack(team_id="T0CHAOS", clock=time.time)
    with slack:
        owner = seed_pending(engine, members=8, max_works=2, rng=random.Random(5), channels=True)
        for n in range(1, 9):
            slack.add_channel(LocalChannel(f"C0C{n:05d}", f"lab-{n}"))
        chaos = Chaos(
            engine, slack, Worker(database_url, slack.url, tmp_path), random.Random(5), fault_rate=0
        )
        process = chaos.worker.start()
        deadline = time.monotonic() + 60
        while statuses(engine)["sent"] < 3:
            assert time.monotonic() < deadline, "no channel post settled in 60 s"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        assert chaos.record_kill(process, time.monotonic(), 0, "between posts") is not None
        # Killed while Slack answers a post to a channel: Slack has it, the ledger does not.
        assert chaos.kill_in_flight() is not None
        assert chaos.finish() == 1
        outcome = tally(slack, engine, owner, chaos.in_flight)
        looked_up = [c.params.get("channel") for c in slack.calls_to("conversations.history")]
        opened = slack.calls_to("conversations.open")

    assert outcome.lost == [] and outcome.delivered == len(owner)
    assert outcome.statuses == {"sent": len(owner)} and outcome.phantom == 0
    assert (outcome.duplicate_messages, outcome.duplicate_items) == (0, 0)
    assert looked_up and all(str(c).startswith("C0C") for c in looked_up)  # the channel's history
    assert opened == []  # straight into the channels
