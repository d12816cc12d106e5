"""Workspace isolation: the same user id in two workspaces is two members; researcher records
are shared; an uninstall parks one workspace's follows and digests and a reinstall restores them."""

from __future__ import annotations

from slack_bolt.request import BoltRequest

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import event_callback
from bot.runtime import Runtime
from services.workspaces.lifecycle import ParkedCounts, WorkspaceService
from tests.conftest import SIGNING_SECRET
from tests.digest_support import follow_and_ledger_state, member_with_ledger
from tests.oauth_support import event_headers
from tests.slack_support import SlackDriver, all_text, buttons


def test_park_and_restore_touch_one_workspace_only(runtime: Runtime) -> None:
    engine = runtime.services.engine
    workspaces = WorkspaceService(engine)
    # "parked" in T0LAB2 is the digest engine's: that member's DMs could not be delivered.
    lab1 = member_with_ledger(engine, "T0LAB1", "U0SAME", ("pending", "sent", "sending"))
    lab2 = member_with_ledger(engine, "T0LAB2", "U0SAME", ("pending", "parked"))

    assert workspaces.park("T0LAB1") == ParkedCounts(follows=1, deliveries=1)
    assert follow_and_ledger_state(engine, lab1) == ([True], ["parked", "sent", "sending"])
    assert follow_and_ledger_state(engine, lab2) == ([False], ["pending", "parked"])
    assert workspaces.park("T0LAB1") == ParkedCounts(follows=0, deliveries=0)  # idempotent

    assert workspaces.restore("T0LAB1") == ParkedCounts(follows=1, deliveries=1)
    assert follow_and_ledger_state(engine, lab1) == ([False], ["pending", "sent", "sending"])
    # A workspace that was never parked keeps the digest engine's parked rows as they are.
    assert workspaces.restore("T0LAB2") == ParkedCounts(follows=0, deliveries=0)
    assert follow_and_ledger_state(engine, lab2) == ([False], ["pending", "parked"])


def test_follows_are_per_workspace_and_cards_are_shared(driver: SlackDriver) -> None:
    lab1 = {"team_id": "T0LAB1", "user_id": "U0SAME"}
    lab2 = {"team_id": "T0LAB2", "user_id": "U0SAME"}
    driver.command("follow Samyadeep Basu", **lab1)
    assert "Samyadeep Basu" in all_text(driver.last_reply())

    driver.command("following", **lab1)
    assert "You follow 1 researcher" in all_text(driver.last_reply())
    driver.command("following", **lab2)
    assert "You don't follow anyone yet" in all_text(driver.last_reply())

    # The researcher record (and its card) is the same in both workspaces.
    driver.command("Samyadeep Basu", **lab1)
    card_lab1 = all_text(driver.last_reply())
    driver.command("Samyadeep Basu", **lab2)
    card_lab2 = all_text(driver.last_reply())
    assert "Verification L1" in card_lab1 and "Verification L1" in card_lab2
    assert card_lab1.splitlines()[0] == card_lab2.splitlines()[0]

    driver.command("unfollow Samyadeep Basu", **lab2)
    driver.command("following", **lab1)
    assert "You follow 1 researcher" in all_text(driver.last_reply())


def test_uninstall_event_parks_in_single_workspace_mode_and_the_next_process_restores(
    runtime: Runtime, driver: SlackDriver
) -> None:
    engine = runtime.services.engine
    member = member_with_ledger(engine, "T0TEAM1", "U0ALICE", ("pending",))
    body = event_callback("T0TEAM1", {"type": "app_uninstalled"}, event_id="Ev0GONE")
    assert driver.app.dispatch(BoltRequest(body=body, headers=event_headers(body))).status == 200
    assert follow_and_ledger_state(engine, member) == ([True], ["parked"])

    # Reinstalled: a new SLACK_BOT_TOKEN, so a restarted process; its first request un-parks.
    restarted = SlackDriver(
        app=build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor()),
        local=driver.local,
        secret=SIGNING_SECRET,
    )
    restarted.command("following")
    assert follow_and_ledger_state(engine, member) == ([False], ["pending"])
    assert "You follow 1 researcher" in all_text(restarted.last_reply())


def test_follow_button_and_digest_settings_stay_in_their_workspace(driver: SlackDriver) -> None:
    lab1 = {"team_id": "T0LAB1", "user_id": "U0SAME"}
    lab2 = {"team_id": "T0LAB2", "user_id": "U0SAME"}
    driver.command("Samyadeep Basu", **lab2)
    follow = buttons(driver.last_reply())["Follow"]
    driver.press(follow["action_id"], follow["value"], **lab2)

    driver.command("following", **lab2)
    assert "You follow 1 researcher" in all_text(driver.last_reply())
    driver.command("following", **lab1)
    assert "You don't follow anyone yet" in all_text(driver.last_reply())

    driver.command("digest weekly", **lab1)
    driver.command("digest", **lab1)
    weekly = all_text(driver.last_reply())
    driver.command("digest", **lab2)
    default = all_text(driver.last_reply())
    assert "Your digest: weekly on Mondays" in weekly
    assert "Your digest: daily" in default
