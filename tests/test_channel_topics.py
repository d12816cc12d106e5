"""A channel follows topics (issue 17, deliverable 2: `/peer channel follow topic TOPIC`), through
signed requests against the local Slack and the OpenAlex stand-in: the answer speaks for the
channel, words give a pick list whose buttons act in the channel (and only there), `/peer channel`
lists topics beside researchers, and the channel's post shows a topic's best cited works with
claimed co-authors mentioned; end to end through `bzpeer refresh` and `bzpeer digest --now`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_objects import LocalChannel
from bot.local.slack_server import LocalSlack
from bot.settings import Settings
from handlers.blocks import within_limits
from handlers.ids import Action
from services.digests import queueing
from services.openalex.records import parse_work
from services.openalex.works import store_works
from services.store.engine import session_scope
from services.store.models import Member, Topic, TopicFollow
from services.workspaces.members import ChannelRef, Viewer
from tests.collab_support import BOB, claim_and_approve
from tests.digest_support import T0
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.openalex_works import work_json
from tests.slack_support import SlackDriver, all_text, buttons, placed_elements, press
from tests.store_support import add_researcher
from tests.test_channel_feeds import (
    FEIZI,
    LAB,
    _digests,
    _in_channel,
    _posts_to,
    _set_openalex_id,
    channel_service,
    lab,
)
from tests.test_cli import _env, bzpeer
from tests.topic_support import T10017, T10017_NAME, bzpeer_processes, serve_new_work, serve_topics

__all__ = ["lab"]  # the fixture: the driver typing in #lab-papers

NEW_TITLE = "Influence functions for a whole channel: tracing outputs to training data"
TOPIC = (T10017, T10017_NAME)


def _channel_topics(engine: Engine, channel_id: str = LAB) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Topic.name)
            .join(TopicFollow, col(TopicFollow.topic_id) == col(Topic.id))
            .join(Member, col(Member.id) == col(TopicFollow.member_id))
            .where(col(Member.user_id) == channel_id, col(TopicFollow.parked).is_(False))
            .order_by(col(Topic.name))
        )
        return list(rows)


def _channel_buttons(message: dict, action: str) -> list[dict]:
    return [e for _, e in placed_elements(message) if e.get("action_id") == action]


@pytest.mark.slow
def test_channel_follow_topic_then_refresh_and_digest_posts_the_work_under_the_topic_once(
    lab: SlackDriver,
    engine: Engine,
    openalex: FakeOpenAlex,
    local_slack: LocalSlack,
    database_url: str,
    tmp_path: Path,
) -> None:
    serve_topics(openalex)
    _set_openalex_id(engine, "Soheil Feizi", FEIZI)
    claim_and_approve(lab, BOB, "Soheil Feizi")

    lab.command(f"channel follow topic {T10017}")
    reply = lab.last_reply()
    answer = all_text(reply)
    assert reply.get("response_type") == "ephemeral"
    assert f"#lab-papers now follows the topic *{T10017_NAME}*" in answer
    # Alice set the channel up: its post is read in her zone, daily at 09:00 by default.
    assert "its new works come in the channel's daily post at 09:00 (Europe/London)" in answer
    assert "#lab-papers follows 1 topic." in answer
    assert _channel_topics(engine) == [T10017_NAME]
    with Session(engine) as session:
        person_follows = session.exec(
            select(TopicFollow).join(Member).where(col(Member.user_id) == "U0ALICE")
        ).all()
    assert person_follows == []  # the channel follows it, not Alice
    assert _posts_to(local_slack, LAB) == []

    authors = [("A5999999001", "Ada Byron"), (FEIZI, "Soheil Feizi")]
    serve_new_work(openalex, "W4999999101", NEW_TITLE, authors, topic=TOPIC)
    with bzpeer_processes(openalex, local_slack, database_url, tmp_path) as bot:
        refreshed, sent = bot.refresh_then_digest()
        assert refreshed.returncode == 0 and sent.returncode == 0, refreshed.stderr + sent.stderr
        assert "0 followed researchers and 1 followed topic in 1 batch" in refreshed.stdout
        assert "1 digest item queued" in refreshed.stdout
        assert "Digest: 1 message sent (1 item)" in sent.stdout
        again_refresh, again = bot.refresh_then_digest()
    assert "0 digest items queued" in again_refresh.stdout and "Digest: 0 messages sent" in again.stdout

    [post] = _posts_to(local_slack, LAB)
    assert NEW_TITLE in post["text"] and "from topics this channel follows" in post["text"]
    text = all_text(post)
    blocks = json.loads(post["blocks"]) if isinstance(post["blocks"], str) else post["blocks"]
    [topic_section] = [b["text"]["text"] for b in blocks if NEW_TITLE in b.get("text", {}).get("text", "")]
    assert f":label: *{T10017_NAME}* (topic) · 1 new work" in topic_section
    assert "<@U0BOB>" in topic_section  # Bob claimed Soheil Feizi, a co-author
    assert "New papers from topics this channel follows" in text and "/peer channel" in text
    assert not buttons(post)  # a channel's post acts for nobody


def test_unfollow_topic_by_the_list_button_and_by_command(
    lab: SlackDriver, engine: Engine, openalex: FakeOpenAlex
) -> None:
    serve_topics(openalex)
    lab.command("channel follow Samyadeep Basu")
    lab.command(f"channel follow topic {T10017}")
    lab.command(f"channel follow topic {T10017}")
    assert f"#lab-papers already follows the topic *{T10017_NAME}*" in all_text(lab.last_reply())
    lab.command("channel")
    listing = lab.last_reply()
    assert "#lab-papers follows 1 researcher and 1 topic." in all_text(listing)
    [unfollow] = _channel_buttons(listing, Action.CHANNEL_TOPIC_UNFOLLOW)
    assert unfollow["accessibility_label"].startswith("Unfollow in #lab-papers: topic Interpretability")

    press(lab, unfollow, channel_id="C0ELSEWHERE")  # pressed elsewhere: refused, nothing changes
    assert "out of date" in all_text(lab.last_reply())
    press(lab, {**unfollow, "action_id": Action.CHANNEL_TOPIC_FOLLOW}, channel_id=LAB)  # an edited press
    assert "out of date" in all_text(lab.last_reply())
    assert _channel_topics(engine) == [T10017_NAME]

    press(lab, unfollow, channel_id=LAB)
    after = all_text(lab.last_reply())
    assert f"#lab-papers no longer follows the topic *{T10017_NAME}*" in after
    assert "#lab-papers follows 1 researcher." in after
    assert _channel_topics(engine) == []

    lab.command(f"channel follow topic https://openalex.org/{T10017}")
    openalex.add(f"/topics/{T10017}", {"error": "down"}, status=503)  # an id it follows needs no look-up
    lab.command(f"channel unfollow topic {T10017}")
    assert f"#lab-papers no longer follows the topic *{T10017_NAME}*" in all_text(lab.last_reply())
    lab.command(f"channel unfollow topic {T10017}")
    assert f"#lab-papers does not follow the topic *{T10017_NAME}*" in all_text(lab.last_reply())


def test_words_give_a_pick_list_whose_buttons_act_in_the_channel_only(
    lab: SlackDriver, engine: Engine, openalex: FakeOpenAlex
) -> None:
    serve_topics(openalex)
    lab.command("channel follow topic machine learning")
    picks = lab.last_reply()
    assert "Several OpenAlex topics match “machine learning”. Which one?" in all_text(picks)
    follows = _channel_buttons(picks, Action.CHANNEL_TOPIC_FOLLOW)
    assert len(follows) == 3 and not _channel_buttons(picks, Action.TOPIC_VIEW)
    xai = next(b for b in follows if "T12026" in b["value"])
    assert xai["text"]["text"] == "Follow"
    assert (
        xai["accessibility_label"] == "Follow in #lab-papers: topic Explainable Artificial Intelligence (XAI)"
    )
    assert _channel_topics(engine) == []  # words naming several follow nothing

    press(lab, xai, channel_id="C0ELSEWHERE")
    assert "out of date" in all_text(lab.last_reply())
    assert _channel_topics(engine) == []

    press(lab, xai, channel_id=LAB)
    assert "#lab-papers now follows the topic *Explainable Artificial Intelligence (XAI)*" in all_text(
        lab.last_reply()
    )
    assert _channel_topics(engine) == ["Explainable Artificial Intelligence (XAI)"]

    # Unfollow by words: among the matches, the one the channel follows.
    lab.command("channel unfollow topic machine learning")
    assert "#lab-papers no longer follows the topic *Explainable" in all_text(lab.last_reply())
    lab.command("channel unfollow topic machine learning")
    assert "#lab-papers follows no topic matching “machine learning”" in all_text(lab.last_reply())

    # Two followed matches: the pick list offers Unfollow for those two only, pressed in the channel.
    lab.command("channel follow topic T12026")
    lab.command("channel follow topic T11689")
    lab.command("channel unfollow topic machine learning")
    unfollows = _channel_buttons(lab.last_reply(), Action.CHANNEL_TOPIC_UNFOLLOW)
    assert len(unfollows) == 2 and all(b["text"]["text"] == "Unfollow" for b in unfollows)
    press(lab, next(b for b in unfollows if "T11689" in b["value"]), channel_id=LAB)
    assert "no longer follows the topic *Adversarial Robustness" in all_text(lab.last_reply())
    assert _channel_topics(engine) == ["Explainable Artificial Intelligence (XAI)"]


def test_typed_outside_a_channel_or_naming_nothing_it_says_what_to_type(
    lab: SlackDriver, engine: Engine, openalex: FakeOpenAlex
) -> None:
    serve_topics(openalex)
    lab.command("channel follow topic")
    assert "Type a topic after `/peer channel follow topic`" in all_text(lab.last_reply())
    lab.command("channel unfollow topic")
    assert "Type a topic after `/peer channel unfollow topic`" in all_text(lab.last_reply())
    lab.command("channel follow topic quantum basket <weaving>")
    text = all_text(lab.last_reply())
    assert "No OpenAlex topic matches “quantum basket &lt;weaving&gt;”." in text and "`T10017`" in text
    assert _channel_topics(engine) == []
    with Session(engine) as session:  # nothing followed, so no channel row either
        assert session.exec(select(Member).where(col(Member.user_id) == LAB)).all() == []

    lab.channel_id = "D0ALICE"
    lab.command(f"channel follow topic {T10017}")
    assert "Channel feeds are set up in a channel" in all_text(lab.last_reply())
    _in_channel(lab, LocalChannel("G0SECRET", "secret-lab", is_private=True, bot_is_member=False))
    lab.command(f"channel follow topic {T10017}")
    assert "Invite me first" in all_text(lab.last_reply())
    assert _channel_topics(engine, "G0SECRET") == []


def test_the_topic_card_in_a_channel_says_how_the_channel_follows_it(
    lab: SlackDriver, openalex: FakeOpenAlex
) -> None:
    serve_topics(openalex)
    lab.command(f"topic {T10017}")
    assert f"`/peer channel follow topic {T10017}` posts its new works in this channel" in all_text(
        lab.last_reply()
    )
    lab.channel_id = "D0ALICE"
    lab.command(f"topic {T10017}")
    assert "channel follow topic" not in all_text(lab.last_reply())
    lab.command("help")
    assert "channel follow topic TOPIC" in all_text(lab.last_reply())


def _follow_many(engine: Engine, *, researchers: int, topics: int) -> None:
    """The channel follows this many researchers and topics, every name as long as they come."""
    channels = channel_service(engine)
    ref, alice = ChannelRef("T0TEAM1", LAB), Viewer("T0TEAM1", "U0ALICE")
    for n in range(researchers):
        rid = add_researcher(engine, f"Researcher {n:02d} " + "Longname-" * 20, openalex_id=f"A59{n:08d}")
        channels.follow(ref, rid, setter=alice, now=T0)
    with session_scope(engine) as session:
        member = session.exec(select(Member).where(col(Member.user_id) == LAB)).one()
        for n in range(topics):
            topic = Topic(openalex_id=f"T9{n:04d}", name=f"Topic {n:02d} & <things> " + "on and on " * 40)
            session.add(topic)
            session.flush()
            session.add(TopicFollow(member_id=member.id or 0, topic_id=topic.id or 0, created_at=T0))


def test_forty_researchers_and_forty_topics_list_within_slacks_limits(
    lab: SlackDriver, engine: Engine
) -> None:
    _follow_many(engine, researchers=40, topics=40)
    lab.command("channel")
    listing = lab.last_reply()
    assert within_limits(listing["blocks"])
    text = all_text(listing)
    assert "#lab-papers follows 40 researchers and 40 topics." in text
    researchers = _channel_buttons(listing, Action.CHANNEL_UNFOLLOW)
    topics = _channel_buttons(listing, Action.CHANNEL_TOPIC_UNFOLLOW)
    assert len(researchers) >= 10 and len(topics) >= 10  # both kinds have rows
    assert f"…and {40 - len(researchers)} more researchers" in text
    assert f"…and {40 - len(topics)} more topics: `/peer channel unfollow topic TOPIC`" in text
    assert "<things>" not in text  # names are escaped
    # Pressing one of them still works on the long list.
    press(lab, topics[0], channel_id=LAB)
    after = lab.last_reply()
    assert "no longer follows the topic" in all_text(after) and within_limits(after["blocks"])


def _topic_news(engine: Engine, count: int) -> list[str]:
    """`count` new works on T10017 (cited 0, 10, 20, …), stored and queued as a refresh does."""
    titles = [f"Topic news {n:02d}: what the training data did" for n in range(count)]
    news = [
        work_json(
            f"W49{n:08d}",
            title,
            [(f"A59{n:08d}", f"Author {n}"), (FEIZI, "Soheil Feizi")],
            published=(T0 - timedelta(days=n)).date(),
            topic=TOPIC,
            cited_by_count=n * 10,
        )
        for n, title in enumerate(titles)
    ]
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in news], now=T0)
        queueing.queue_stored_works(session=session, stored=stored, now=T0)
    return titles


def test_the_channel_post_shows_a_topics_five_best_cited_and_the_rest_as_more(
    lab: SlackDriver, engine: Engine, local_slack: LocalSlack, settings: Settings, openalex: FakeOpenAlex
) -> None:
    openalex.add_topics(fixture("topic_T10017.json"))
    _set_openalex_id(engine, "Soheil Feizi", FEIZI)
    claim_and_approve(lab, BOB, "Soheil Feizi")
    with session_scope(engine) as session:
        for member in session.exec(select(Member)).all():
            member.tz = "UTC"
            session.add(member)
    ref, alice = ChannelRef("T0TEAM1", LAB), Viewer("T0TEAM1", "U0ALICE")
    channels = channel_service(engine)
    channels.set_schedule(ref, frequency="instant", setter=alice, now=T0 - timedelta(days=30))
    lab.command(f"channel follow topic {T10017}")
    with session_scope(engine) as session:
        for follow in session.exec(select(TopicFollow)).all():
            follow.created_at = T0 - timedelta(days=30)
            session.add(follow)
    titles = _topic_news(engine, 12)
    digests = _digests(engine, settings)
    report = digests.deliver_due(now=T0)
    [post] = local_slack.history(LAB)
    assert report.messages_sent == 1 and within_limits(post["blocks"])
    text = all_text({"blocks": post["blocks"]})
    best = [titles[n] for n in range(11, 6, -1)]  # cited 110, 100, …, 70
    assert all(title in text for title in best)
    assert [text.index(title) for title in best] == sorted(text.index(title) for title in best)
    assert not any(title in text for title in titles[:7])
    assert "…and 7 more new works: <https://openalex.org/works?filter=topics.id:T10017" in text
    assert text.count("<@U0BOB>") == 5  # under each work shown
    assert digests.deliver_due(now=T0 + timedelta(minutes=5)).quiet  # the seven were summarised
    assert len(local_slack.history(LAB)) == 1


@pytest.mark.slow
def test_the_shell_tries_a_channels_topic_end_to_end(database_url: str, tmp_path: Path) -> None:
    openalex = FakeOpenAlex()
    openalex.add_topics(fixture("topic_T10017.json"))
    session = "\n".join(
        [
            ":in #lab-papers",
            f"/peer channel follow topic {T10017}",
            ":news",
            ":digest",
            ":channel",
            "quit",
            "",
        ]
    )
    with openalex.serve() as url:
        result = bzpeer(env=_env(database_url, COLUMNS="250", OPENALEX_URL=url), cwd=tmp_path, stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout.replace("*", "")
    assert f"#lab-papers now follows the topic {T10017_NAME}" in out
    digest = out.split("bzpeer> :digest", 1)[1]
    assert "in #lab-papers" in digest and "1 message sent (1 item)" in digest
    posted = digest.split("bzpeer> :channel", 1)[1]
    assert "New papers from topics this channel follows" in posted
    assert f"A new paper on {T10017_NAME} (demo news" in posted and "(topic) · 1 new work" in posted
