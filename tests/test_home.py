"""The App Home tab: published on app_home_opened, follows with Unfollow / Mute, the digest
schedule and its modal, the last digest, help; read back from the local Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.local.slack_objects import SlackUser
from bot.manifest import build_manifest
from bot.runtime import Runtime
from handlers.home.tab_blocks import help_text
from handlers.ids import Action, ScheduleInput
from handlers.ids import View as ViewId
from services.store.engine import session_scope
from services.store.models import Delivery, Member, Work
from services.workspaces.members import Viewer
from tests.slack_support import (
    SlackDriver,
    all_text,
    buttons,
    open_home,
    press_in_view,
    published_home,
    submit_view,
)
from tests.store_support import add_researcher

ALICE = Viewer(team_id="T0TEAM1", user_id="U0ALICE")


@pytest.fixture
def home_driver(driver: SlackDriver) -> SlackDriver:
    driver.local.add_user(SlackUser("U0ALICE", "T0TEAM1", "alice", "Alice", tz="Asia/Kolkata"))
    return driver


def _button_in(view: dict[str, Any], label: str, near: str | None = None) -> tuple[dict[str, Any], str]:
    """A button of a view by its label (in the block pair whose text mentions `near`)."""
    blocks = view["blocks"]
    for index, block in enumerate(blocks):
        elements = block.get("elements", []) if block["type"] == "actions" else []
        if block.get("accessory"):
            elements = [*elements, block["accessory"]]
        for element in elements:
            if element.get("type") != "button" or element["text"]["text"] != label:
                continue
            context = json.dumps(blocks[max(0, index - 1) : index + 1])
            if near is None or near in context:
                return element, block.get("block_id", "")
    raise AssertionError(f"no {label!r} button near {near!r}")


def test_home_tab_shows_schedule_follows_last_digest_and_help(home_driver: SlackDriver) -> None:
    assert open_home(home_driver).status == 200
    home = published_home(home_driver)
    assert home["type"] == "home"
    text = all_text(home)
    assert "*Your digest:* daily at 09:00 (Asia/Kolkata)" in text
    assert "Last digest sent: none yet." in text
    assert "You don't follow anyone yet." in text
    assert "`/peer digest preview`" in text and "*Help*" in text
    assert "Edit schedule" in buttons(home)
    # Expertise search and channel feeds are introduced where a newcomer looks first.
    assert "`/peer who WORDS`: who works on something, e.g. `/peer who influence functions`" in text
    assert "`/peer follow topic TOPIC` · `/peer unfollow topic TOPIC`" in text
    assert "*Channel feeds*: typed in a channel such as #lab-papers" in text
    assert "`/peer channel follow NAME` · `/peer channel follow topic TOPIC`" in text
    assert "`/peer channel follow members`" in text and "`/peer channel`: what the channel follows" in text
    assert "`/peer channel digest daily|weekly|instant|off [on DAY] [at HH:MM]`" in text
    assert "`/peer digest daily|weekly|instant|off [on DAY] [at HH:MM]`" in text

    home_driver.command("follow Samyadeep Basu")
    open_home(home_driver)
    home = published_home(home_driver)
    text = all_text(home)
    assert "You follow 1 researcher." in text and "*Samyadeep Basu*" in text
    assert "Newest: 2021 · <https://arxiv.org/abs/2006.14651|Influence Functions" in text
    assert {"Unfollow", "Mute", "Edit schedule"} <= set(buttons(home))


def test_the_messages_tab_publishes_nothing(home_driver: SlackDriver) -> None:
    open_home(home_driver, tab="messages")
    assert not home_driver.local.calls_to("views.publish")


def test_unfollow_and_mute_from_home_republish_it(home_driver: SlackDriver, runtime: Runtime) -> None:
    home_driver.command("follow Samyadeep Basu")
    open_home(home_driver)
    home = published_home(home_driver)
    mute, block_id = _button_in(home, "Mute", near="Samyadeep Basu")
    press_in_view(home_driver, home, mute, block_id=block_id)
    home = published_home(home_driver)
    text = all_text(home)
    assert "Muted *Samyadeep Basu*" in text and ":mute: _muted_" in text and "(1 muted)" in text
    assert runtime.services.follows.following(ALICE).muted == 1

    unfollow, block_id = _button_in(home, "Unfollow", near="Samyadeep Basu")
    press_in_view(home_driver, home, unfollow, block_id=block_id)
    home = published_home(home_driver)
    assert "You no longer follow *Samyadeep Basu*" in all_text(home)
    assert "You don't follow anyone yet." in all_text(home)
    assert runtime.services.follows.following(ALICE).total == 0
    # A press from Home never posts to a response_url (there is none).
    assert not [c for c in home_driver.local.calls_to("response_url") if "Muted" in json.dumps(c.params)]


def test_home_stays_within_100_blocks_whatever_the_follows(
    home_driver: SlackDriver, runtime: Runtime
) -> None:
    for n in range(60):
        runtime.services.follows.follow(ALICE, add_researcher(runtime.services.engine, f"Person {n:02d}"))
    open_home(home_driver)
    home = published_home(home_driver)
    assert len(home["blocks"]) <= 100
    text = all_text(home)
    assert "You follow 60 researchers." in text
    assert "…and 40 more: `/peer following` lists them all." in text
    assert "Person 19" in text and "Person 20" not in text
    # The help closes the tab even when it is full: nothing cuts it off.
    assert "*Channel feeds*" in json.dumps(home["blocks"][-1])


def test_home_help_fits_one_section_whatever_the_command_name() -> None:
    # Slack's section text holds 3,000 characters; a slash command's name up to 32.
    text = help_text("/" + "x" * 31)
    assert len(text) <= 3000 and text.count("/" + "x" * 31) >= 15


def test_last_digest_sent_is_shown(home_driver: SlackDriver, runtime: Runtime) -> None:
    home_driver.command("follow Samyadeep Basu")
    sent_at = datetime(2026, 11, 20, 3, 30, tzinfo=UTC)
    profile = runtime.services.profiles.lookup("Samyadeep Basu").profile
    assert profile is not None
    with session_scope(runtime.services.engine) as session:
        member = session.exec(select(Member)).one()
        member.last_digest_at = sent_at
        for n in range(2):
            work = Work(title=f"Digest item {n}", title_norm=f"digest item {n}")
            session.add(work)
            session.flush()
            assert work.id is not None and member.id is not None
            session.add(
                Delivery(
                    member_id=member.id,
                    work_id=work.id,
                    researcher_id=profile.id,
                    status="sent",
                    slack_channel="D0001",
                    slack_ts="1700000000.000100",
                    sent_at=sent_at,
                )
            )
    open_home(home_driver)
    text = all_text(published_home(home_driver))
    assert f"Last digest sent: <!date^{int(sent_at.timestamp())}^" in text
    assert "2026-11-20 03:30 UTC>" in text and "(2 new works)" in text


def _open_schedule_modal(driver: SlackDriver) -> dict[str, Any]:
    open_home(driver)
    home = published_home(driver)
    edit, block_id = _button_in(home, "Edit schedule")
    assert edit["action_id"] == Action.DIGEST_SCHEDULE
    press_in_view(driver, home, edit, block_id=block_id)
    opened = driver.local.calls_to("views.open")
    assert opened, "no modal was opened"
    view = opened[-1].response["view"]
    assert view["type"] == "modal" and view["callback_id"] == ViewId.DIGEST_SCHEDULE
    return view


def _state(
    frequency: str | None, time: str | None, weekday: str | None = None, *, typed: bool = False
) -> dict[str, Any]:
    """The modal's submitted state: the time from the time picker, or (`typed`) from the text box
    a modal opened before the picker replaced it still has."""

    def option(value: str | None) -> dict[str, Any] | None:
        return {"text": {"type": "plain_text", "text": value or ""}, "value": value} if value else None

    return {
        ScheduleInput.FREQUENCY: {
            ScheduleInput.FREQUENCY: {"type": "static_select", "selected_option": option(frequency)}
        },
        ScheduleInput.TIME: {
            ScheduleInput.TIME: {"type": "plain_text_input", "value": time}
            if typed
            else {"type": "timepicker", "selected_time": time}
        },
        ScheduleInput.WEEKDAY: {
            ScheduleInput.WEEKDAY: {"type": "static_select", "selected_option": option(weekday)}
        },
    }


def test_schedule_modal_validates_and_saves(home_driver: SlackDriver, runtime: Runtime) -> None:
    view = _open_schedule_modal(home_driver)
    text = all_text(view)
    assert "How often" in text and "Your time: Asia/Kolkata." in text
    time_input = next(b for b in view["blocks"] if b.get("block_id") == ScheduleInput.TIME)
    assert time_input["element"]["type"] == "timepicker"
    assert time_input["element"]["initial_time"] == "09:00"

    response = submit_view(home_driver, view, _state("daily", "25:00", typed=True))
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert "is not a time: type e.g. 09:00, 19:30, 7am or 7:30pm." in answer["errors"][ScheduleInput.TIME]
    answer = json.loads(submit_view(home_driver, view, _state(None, "")).body)
    assert set(answer["errors"]) == {ScheduleInput.FREQUENCY}
    answer = json.loads(submit_view(home_driver, view, _state("daily", None)).body)
    assert answer["errors"] == {ScheduleInput.TIME: "Pick the time your digest should arrive, e.g. 09:00."}

    publishes = len(home_driver.local.calls_to("views.publish"))
    response = submit_view(home_driver, view, _state("weekly", "7:15", "4"))
    assert response.status == 200 and not response.body  # closes the modal
    with Session(runtime.services.engine) as session:
        member = session.exec(select(Member)).one()
    assert (member.digest_frequency, member.digest_time, member.digest_weekday) == ("weekly", "07:15", 4)
    assert len(home_driver.local.calls_to("views.publish")) == publishes + 1
    home = all_text(published_home(home_driver))
    assert "Saved: your digest arrives weekly on Fridays at 07:15 (Asia/Kolkata)." in home
    assert "*Your digest:* weekly on Fridays at 07:15 (Asia/Kolkata)" in home


def test_a_schedule_modal_opened_before_the_time_picker_still_saves(
    home_driver: SlackDriver, runtime: Runtime
) -> None:
    # Opened before the deploy: its time is a text box, and what was typed is read as before.
    view = _open_schedule_modal(home_driver)
    response = submit_view(home_driver, view, _state("daily", "7:30pm", typed=True))
    assert response.status == 200 and not response.body
    with Session(runtime.services.engine) as session:
        assert session.exec(select(Member)).one().digest_time == "19:30"


def test_the_time_picker_starts_at_the_stored_time(home_driver: SlackDriver) -> None:
    home_driver.command("digest daily at 6:45pm")
    view = _open_schedule_modal(home_driver)
    time_input = next(b for b in view["blocks"] if b.get("block_id") == ScheduleInput.TIME)
    assert time_input["element"]["initial_time"] == "18:45"


def test_a_forged_submission_changes_only_the_submitters_schedule(
    home_driver: SlackDriver, runtime: Runtime
) -> None:
    view = _open_schedule_modal(home_driver)
    submit_view(home_driver, view, _state("off", ""), user_id="U0BOB")
    with Session(runtime.services.engine) as session:
        members = {m.user_id: m.digest_frequency for m in session.exec(select(Member))}
    assert members == {"U0ALICE": "daily", "U0BOB": "off"}


def test_next_digest_time_is_shown_in_slack_date_markup(home_driver: SlackDriver) -> None:
    open_home(home_driver)
    text = all_text(published_home(home_driver))
    assert "Next: <!date^" in text
    stamp = int(text.split("Next: <!date^", 1)[1].split("^", 1)[0])
    moment = datetime.fromtimestamp(stamp, UTC)
    # 09:00 in Kolkata is 03:30 UTC, within the next day.
    assert (moment.hour, moment.minute) == (3, 30)
    assert timedelta(0) < moment - datetime.now(UTC) <= timedelta(days=1)


def test_manifest_enables_the_home_tab_and_the_scopes_it_uses() -> None:
    manifest = build_manifest("/peer", "https://bzpeer.example.org")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "users:read" in manifest["oauth_config"]["scopes"]["bot"]  # users.info: the member's time zone
