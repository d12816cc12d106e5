"""Claims and invitations in tests: the people of the fake workspaces, and reading back what the
app sent (DMs, group DMs, modals) from the local Slack. Presses and submissions come from
slack_support."""

from __future__ import annotations

import json
from typing import Any

from bot.local.slack_objects import SlackUser
from bot.local.slack_server import RecordedCall
from services.store.engine import session_scope
from services.store.models import Claim, Institution, Invitation, Researcher
from services.workspaces.members import Viewer
from tests.slack_support import SlackDriver, button, element_ids, press, submit_view

TEAM = "T0TEAM1"
OTHER_TEAM = "T0TEAM2"
SEED = "Samyadeep Basu"

ALICE = Viewer(TEAM, "U0ALICE")  # the driver's default user: the inviter
SAM = Viewer(TEAM, "U0SAM")  # Samyadeep Basu himself
ADMIN = Viewer(TEAM, "U0ADMIN")
BOB = Viewer(TEAM, "U0BOB")
OTHER_ADMIN = Viewer(OTHER_TEAM, "U0ADMIN2")
SAM_ELSEWHERE = Viewer(OTHER_TEAM, "U0SAM2")


def add_people(driver: SlackDriver) -> None:
    """The members of both fake workspaces, as users.info answers for them."""
    for user in (
        SlackUser("U0ALICE", TEAM, "alice", "Alice Example", email="alice@lab.example.org"),
        SlackUser("U0SAM", TEAM, "sam", "Samyadeep Basu", email="sbasu@gmail.com"),
        SlackUser("U0ADMIN", TEAM, "admin", "Ada Admin", email="ada@lab.example.org", is_admin=True),
        SlackUser("U0BOB", TEAM, "bob", "Bob Builder", email="bob@lab.example.org"),
        SlackUser("U0ADMIN2", OTHER_TEAM, "admin2", "Other Admin", is_admin=True),
        SlackUser("U0SAM2", OTHER_TEAM, "sam2", "Samyadeep Basu", email="samyadeep@umd.edu"),
    ):
        driver.local.add_user(user)


def as_dict(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def posts(driver: SlackDriver, *, method: str = "chat.postMessage") -> list[dict[str, Any]]:
    """Messages the app posted (or updated) through the Web API, oldest first."""
    found = []
    for call in driver.local.calls_to(method):
        if call.error is None:
            params = dict(call.params)
            params["blocks"] = as_dict(params.get("blocks") or [])
            params["_channel"] = call.response.get("channel") or params.get("channel")
            params["_ts"] = call.response.get("ts")
            params["_token"] = call.token
            found.append(params)
    return found


def posted_with(driver: SlackDriver, action_id: str) -> list[dict[str, Any]]:
    """Posted messages carrying a button with that action_id."""
    return [m for m in posts(driver) if action_id in element_ids(m)]


def dm_channel(driver: SlackDriver, user_id: str) -> str:
    """The bot's DM channel with one user (as conversations.open answered)."""
    for call in driver.local.calls_to("conversations.open"):
        if call.params.get("users") == user_id and call.error is None:
            return str(call.response["channel"]["id"])
    raise AssertionError(f"no DM opened with {user_id}")


def dms_to(driver: SlackDriver, user_id: str) -> list[dict[str, Any]]:
    """Messages posted into the bot's DM with a user."""
    channels = {
        str(call.response["channel"]["id"])
        for call in driver.local.calls_to("conversations.open")
        if call.params.get("users") == user_id and call.error is None
    }
    return [m for m in posts(driver) if m["_channel"] in channels]


def last_view(driver: SlackDriver, method: str = "views.open") -> dict[str, Any]:
    calls: list[RecordedCall] = driver.local.calls_to(method)
    assert calls, f"the app made no {method} call"
    view = as_dict(calls[-1].params["view"])
    stored = calls[-1].response.get("view") or {}
    return {**view, "id": stored.get("id", "V0")}


def ack_body(response: Any) -> dict[str, Any]:
    return json.loads(response.body) if response.body else {}


def press_as(driver: SlackDriver, message: dict[str, Any], action_id: str, who: Viewer, **kwargs: Any) -> Any:
    """Press a button of a message the app posted (not ephemeral) as `who`."""
    return press(
        driver,
        button(message, action_id),
        user_id=who.user_id,
        team_id=who.team_id,
        ephemeral=False,
        **kwargs,
    )


def claim(driver: SlackDriver, who: Viewer, query: str = SEED) -> dict[str, Any]:
    driver.command(f"claim {query}", user_id=who.user_id, team_id=who.team_id)
    return driver.last_reply()


def review_request(driver: SlackDriver, admin: Viewer = ADMIN) -> dict[str, Any]:
    """The newest Approve / Reject message DMed to an admin."""
    requests = [m for m in dms_to(driver, admin.user_id) if "claim_approve" in element_ids(m)]
    assert requests, f"{admin.user_id} was not asked to review a claim"
    return requests[-1]


def claim_and_approve(
    driver: SlackDriver, who: Viewer = SAM, query: str = SEED, admin: Viewer = ADMIN
) -> None:
    """A member claims a profile and an admin of their workspace approves it."""
    claim(driver, who, query)
    press_as(driver, review_request(driver, admin), "claim_approve", admin)


def invite_via_modal(
    driver: SlackDriver,
    inviter: Viewer,
    query: str = SEED,
    message: str = "Shall we talk?",
    about: str | None = None,
) -> Any:
    """`/peer invite QUERY`, then submit the modal that opened."""
    driver.command(f"invite {query}", user_id=inviter.user_id, team_id=inviter.team_id)
    view = last_view(driver)
    values: dict[str, dict[str, Any]] = {
        "invite_message": {"invite_message": {"type": "plain_text_input", "value": message}}
    }
    if about is not None:
        values["invite_about"] = {
            "invite_about": {"type": "static_select", "selected_option": {"value": about}}
        }
    return submit_view(driver, view, values, user_id=inviter.user_id, team_id=inviter.team_id)


def researcher_id(engine: Any, name: str = SEED) -> int:
    from sqlmodel import Session, col, select

    with Session(engine) as session:
        rid = session.exec(select(Researcher.id).where(col(Researcher.name) == name)).first()
    assert rid is not None
    return int(rid)


def set_institution(engine: Any, name: str, domain: str) -> None:
    """Give a researcher an institution with an e-mail domain."""
    from sqlmodel import col, select

    with session_scope(engine) as session:
        institution = Institution(name="University of Maryland", domain=domain)
        session.add(institution)
        session.flush()
        researcher = session.exec(select(Researcher).where(col(Researcher.name) == name)).one()
        researcher.institution_id = institution.id
        session.add(researcher)


def claims(engine: Any) -> list[tuple[int, str, str | None]]:
    """(researcher_id, status, method) of every claim, oldest first."""
    from sqlmodel import Session, col, select

    with Session(engine) as session:
        rows = session.exec(select(Claim).order_by(col(Claim.id))).all()
        return [(c.researcher_id, c.status, c.method) for c in rows]


def invitations(engine: Any) -> list[Invitation]:
    from sqlmodel import Session, col, select

    with Session(engine) as session:
        return list(session.exec(select(Invitation).order_by(col(Invitation.id))).all())
