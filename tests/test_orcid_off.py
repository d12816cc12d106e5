"""Without ORCID settings: no "Verify with ORCID" button, the /orcid/* routes answer 404, and
"Why this score?" says how L3 is reached."""

from __future__ import annotations

from bot.app import build_bolt_app
from bot.runtime import Runtime
from bot.web import WebApp
from handlers.ids import Action
from tests.collab_support import SAM, SEED, add_people, claim_and_approve, dms_to
from tests.oauth_support import call
from tests.slack_support import SlackDriver, all_text, buttons


def test_without_orcid_settings_there_is_no_button_and_no_route(
    driver: SlackDriver, runtime: Runtime
) -> None:
    assert not runtime.services.orcid.enabled
    add_people(driver)
    claim_and_approve(driver)
    driver.command(SEED, user_id=SAM.user_id, team_id=SAM.team_id)
    mine = driver.last_reply()
    assert "Verify with ORCID" not in buttons(mine) and "Edit profile" in buttons(mine)
    assert "Verify with ORCID" not in buttons(dms_to(driver, SAM.user_id)[-1])
    app = WebApp(
        build_bolt_app(runtime.settings, runtime.services),
        runtime.services.engine,
        orcid=runtime.services.orcid,
    )
    for path in ("/orcid/start", "/orcid/callback"):
        assert call(app, "GET", path, query="state=x&code=y")[0] == 404
    why = buttons(mine)["Why this score?"]
    driver.press(Action.WHY_SCORE, why["value"], user_id=SAM.user_id, team_id=SAM.team_id)
    text = all_text(driver.last_reply())
    assert "claim your profile and verify with ORCID; this installation has not enabled ORCID sign-in" in text
