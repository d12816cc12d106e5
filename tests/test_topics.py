"""Topics from Slack, through signed requests against the fake Slack and the OpenAlex stand-in:
`/peer topic TOPIC` (an id, its URLs, words → pick list, none), the card (members first), and
`/peer follow|unfollow topic TOPIC` with the card's buttons."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from handlers.parsing import parse_slash_text
from services.store.models import Claim, Member, Researcher, Topic, TopicFollow
from tests.fake_openalex import FakeOpenAlex
from tests.slack_support import (
    SlackDriver,
    all_text,
    button,
    buttons,
    open_home,
    placed_elements,
    press,
    published_home,
)
from tests.topic_support import T10017, T10017_NAME, link_works_to_topic, serve_topics


@pytest.fixture(autouse=True)
def _topics(openalex: FakeOpenAlex) -> None:
    serve_topics(openalex)


def _follows(runtime: Runtime) -> list[tuple[str, str, bool]]:
    with Session(runtime.services.engine) as session:
        rows = session.exec(
            select(Member.user_id, Topic.openalex_id, TopicFollow.muted)
            .join(Member, col(Member.id) == col(TopicFollow.member_id))
            .join(Topic, col(Topic.id) == col(TopicFollow.topic_id))
        ).all()
    return [(str(u), str(t), bool(m)) for u, t, m in rows]


def test_topic_by_id_shows_the_card(driver: SlackDriver, runtime: Runtime, openalex: FakeOpenAlex) -> None:
    link_works_to_topic(runtime.services.engine, T10017, ["Influence Functions in Deep Learning"])
    driver.command(f"topic {T10017}")
    reply = driver.last_reply()
    text = all_text(reply)
    assert T10017_NAME in text
    assert "Physical Sciences › Computer Science › Artificial Intelligence" in text
    assert "influence functions, data attribution" in text
    assert "*Works in our store:* 1 · 48,213 in OpenAlex" in text
    assert "Samyadeep Basu · 1 work" in text
    follow = button(reply, Action.TOPIC_FOLLOW)
    assert follow["accessibility_label"].startswith("Follow topic Interpretability and Influence")
    assert within_limits(reply["blocks"])
    # The details came from OpenAlex once; the next card reads the store's copy.
    driver.command(f"topic {T10017}")
    assert [r.url.path for r in openalex.requests] == [f"/topics/{T10017}"]


@pytest.mark.parametrize(
    "ref", ["https://openalex.org/T10017", "https://openalex.org/topics/T10017", "t10017"]
)
def test_topic_by_url_or_lower_case_id(driver: SlackDriver, ref: str) -> None:
    driver.command(f"topic {ref}")
    assert T10017_NAME in all_text(driver.last_reply())


def test_claimed_members_of_this_workspace_come_first_with_their_mention(
    driver: SlackDriver, runtime: Runtime
) -> None:
    engine = runtime.services.engine
    link_works_to_topic(
        engine, T10017, ["Influence Functions in Deep Learning", "On Second-Order Group Influence"]
    )
    link_works_to_topic(engine, T10017, ["Curse of Dimensionality"])
    with Session(engine) as session:
        kumar = session.exec(select(Researcher).where(Researcher.name == "Aounon Kumar")).one()
        member = Member(team_id="T0TEAM1", user_id="U0KUMAR")
        session.add(member)
        session.flush()
        session.add(Claim(researcher_id=kumar.id or 0, member_id=member.id or 0, status="approved"))
        session.commit()
    driver.command(f"topic {T10017}")
    text = all_text(driver.last_reply())
    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert lines[0] == "• <@U0KUMAR> (Aounon Kumar) · 1 work"
    assert "• Samyadeep Basu · 2 works" in lines
    # Another workspace sees no mention.
    driver.command(f"topic {T10017}", team_id="T0OTHER", user_id="U0BOB")
    assert "<@U0KUMAR>" not in all_text(driver.last_reply())


def test_words_give_a_pick_list_and_view_opens_the_card(driver: SlackDriver) -> None:
    driver.command("topic machine learning")
    reply = driver.last_reply()
    text = all_text(reply)
    assert "Several OpenAlex topics match “machine learning”. Which one?" in text
    views = [e for _, e in _elements(reply) if e["action_id"] == Action.TOPIC_VIEW]
    assert len(views) == 3
    assert {v["accessibility_label"] for v in views} >= {
        "View topic Adversarial Robustness in Machine Learning"
    }
    press(driver, next(v for v in views if "T12026" in v["value"]))
    assert "Explainable Artificial Intelligence (XAI)" in all_text(driver.last_reply())


def _elements(message: dict) -> list[tuple[str, dict]]:
    return list(placed_elements(message))


def test_words_naming_one_topic_show_it(driver: SlackDriver) -> None:
    driver.command("topic data attribution")
    assert T10017_NAME in all_text(driver.last_reply())


def test_unknown_words_and_ids_say_so_and_what_to_type(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    driver.command("topic quantum basket weaving")
    text = all_text(driver.last_reply())
    assert "No OpenAlex topic matches “quantum basket weaving”." in text
    assert "`T10017`" in text and "/peer who WORDS" in text
    openalex.add("/topics/T99999", "<html>Not found</html>", status=404)
    driver.command("topic T99999")
    assert "No OpenAlex topic matches “T99999”." in all_text(driver.last_reply())
    driver.command("topic")
    assert "Type a topic after `/peer topic`" in all_text(driver.last_reply())
    driver.command("follow topic")
    assert "Type a topic after `/peer follow topic`" in all_text(driver.last_reply())


def test_openalex_down_says_so_unless_the_topic_is_cached(
    driver: SlackDriver, openalex: FakeOpenAlex
) -> None:
    openalex.add(f"/topics/{T10017}", {"error": "down"}, status=503)
    driver.command("topic T10017")  # the demo store holds it: the older copy is shown
    assert T10017_NAME in all_text(driver.last_reply())
    openalex.add("/topics/T12026", {"error": "down"}, status=503)
    driver.command("topic T12026")
    assert "Could not look up the topic “T12026”" in all_text(driver.last_reply())


def test_echoed_words_are_escaped(driver: SlackDriver) -> None:
    driver.command("topic &lt;!channel&gt; zzz")
    text = all_text(driver.last_reply())
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text


def test_follow_and_unfollow_topic_by_command_and_buttons(driver: SlackDriver, runtime: Runtime) -> None:
    driver.command(f"follow topic {T10017}")
    reply = driver.last_reply()
    assert f":white_check_mark: You now follow the topic *{T10017_NAME}*" in all_text(reply)
    assert _follows(runtime) == [("U0ALICE", T10017, False)]
    assert set(buttons(reply)) == {"Unfollow", "Mute"}
    press(driver, button(reply, Action.TOPIC_MUTE))
    reply = driver.last_reply()
    assert "Muted the topic" in all_text(reply) and _follows(runtime) == [("U0ALICE", T10017, True)]
    press(driver, button(reply, Action.TOPIC_UNMUTE))
    assert _follows(runtime) == [("U0ALICE", T10017, False)]
    driver.command(f"follow topic {T10017}")
    assert "You already follow the topic" in all_text(driver.last_reply())
    driver.command("unfollow topic https://openalex.org/T10017")
    reply = driver.last_reply()
    assert "You no longer follow the topic" in all_text(reply) and _follows(runtime) == []
    press(driver, button(reply, Action.TOPIC_FOLLOW))
    assert _follows(runtime) == [("U0ALICE", T10017, False)]


def test_follow_topic_words_with_several_matches_follows_nothing(
    driver: SlackDriver, runtime: Runtime
) -> None:
    driver.command("follow topic machine learning")
    assert "Which one?" in all_text(driver.last_reply()) and _follows(runtime) == []


def test_follow_topic_parses_apart_from_a_researcher_query() -> None:
    assert parse_slash_text("follow topic T10017").kind == "follow_topic"
    assert parse_slash_text("unfollow Topic influence functions").args == "influence functions"
    assert parse_slash_text("follow Topical Person").kind == "follow"
    assert parse_slash_text("follow A5023888391").query == "A5023888391"


def test_a_stale_topic_button_says_so(driver: SlackDriver) -> None:
    driver.press(Action.TOPIC_FOLLOW, '{"t": "x"}')
    assert "That button is out of date" in all_text(driver.last_reply())
    assert _follows_none_yet(driver)


def _follows_none_yet(driver: SlackDriver) -> bool:
    return not any("You now follow" in all_text(reply) for reply in driver.replies())


def test_following_lists_topics_first_with_unfollow_and_mute(driver: SlackDriver, runtime: Runtime) -> None:
    driver.command("follow Samyadeep Basu")
    driver.command(f"follow topic {T10017}")
    driver.command("following")
    reply = driver.last_reply()
    text = all_text(reply)
    assert "You follow 1 researcher and 1 topic." in text
    assert text.index(T10017_NAME) < text.index("Samyadeep Basu")
    mute = button(reply, Action.TOPIC_MUTE)
    [(block_id, _)] = [(b, e) for b, e in placed_elements(reply) if e["action_id"] == Action.TOPIC_MUTE]
    press(driver, mute, block_id=block_id)
    listed = driver.last_reply()
    assert "Muted the topic" in all_text(
        listed
    ) and "You follow 1 researcher and 1 topic (1 muted)." in all_text(listed)
    unfollow = button(listed, Action.TOPIC_UNFOLLOW)
    [(block_id, _)] = [(b, e) for b, e in placed_elements(listed) if e["action_id"] == Action.TOPIC_UNFOLLOW]
    press(driver, unfollow, block_id=block_id)
    assert "You follow 1 researcher." in all_text(driver.last_reply()) and _follows(runtime) == []


def test_following_pages_count_topics_and_researchers_together(driver: SlackDriver, runtime: Runtime) -> None:
    engine = runtime.services.engine
    with Session(engine) as session:
        member = Member(team_id="T0TEAM1", user_id="U0ALICE")
        session.add(member)
        session.flush()
        for n in range(25):
            topic = Topic(openalex_id=f"T{30000 + n}", name=f"Topic {n:02d}")
            session.add(topic)
            session.flush()
            session.add(TopicFollow(member_id=member.id or 0, topic_id=topic.id or 0))
        session.commit()
    driver.command("follow Samyadeep Basu")
    driver.command("following")
    first = driver.last_reply()
    assert "You follow 1 researcher and 25 topics." in all_text(first)
    assert "…and 6 more: `/peer following 2` shows them." in all_text(first)
    assert within_limits(first["blocks"])
    driver.command("following 2")
    second = all_text(driver.last_reply())
    assert "Topic 20" in second and "Topic 24" in second and "Samyadeep Basu" in second
    assert "Topic 19" not in second


def test_home_tab_shows_followed_topics(driver: SlackDriver) -> None:
    driver.command(f"follow topic {T10017}")
    open_home(driver)
    home = published_home(driver)
    text = all_text(home)
    assert "You follow 0 researchers and 1 topic." in text and T10017_NAME in text
    button(home, Action.TOPIC_UNFOLLOW)
