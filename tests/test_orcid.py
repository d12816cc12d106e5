"""ORCID sign-in for Verification L3, end to end: the "Verify with ORCID" link on the claimant's
card and approval DM, /orcid/start and /orcid/callback through the WSGI app, and a local ORCID
over real HTTP; forged, replayed, expired and mismatching sign-ins refused; off without settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import Session, col, select

from bot.app import build_bolt_app
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import WebApp
from services.collaboration.orcid_state import BadState, StateSigner
from services.store.models import Claim, OrcidStateUse, Researcher
from tests.collab_support import ADMIN, SAM, SEED, add_people, claim_and_approve, dms_to, researcher_id
from tests.conftest import SIGNING_SECRET
from tests.fake_orcid import CLIENT_ID, CLIENT_SECRET, FakeOrcid, running_orcid
from tests.oauth_support import call
from tests.slack_support import SlackDriver, all_text, buttons, open_home, published_home

PUBLIC_URL = "https://bzpeer.example.org"
SAM_ORCID = "0000-0002-1825-0097"
OTHER_ORCID = "0000-0001-5109-3700"
VERIFY = "Verify with ORCID"


@pytest.fixture
def orcid() -> Iterator[FakeOrcid]:
    with running_orcid() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, local_slack: LocalSlack, orcid: FakeOrcid) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=local_slack.url,
        OPENALEX_URL="https://openalex.test",
        ORCID_URL=orcid.url,
        ORCID_CLIENT_ID=CLIENT_ID,
        ORCID_CLIENT_SECRET=CLIENT_SECRET,
        BZPEER_PUBLIC_URL=PUBLIC_URL + "/",
    )


def web(runtime: Runtime) -> WebApp:
    return WebApp(
        build_bolt_app(runtime.settings, runtime.services),
        runtime.services.engine,
        orcid=runtime.services.orcid,
    )


def give_orcid(runtime: Runtime, orcid: str | None = SAM_ORCID) -> None:
    with Session(runtime.services.engine) as session:
        researcher = session.get(Researcher, researcher_id(runtime.services.engine))
        assert researcher is not None
        researcher.orcid = orcid
        session.add(researcher)
        session.commit()


def card(driver: SlackDriver, user_id: str = SAM.user_id) -> dict[str, Any]:
    driver.command(SEED, user_id=user_id, team_id=SAM.team_id)
    return driver.last_reply()


def verified(runtime: Runtime) -> list[bool]:
    with Session(runtime.services.engine) as session:
        return list(session.exec(select(col(Claim.orcid_authenticated))).all())


def claimed(driver: SlackDriver, runtime: Runtime, *, orcid: str | None = SAM_ORCID) -> str:
    """Sam claims his profile and an admin approves it; the state of his card's Verify link."""
    add_people(driver)
    give_orcid(runtime, orcid)
    claim_and_approve(driver)
    link = buttons(card(driver))[VERIFY]["url"]
    assert link.startswith(f"{PUBLIC_URL}/orcid/start?state=")
    return parse_qs(urlsplit(link).query)["state"][0]


def to_orcid(app: WebApp, state: str, orcid: FakeOrcid) -> str:
    """/orcid/start: the redirect to ORCID's authorize page; the sign-in state it carries."""
    status, headers, _ = call(app, "GET", "/orcid/start", query=f"state={state}")
    assert status == 302
    location = urlsplit(headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{orcid.url}/oauth/authorize"
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["scope"] == "/authenticate"
    assert query["redirect_uri"] == f"{PUBLIC_URL}/orcid/callback"
    return query["state"]


def test_orcid_sign_in_makes_the_claim_l3(driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid) -> None:
    state = claimed(driver, runtime)
    approval = dms_to(driver, SAM.user_id)[-1]
    assert "was approved" in all_text(approval)
    assert buttons(approval)[VERIFY]["url"].startswith(f"{PUBLIC_URL}/orcid/start?state=")
    assert "Trust 43 - Established · Verification L2 · Claimed" in all_text(card(driver))
    app = web(runtime)
    sign_in = to_orcid(app, state, orcid)
    orcid.grant("code-1", SAM_ORCID)

    status, headers, page = call(app, "GET", "/orcid/callback", query=f"code=code-1&state={sign_in}")

    assert status == 200 and headers["content-type"].startswith("text/html")
    assert "Verification L3" in page and "Trust 58 - Established" in page and SAM_ORCID in page
    token = orcid.requests[-1]
    assert token["path"] == "/oauth/token" and token["accept"] == "application/json"
    assert token["form"] == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": "code-1",
        "redirect_uri": f"{PUBLIC_URL}/orcid/callback",
    }
    assert verified(runtime) == [True]
    told = all_text(dms_to(driver, SAM.user_id)[-1])
    assert "now ORCID-verified" in told and "Verification L3" in told
    after = card(driver)
    # README's trust table: 9 (record) + 2 × 2 works + 45 (L3) = 58.
    assert "Trust 58 - Established · Verification L3 · Claimed" in all_text(after)
    assert VERIFY not in buttons(after) and "Edit profile" in buttons(after)
    assert len(after["blocks"]) <= 12 and len(buttons(after)) <= 5


