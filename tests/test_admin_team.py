"""Admin actions take place in one workspace: who acts and whose admin rights are checked come
from the same team (issue 14, finding 9).

A payload names the presser's own workspace (`user.team_id`) and the workspace it came from
(`team.id`, whose token answers users.info). Here a member of the claimant's workspace is an
admin only where they pressed (another workspace of the org, or across Slack Connect): the local
Slack answers users.info alike for every token, as that other workspace would.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.local.signed_requests import Actor, SourceMessage, block_actions, interactive_body
from bot.local.slack_objects import SlackUser
from bot.runtime import Runtime
from handlers.ids import Action
from tests.collab_support import (
    OTHER_TEAM,
    SAM,
    TEAM,
    add_people,
    claim,
    claims,
    dms_to,
    researcher_id,
    review_request,
)
from tests.slack_support import SlackDriver, all_text, button

ORG = "E0ORG"
# A member of the claimant's workspace, and an admin where the press comes from.
GRID_MEMBER = "U0GRID"
ELSEWHERE = "Nothing changed: you pressed this in another workspace than your own"


@pytest.fixture
def people(driver: SlackDriver) -> SlackDriver:
    add_people(driver)
    return driver


@pytest.fixture
def engine_of(runtime: Runtime) -> Engine:
    return runtime.services.engine


def _member(*, is_admin: bool = True, org: str | None = None, org_admin: bool = False) -> SlackUser:
    return SlackUser(
        GRID_MEMBER, TEAM, "grid", "Grid Member", is_admin=is_admin, enterprise_id=org, is_org_admin=org_admin
    )


def _press_from(driver: SlackDriver, action: dict[str, Any], *, here: str, org_install: bool = False) -> None:
    """Press a review button as GRID_MEMBER (of TEAM) in a payload from workspace `here`."""
    message = SourceMessage("C0SHARED", "1.2", "", [], ephemeral=False)
    element = {**action, "type": "button"}
    payload = block_actions(
        Actor(here, GRID_MEMBER, "C0SHARED"),
        element,
        message=message,
        response_url=driver.local.response_url(),
    )
    payload["user"]["team_id"] = TEAM  # a member of TEAM, pressing in a channel shared with `here`
    if org_install:
        payload.update(enterprise={"id": ORG, "name": "Local Org"}, is_enterprise_install=True)
    assert driver.dispatch(interactive_body(payload)).status == 200


def _approve_button(driver: SlackDriver) -> dict[str, Any]:
    claim(driver, SAM)
    approve = button(review_request(driver), Action.CLAIM_APPROVE)
    driver.local.clear()
    return {"action_id": approve["action_id"], "value": approve["value"]}


def test_an_admin_elsewhere_cannot_approve_a_claim_in_their_own_workspace(
    people: SlackDriver, engine_of: Engine
) -> None:
    people.local.add_user(_member(is_admin=True))
    approve = _approve_button(people)

    _press_from(people, approve, here=OTHER_TEAM)

    refusal = people.last_reply()
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert ELSEWHERE in all_text(refusal)
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]
    assert not dms_to(people, SAM.user_id), "the claimant is told nothing"
    assert people.local.calls_to("users.info") == [], "rights elsewhere are not even asked"


def test_the_same_press_from_their_own_workspace_decides(people: SlackDriver, engine_of: Engine) -> None:
    people.local.add_user(_member(is_admin=True))
    approve = _approve_button(people)

    _press_from(people, approve, here=TEAM)

    assert f"was approved by <@{GRID_MEMBER}>" in all_text(people.last_reply())
    assert claims(engine_of) == [(researcher_id(engine_of), "approved", "admin")]


def test_an_org_wide_install_checks_the_org_admin(people: SlackDriver, engine_of: Engine) -> None:
    # An admin of the workspace the press came from, but not of the org: refused.
    people.local.add_user(_member(is_admin=True, org=ORG, org_admin=False))
    approve = _approve_button(people)
    _press_from(people, approve, here=OTHER_TEAM, org_install=True)
    assert "Only a workspace admin or owner" in all_text(people.last_reply())
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]

    # An admin of the org decides, for their own workspace's claimant.
    people.local.add_user(_member(is_admin=False, org=ORG, org_admin=True))
    _press_from(people, approve, here=OTHER_TEAM, org_install=True)
    assert f"was approved by <@{GRID_MEMBER}>" in all_text(people.last_reply())
    assert claims(engine_of) == [(researcher_id(engine_of), "approved", "admin")]


def test_an_admin_of_another_org_is_no_org_admin_here(people: SlackDriver, engine_of: Engine) -> None:
    people.local.add_user(_member(is_admin=True, org="E0OTHER", org_admin=True))
    approve = _approve_button(people)

    _press_from(people, approve, here=OTHER_TEAM, org_install=True)

    assert "Only a workspace admin or owner" in all_text(people.last_reply())
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]


@pytest.mark.parametrize("action_id", [Action.CLAIM_REJECT, Action.CLAIM_REVOKE])
def test_reject_and_revoke_cross_no_workspace_either(
    people: SlackDriver, engine_of: Engine, action_id: Action
) -> None:
    people.local.add_user(_member(is_admin=True))
    approve = _approve_button(people)

    _press_from(people, {**approve, "action_id": action_id}, here=OTHER_TEAM)

    assert ELSEWHERE in all_text(people.last_reply())
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]
