"""Following researchers end to end: signed requests through the Bolt app, replies read back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.local.slack_objects import SlackUser
from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from services.container import Services
from services.digests.follows import FollowService
from services.store.models import Follow, Member
from services.workspaces.members import Viewer
from tests.slack_support import SlackDriver, all_text, buttons, more_buttons, press
from tests.store_support import add_researcher

SEED = "Samyadeep Basu"
ALICE = Viewer(team_id="T0TEAM1", user_id="U0ALICE")


@pytest.fixture
def services(runtime: Runtime) -> Services:
    return runtime.services


def _card(driver: SlackDriver, query: str = SEED, **overrides: str) -> dict[str, Any]:
    driver.command(query, **overrides)
    return driver.last_reply()


def test_follow_from_the_card_flips_the_button_count_and_trust(driver: SlackDriver) -> None:
    card = _card(driver)
    assert "0 followers" in all_text(card) and "Trust 13 - Unverified" in all_text(card)
    assert "Unfollow" not in buttons(card)

    press(driver, buttons(card)["Follow"])
    flipped = driver.last_reply()
    assert flipped["replace_original"] is True
    text = all_text(flipped)
    assert "You now follow *Samyadeep Basu*" in text
    assert "1 follower ·" in text
    assert "Trust 14 - Unverified" in text
    assert "Follow" not in buttons(flipped) and "Unfollow" in buttons(flipped)
    assert within_limits(flipped["blocks"])

    press(driver, buttons(flipped)["Unfollow"])
    back = driver.last_reply()
    assert back["replace_original"] is True
    assert "You no longer follow *Samyadeep Basu*" in all_text(back)
    assert "0 followers" in all_text(back) and "Trust 13 - Unverified" in all_text(back)
    assert "Follow" in buttons(back) and "Unfollow" not in buttons(back)


def test_card_shows_unfollow_to_a_follower_only(driver: SlackDriver) -> None:
    press(driver, buttons(_card(driver))["Follow"])
    assert "Unfollow" in buttons(_card(driver))
    bob_card = _card(driver, user_id="U0BOB")
    assert "Follow" in buttons(bob_card) and "1 follower" in all_text(bob_card)


def test_follow_command_list_and_unfollow_from_the_list(driver: SlackDriver) -> None:
    driver.command(f"follow {SEED}")
    followed = driver.last_reply()
    assert followed["response_type"] == "ephemeral"
    assert "You now follow *Samyadeep Basu*" in all_text(followed)
    assert "New works arrive in your digest, daily at 09:00" in all_text(followed)

    driver.command("following")
    listing = driver.last_reply()
    text = all_text(listing)
    assert "You follow 1 researcher." in text
    assert "*Samyadeep Basu*" in text
    assert "Influence Functions in Deep Learning Are Fragile" in text  # the newest work
    unfollow = next(
        element
        for block in listing["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == "Unfollow"
    )
    block_id = next(block["block_id"] for block in listing["blocks"] if unfollow in block.get("elements", []))
    press(driver, unfollow, block_id=block_id)
    after = driver.last_reply()
    assert after["replace_original"] is True
    assert "You no longer follow *Samyadeep Basu*" in all_text(after)
    assert "You don't follow anyone yet." in all_text(after)


def test_already_following_is_said_kindly(driver: SlackDriver) -> None:
    driver.command(f"follow {SEED}")
    driver.command(f"follow {SEED}")
    text = all_text(driver.last_reply())
    assert "You already follow *Samyadeep Basu*, nothing to do." in text
    assert "1 follower" in text and "Trust 14" in text


def test_follows_are_per_workspace(driver: SlackDriver, services: Services) -> None:
    driver.command(f"follow {SEED}")
    # The same user id in another workspace is another member.
    driver.command("following", team_id="T0TEAM2")
    assert "You don't follow anyone yet." in all_text(driver.last_reply())
    card = _card(driver, team_id="T0TEAM2")
    assert "Follow" in buttons(card) and "1 follower" in all_text(card)
    press(driver, buttons(card)["Follow"], team_id="T0TEAM2")
    assert "2 followers" in all_text(driver.last_reply())
    with Session(services.engine) as session:
        members = session.exec(select(Member.team_id, Member.user_id).order_by(col(Member.team_id))).all()
    assert members == [("T0TEAM1", "U0ALICE"), ("T0TEAM2", "U0ALICE")]


def test_ambiguous_name_gives_the_pick_list_whose_view_offers_follow(
    driver: SlackDriver,
    services: Services,
) -> None:
    add_researcher(services.engine, "Rahul Basu")
    driver.command("follow Basu")
    pick = driver.last_reply()
    assert "Several researchers match “Basu”" in all_text(pick)
    view = next(
        block["accessory"]
        for block in pick["blocks"]
        if block.get("accessory") and "Samyadeep" in block["text"]["text"]
    )
    press(driver, view)
    card = driver.last_reply()
    assert "Follow" in buttons(card)
    press(driver, buttons(card)["Follow"])
    assert "You now follow *Samyadeep Basu*" in all_text(driver.last_reply())


def test_unknown_name_offers_the_openalex_look_up(driver: SlackDriver) -> None:
    driver.command("follow Ada Lovelace")
    reply = driver.last_reply()
    assert "No researcher matching “Ada Lovelace” is in the store yet." in all_text(reply)
    assert buttons(reply)["Look up on OpenAlex"]["action_id"] == Action.OPENALEX_LOOKUP


def test_follow_without_a_name_says_what_to_type(driver: SlackDriver) -> None:
    driver.command("follow")
    assert "after `/peer follow`" in all_text(driver.last_reply())


def test_unfollow_by_name_takes_the_followed_one_among_several_matches(
    driver: SlackDriver,
    services: Services,
) -> None:
    add_researcher(services.engine, "Rahul Basu")
    driver.command("unfollow Basu")
    assert "You don't follow anyone matching “Basu”." in all_text(driver.last_reply())
    driver.command(f"follow {SEED}")
    driver.command("unfollow Basu")
    assert "You no longer follow *Samyadeep Basu*" in all_text(driver.last_reply())
    driver.command(f"unfollow {SEED}")
    assert "You don't follow *Samyadeep Basu*." in all_text(driver.last_reply())
    driver.command("unfollow Ada Lovelace")
    reply = driver.last_reply()
    assert "You don't follow anyone matching “Ada Lovelace”." in all_text(reply)
    assert "Look up on OpenAlex" not in buttons(reply)


def test_a_forged_press_acts_for_the_presser_only(driver: SlackDriver, services: Services) -> None:
    follow = buttons(_card(driver))["Follow"]
    # Someone edits the value to name another user: the value is refused, nothing happens.
    press(driver, {**follow, "value": follow["value"][:-1] + ',"u":"U0ALICE"}'}, user_id="U0MALLORY")
    assert "That button is out of date" in all_text(driver.last_reply())
    # A valid press from Bob follows for Bob, never for Alice whose card it was.
    press(driver, follow, user_id="U0BOB")
    assert "You now follow *Samyadeep Basu*" in all_text(driver.last_reply())
    assert services.follows.following(Viewer("T0TEAM1", "U0BOB")).total == 1
    assert services.follows.following(ALICE).total == 0
    # Unfollow pressed by Alice on Bob's card changes nothing for Bob.
    press(driver, buttons(driver.last_reply())["Unfollow"])
    assert "You don't follow *Samyadeep Basu*." in all_text(driver.last_reply())
    assert services.follows.following(Viewer("T0TEAM1", "U0BOB")).total == 1


def test_mute_and_unfollow_from_a_digest_dm_answer_only_the_presser(
    driver: SlackDriver,
    services: Services,
) -> None:
    driver.command(f"follow {SEED}")
    value = buttons(driver.last_reply())["Unfollow"]["value"]
    mute = {"action_id": Action.MUTE_RESEARCHER, "value": value, "text": {"text": "Mute this researcher"}}
    press(driver, mute, ephemeral=False)
    reply = driver.last_reply()
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "Muted *Samyadeep Basu*" in all_text(reply) and "you still follow them" in all_text(reply)
    assert set(buttons(reply)) == {"Unmute", "Unfollow"}
    page = services.follows.following(ALICE)
    assert page.total == 1 and page.muted == 1 and page.items[0].muted

    driver.command("following")
    listing = driver.last_reply()
    assert ":mute: _muted_" in all_text(listing) and "Unmute" in buttons(listing)

    press(driver, buttons(reply)["Unmute"], ephemeral=False)
    assert "Unmuted *Samyadeep Basu*" in all_text(driver.last_reply())
    assert services.follows.following(ALICE).muted == 0

    unfollow = {"action_id": Action.UNFOLLOW, "value": value, "text": {"text": "Unfollow"}}
    press(driver, unfollow, ephemeral=False)
    gone = driver.last_reply()
    assert gone["replace_original"] is False
    assert "You no longer follow *Samyadeep Basu*" in all_text(gone)
    assert set(buttons(gone)) == {"Follow"}  # the undo
    press(driver, buttons(gone)["Follow"], ephemeral=False)
    assert services.follows.following(ALICE).total == 1


def test_mute_when_not_following_says_so(driver: SlackDriver) -> None:
    value = buttons(_card(driver))["Follow"]["value"]
    press(driver, {"action_id": Action.MUTE_RESEARCHER, "value": value}, ephemeral=False)
    assert "You don't follow *Samyadeep Basu*." in all_text(driver.last_reply())


def test_the_following_list_pages_past_twenty(driver: SlackDriver, services: Services) -> None:
    for n in range(25):
        services.follows.follow(ALICE, add_researcher(services.engine, f"Researcher {n:02d}"))
    driver.command("following")
    first = driver.last_reply()
    assert "You follow 25 researchers." in all_text(first)
    assert "…and 5 more: `/peer following 2` shows them." in all_text(first)
    assert len(first["blocks"]) <= 50 and within_limits(first["blocks"])
    driver.command("following 2")
    second = all_text(driver.last_reply())
    assert "Researcher 24" in second and "Researcher 00" not in second
    driver.command("following soon")
    assert "/peer following 2" in all_text(driver.last_reply())


def test_a_follow_records_when_it_was_made(runtime: Runtime) -> None:
    service = FollowService(runtime.services.engine)
    researcher = runtime.services.profiles.lookup(SEED).profile
    assert researcher is not None
    made = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    outcome = service.follow(ALICE, researcher.id, now=made)
    assert outcome.status == "followed" and outcome.profile and outcome.profile.following is True
    with Session(runtime.services.engine) as session:
        follow = session.exec(select(Follow)).one()
    assert follow.created_at.replace(tzinfo=follow.created_at.tzinfo or UTC) == made
    assert not follow.muted and not follow.parked
    # Unfollow and follow again: a fresh start, so the back catalogue never floods the digest.
    service.unfollow(ALICE, researcher.id)
    later = datetime(2026, 12, 5, tzinfo=UTC)
    service.follow(ALICE, researcher.id, now=later)
    with Session(runtime.services.engine) as session:
        again = session.exec(select(Follow)).one()
    assert again.created_at.replace(tzinfo=again.created_at.tzinfo or UTC) == later


def test_a_deleted_researcher_is_reported_not_followed(driver: SlackDriver) -> None:
    press(driver, {"action_id": Action.FOLLOW, "value": '{"r": 99999}'})
    assert "no longer in the store" in all_text(driver.last_reply())


def test_the_first_follow_reads_the_members_time_zone(
    driver: SlackDriver,
    services: Services,
) -> None:
    driver.local.add_user(SlackUser("U0ALICE", "T0TEAM1", "alice", "Alice", tz="Asia/Kolkata"))
    driver.command(f"follow {SEED}")
    assert "daily at 09:00 (Asia/Kolkata)" in all_text(driver.last_reply())
    press(driver, buttons(driver.last_reply())["Unfollow"])
    press(driver, buttons(driver.last_reply())["Follow"])
    # Cached: users.info once, not on every follow.
    assert len(driver.local.calls_to("users.info")) == 1


def test_follow_on_a_shared_card_answers_only_the_presser(driver: SlackDriver) -> None:
    share = more_buttons(driver, _card(driver))["Share in channel"]
    press(driver, share)
    shared = driver.last_reply()
    assert shared["response_type"] == "in_channel" and "Follow" in buttons(shared)
    # Bob presses Follow on the card everyone sees: the card stays, Bob alone gets a note.
    press(driver, buttons(shared)["Follow"], ephemeral=False, user_id="U0BOB")
    note = driver.last_reply()
    assert note["response_type"] == "ephemeral" and note["replace_original"] is False
    assert "You now follow *Samyadeep Basu*" in all_text(note)
    assert set(buttons(note)) == {"Unfollow"}


def test_names_are_escaped_in_every_follow_message(driver: SlackDriver, services: Services) -> None:
    add_researcher(services.engine, "Eve <!channel> & Co")
    driver.command("follow Eve Co")
    text = all_text(driver.last_reply())
    assert "You now follow *Eve &lt;!channel&gt; &amp; Co*" in text
    driver.command("following")
    text = all_text(driver.last_reply())
    assert "*Eve &lt;!channel&gt; &amp; Co*" in text and "<!channel>" not in text