def test_the_claimants_card_fits_with_the_verify_button(driver: SlackDriver, runtime: Runtime) -> None:
    claimed(driver, runtime)
    mine = card(driver)
    assert len(mine["blocks"]) <= 12 and len(buttons(mine)) <= 5
    assert buttons(mine)[VERIFY]["accessibility_label"].startswith("Verify your claim on Samyadeep Basu")
    # Nobody else is offered the link to someone else's claim.
    assert VERIFY not in buttons(card(driver, ADMIN.user_id))


def test_the_home_tab_offers_the_claimant_orcid_sign_in(driver: SlackDriver, runtime: Runtime) -> None:
    claimed(driver, runtime)
    open_home(driver, user_id=SAM.user_id, team_id=SAM.team_id)
    home = published_home(driver, SAM.user_id)
    assert buttons(home)[VERIFY]["url"].startswith(f"{PUBLIC_URL}/orcid/start?state=")
    assert "Edit profile" in buttons(home)


def test_a_replayed_callback_is_refused(driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid) -> None:
    app = web(runtime)
    sign_in = to_orcid(app, claimed(driver, runtime), orcid)
    orcid.grant("code-1", SAM_ORCID)
    assert call(app, "GET", "/orcid/callback", query=f"code=code-1&state={sign_in}")[0] == 200
    orcid.grant("code-2", SAM_ORCID)

    status, _, page = call(app, "GET", "/orcid/callback", query=f"code=code-2&state={sign_in}")

    assert status == 403 and "already used" in page
    assert "code-2" in orcid.codes  # refused before asking ORCID


def test_a_forged_state_is_refused(driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid) -> None:
    app = web(runtime)
    state = claimed(driver, runtime)
    forged = StateSigner("not-the-apps-secret").sign(
        claim_id=1, team_id=SAM.team_id, user_id=SAM.user_id, purpose="sign_in", now=datetime.now(UTC)
    )
    orcid.grant("code-1", SAM_ORCID)
    for path, query in (
        ("/orcid/start", f"state={state[:-2]}xx"),
        ("/orcid/callback", f"code=code-1&state={forged}"),
        ("/orcid/callback", f"code=code-1&state={state}"),  # the button's link is not a sign-in state
        ("/orcid/callback", "code=code-1"),
    ):
        status, _, page = call(app, "GET", path, query=query)
        assert status == 403 and "cannot be used" in page, (path, query)
    assert orcid.requests == [] and verified(runtime) == [False]


def test_a_different_orcid_id_is_refused_with_its_reason(
    driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid
) -> None:
    app = web(runtime)
    sign_in = to_orcid(app, claimed(driver, runtime), orcid)
    orcid.grant("code-1", OTHER_ORCID)

    status, _, page = call(app, "GET", "/orcid/callback", query=f"code=code-1&state={sign_in}")

    assert status == 400 and "A different ORCID iD signed in" in page
    assert f"you signed in at ORCID as {OTHER_ORCID}" in page.replace("You", "you") and SAM_ORCID in page
    assert verified(runtime) == [False]
    assert "Verification L2" in all_text(card(driver))


def test_no_orcid_on_record_and_denied_access_are_explained(
    driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid
) -> None:
    app = web(runtime)
    state = claimed(driver, runtime, orcid=None)
    status, _, page = call(app, "GET", "/orcid/start", query=f"state={state}")
    assert status == 400 and "No ORCID iD on record" in page
    status, _, page = call(app, "GET", "/orcid/callback", query="error=access_denied&state=x")
    assert status == 400 and "declined access at ORCID" in page
    assert verified(runtime) == [False]


def test_states_expire_and_name_their_step() -> None:
    signer, now = StateSigner("secret"), datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    state = signer.sign(claim_id=7, team_id="T1", user_id="U1", purpose="sign_in", now=now)
    assert signer.check(state, purpose="sign_in", now=now + timedelta(minutes=9)).claim_id == 7
    with pytest.raises(BadState, match="expired"):
        signer.check(state, purpose="sign_in", now=now + timedelta(minutes=11))
    with pytest.raises(BadState, match="another step"):
        signer.check(state, purpose="link", now=now)


def test_used_states_are_recorded(driver: SlackDriver, runtime: Runtime, orcid: FakeOrcid) -> None:
    app = web(runtime)
    sign_in = to_orcid(app, claimed(driver, runtime), orcid)
    orcid.grant("code-1", SAM_ORCID)
    call(app, "GET", "/orcid/callback", query=f"code=code-1&state={sign_in}")
    with Session(runtime.services.engine) as session:
        assert len(session.exec(select(OrcidStateUse)).all()) == 1
