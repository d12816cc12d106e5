"""The Messages tab: text typed to the bot in its DM works like `/peer`, answered in that DM.

Real signed Events API deliveries (`message`, channel_type "im") through the Bolt app; answers
are read back as the chat.postMessage calls the local Slack received.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.local.signed_requests import BOT_USER_ID
from bot.local.slack_objects import SlackUser
from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from tests.collab_support import SAM, add_people, claim_and_approve, last_view, posts
from tests.slack_support import SlackDriver, all_text, button, buttons, dm_body, press, send_dm

DM = "D0ALICE"


def _answers(driver: SlackDriver, channel: str = DM) -> list[dict[str, Any]]:
    """What the bot posted in the DM, oldest first."""
    return [message for message in posts(driver) if message["_channel"] == channel]


def _answer(driver: SlackDriver, text: str, **kwargs: Any) -> dict[str, Any]:
    """Type `text` in the DM; the one message the bot posted back."""
    driver.local.clear()
    response = send_dm(driver, text, **kwargs)
    assert response.status == 200
    (answer,) = _answers(driver)
    return answer


def test_papers_typed_in_the_dm_are_posted_in_the_dm(driver: SlackDriver) -> None:
    answer = _answer(driver, "papers Samyadeep Basu")
    text = all_text(answer)
    assert "*Published work of Samyadeep Basu* · 2 published items" in text
    assert "<https://arxiv.org/abs/2006.14651|Influence Functions in Deep Learning Are Fragile>" in text
    assert answer["text"] and within_limits(answer["blocks"])
    assert not driver.replies()  # an event has no response_url: nothing went anywhere else


def test_a_name_in_the_dm_is_the_profile_card(driver: SlackDriver) -> None:
    answer = _answer(driver, "Samyadeep Basu")
    text = all_text(answer)
    assert "Trust 13 - Unverified" in text and "2 works" in text
    assert {"Follow", "Papers"} <= set(buttons(answer))


def test_the_card_in_the_dm_and_the_slash_card_are_the_same(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    slash = driver.last_reply()
    answer = _answer(driver, "Samyadeep Basu")
    assert all_text(answer) == all_text(slash)


def test_a_leading_slash_command_is_tolerated(driver: SlackDriver) -> None:
    answer = _answer(driver, "/peer papers Samyadeep Basu")
    assert "*Published work of Samyadeep Basu*" in all_text(answer)


def test_help_in_the_dm_lists_everything_and_says_the_dm_works(driver: SlackDriver) -> None:
    text = all_text(_answer(driver, "help"))
    assert "`/peer papers QUERY [year:YYYY] [type:preprint|article] [sort:cited]`" in text
    assert "The same works without `/peer` in a direct message to me" in text


@pytest.mark.parametrize("typed", ["hello", "Thanks!", "!!!", ":)", "/peer", "   "])
def test_what_names_nobody_gets_a_short_hint_of_what_to_type(driver: SlackDriver, typed: str) -> None:
    answer = _answer(driver, typed)
    text = all_text(answer)
    assert "Type a researcher's name to see their card, e.g. `Samyadeep Basu`" in text
    assert "`help` lists everything I can do." in text
    assert "`who influence functions`, `follow topic T10017`" in text
    assert len(answer["blocks"]) == 2


def test_a_subcommand_without_its_query_says_what_to_add(driver: SlackDriver) -> None:
    assert "after `/peer papers`" in all_text(_answer(driver, "papers"))


def test_following_and_digest_in_the_dm(driver: SlackDriver) -> None:
    driver.local.add_user(SlackUser("U0ALICE", "T0TEAM1", "alice", "Alice", tz="Asia/Kolkata"))
    assert "You now follow *Samyadeep Basu*" in all_text(_answer(driver, "follow Samyadeep Basu"))
    listing = all_text(_answer(driver, "following"))
    assert "You follow 1 researcher." in listing and "*Samyadeep Basu*" in listing
    saved = all_text(_answer(driver, "digest weekly on friday at 16:30"))
    assert "Saved: your digest arrives weekly on Fridays at 16:30 (Asia/Kolkata)." in saved


def test_typed_text_is_echoed_escaped(driver: SlackDriver) -> None:
    # Typed brackets arrive escaped, as in a slash command; the echo must not become a mention.
    answer = _answer(driver, "papers &lt;!channel&gt; &amp; co")
    shown = all_text(answer)  # the fallback text and every text of the blocks
    assert "No researcher matching “&lt;!channel&gt; &amp; co”" in shown
    assert "<!channel>" not in shown


def test_a_real_mention_is_not_a_researcher(driver: SlackDriver) -> None:
    answer = _answer(driver, "<!channel>")
    assert "That looks like a Slack mention or channel." in all_text(answer)
    assert "<!channel>" not in all_text(answer)


def test_an_answer_to_a_message_in_a_thread_stays_in_the_thread(driver: SlackDriver) -> None:
    answer = _answer(driver, "help", thread_ts="1700000000.000100")
    assert answer["thread_ts"] == "1700000000.000100"


@pytest.mark.parametrize(
    "fields",
    [
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"bot_id": "B0OTHER"},
        {"user": BOT_USER_ID},  # the bot's own post in the DM
        {"channel_type": "channel", "channel": "C0GENERAL"},
    ],
)
def test_edits_joins_bots_and_the_bot_itself_get_no_answer(
    driver: SlackDriver, fields: dict[str, Any]
) -> None:
    response = send_dm(driver, "help", **fields)
    assert response.status == 200
    assert not driver.local.calls_to("chat.postMessage") and not driver.replies()


def test_a_retried_event_is_answered_once(driver: SlackDriver) -> None:
    body = dm_body(driver, "papers Samyadeep Basu", event_id="Ev0RETRIED1")
    first = driver.dispatch(body, content_type="application/json")
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    again = driver.dispatch(body, content_type="application/json", extra_headers=retry)
    assert first.status == 200 and again.status == 200
    (answer,) = _answers(driver)
    assert "*Published work of Samyadeep Basu*" in all_text(answer)


def test_the_same_words_typed_twice_are_answered_twice(driver: SlackDriver) -> None:
    send_dm(driver, "help")
    send_dm(driver, "help")
    assert len(_answers(driver)) == 2


def test_a_graph_asked_for_in_the_dm_is_uploaded_to_the_dm(driver: SlackDriver) -> None:
    answer = _answer(driver, "graph Samyadeep Basu")
    (completed,) = [c.params for c in driver.local.calls_to("files.completeUploadExternal") if not c.error]
    assert completed["channel_id"] == DM
    assert "• Researcher: Samyadeep Basu" in all_text(answer)
    assert not driver.local.calls_to("conversations.open")
    # Already private: nowhere else to share it from here.
    assert Action.GRAPH_SHARE not in {b.get("action_id") for b in buttons(answer).values()}


def test_invite_in_the_dm_offers_the_button_that_opens_the_form(driver: SlackDriver) -> None:
    add_people(driver)
    claim_and_approve(driver, SAM)
    answer = _answer(driver, "invite Samyadeep Basu | Shall we talk?")
    text = all_text(answer)
    assert "A message typed here cannot open the invitation form" in text
    assert "`/peer invite Samyadeep Basu`" in text
    assert not driver.local.calls_to("views.open")

    press(driver, button(answer, Action.INVITE), ephemeral=False, channel_id=DM)
    assert "Samyadeep Basu" in all_text(last_view(driver))


def test_invite_of_someone_who_cannot_be_invited_says_why(driver: SlackDriver) -> None:
    text = all_text(_answer(driver, "invite Samyadeep Basu"))
    assert "has not claimed this profile yet" in text


def test_an_error_in_the_dm_is_told_in_the_dm_with_the_id_in_the_log(
    driver: SlackDriver, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime.services.papers, "find", broken)
    text = all_text(_answer(driver, "papers Samyadeep Basu"))
    assert "Sorry, something went wrong on our side (error id `" in text
    error_id = text.split("error id `", 1)[1].split("`", 1)[0]
    assert f"unhandled error {error_id}" in caplog.text
