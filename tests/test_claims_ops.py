"""Operators and admins deciding claims without the review message: `bzpeer claims …` as a real
process, and the Approve / Reject buttons on a workspace admin's Home tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from handlers.ids import Action
from services.collaboration.claim_service import ClaimService
from services.workspaces.members import Viewer
from tests.collab_support import ADMIN, ALICE, SAM, add_people, claim, claims, dms_to, researcher_id
from tests.slack_support import SlackDriver, all_text, button, open_home, press_in_view, published_home
from tests.store_support import add_researcher
from tests.test_cli import _env, bzpeer


def _pending_claim(engine: Engine, name: str, who: Viewer) -> int:
    outcome = ClaimService(engine).claim(who, add_researcher(engine, name), identity=None)
    assert outcome.status == "pending" and outcome.claim is not None
    return outcome.claim.id


@pytest.mark.slow
def test_claims_list_and_approve_tell_the_claimant(
    database_url: str, engine: Engine, local_slack: LocalSlack, tmp_path: Path
) -> None:
    env = _env(database_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_API_URL=local_slack.url)
    empty = bzpeer("claims", "list", env=env, cwd=tmp_path)
    assert empty.returncode == 0 and "No pending claims." in empty.stdout, empty.stderr

    claim_id = _pending_claim(engine, "Ada [Lovelace]", SAM)
    listed = bzpeer("claims", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "Ada [Lovelace]" in line)
    assert str(claim_id) in row and "T0TEAM1" in row and "U0SAM" in row and "UTC" in row

    approved = bzpeer("claims", "approve", str(claim_id), env=env, cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    assert f"Claim {claim_id} on Ada [Lovelace] by U0SAM in T0TEAM1: approved." in approved.stdout
    assert "The claimant was told by DM." in approved.stdout
    [opened] = local_slack.calls_to("conversations.open")
    [dm] = local_slack.calls_to("chat.postMessage")
    assert opened.params["users"] == "U0SAM" and dm.params["channel"] == opened.response["channel"]["id"]
    assert "Your claim on *Ada [Lovelace]* was approved" in str(dm.params["blocks"])
    assert claims(engine) == [(researcher_id(engine, "Ada [Lovelace]"), "approved", "admin")]

    again = bzpeer("claims", "reject", str(claim_id), env=env, cwd=tmp_path)
    assert again.returncode == 1 and "is approved, not pending: nothing changed" in again.stderr
    assert "No pending claims." in bzpeer("claims", "list", env=env, cwd=tmp_path).stdout


@pytest.mark.slow
def test_claims_reject_without_slack_stores_the_decision_and_bad_ids_are_refused(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(database_url)
    claim_id = _pending_claim(engine, "Grace Hopper", SAM)
    rejected = bzpeer("claims", "reject", str(claim_id), env=env, cwd=tmp_path)
    assert rejected.returncode == 0, rejected.stderr
    assert "rejected." in rejected.stdout
    assert "no SLACK_BOT_TOKEN: the DM to the claimant could not be sent" in rejected.stderr
    assert claims(engine) == [(researcher_id(engine, "Grace Hopper"), "rejected", None)]

    for bad, code, message in (("abc", 2, "'abc' is not a claim id"), ("99999", 1, "no claim 99999")):
        result = bzpeer("claims", "approve", bad, env=env, cwd=tmp_path)
        assert result.returncode == code and message in result.stderr
        assert "Traceback" not in result.stderr


def test_an_admin_decides_a_claim_from_the_home_tab(driver: SlackDriver, runtime: Runtime) -> None:
    add_people(driver)
    engine = runtime.services.engine
    open_home(driver, user_id=ADMIN.user_id)  # the first publish asks users.info for the time zone
    asked = len(driver.local.calls_to("users.info"))
    open_home(driver, user_id=ADMIN.user_id)
    assert "Claims to review" not in all_text(published_home(driver, ADMIN.user_id))
    assert len(driver.local.calls_to("users.info")) == asked, "no pending claim: admin rights not asked"

    claim(driver, SAM)
    open_home(driver, user_id=ALICE.user_id)
    assert "Claims to review" not in all_text(published_home(driver, ALICE.user_id)), "not an admin"
    open_home(driver, user_id=SAM.user_id)
    assert "Claims to review" not in all_text(published_home(driver, SAM.user_id)), "one's own claim"

    open_home(driver, user_id=ADMIN.user_id)
    home = published_home(driver, ADMIN.user_id)
    assert "*Claims to review* · 1 pending" in all_text(home)
    assert "<@U0SAM> claims the profile *Samyadeep Basu*" in all_text(home)
    press_in_view(driver, home, button(home, Action.CLAIM_APPROVE), user_id=ADMIN.user_id)

    assert claims(engine) == [(researcher_id(engine), "approved", "admin")]
    assert "Your claim on *Samyadeep Basu* was approved" in all_text(dms_to(driver, SAM.user_id)[-1])
    home = published_home(driver, ADMIN.user_id)
    assert "Claim approved: Samyadeep Basu" in all_text(home)
    assert "Claims to review" not in all_text(home)


def test_a_home_tab_press_by_a_non_admin_changes_nothing(driver: SlackDriver, runtime: Runtime) -> None:
    add_people(driver)
    engine = runtime.services.engine
    claim(driver, SAM)
    open_home(driver, user_id=ADMIN.user_id)
    home = published_home(driver, ADMIN.user_id)
    # The same view pressed by a member who is not an admin (a replayed or forged payload).
    press_in_view(driver, home, button(home, Action.CLAIM_REJECT), user_id=ALICE.user_id)
    assert claims(engine) == [(researcher_id(engine), "pending", None)]
    assert "Only a workspace admin or owner" in all_text(published_home(driver, ALICE.user_id))
