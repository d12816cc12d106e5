"""Claims end to end: signed requests through the Bolt app against the fake Slack, what people
see read back, and the store checked after every refusal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.local.slack_objects import SlackUser
from bot.runtime import Runtime
from handlers.ids import Action, ProfileInput
from services.collaboration import claim_policy as claims_module
from services.collaboration.claim_policy import domain_matches, names_match
from services.collaboration.claim_service import ClaimService
from services.collaboration.claim_types import SlackIdentity
from services.workspaces.members import Viewer
from tests.collab_support import (
    ADMIN,
    ALICE,
    BOB,
    OTHER_ADMIN,
    SAM,
    SEED,
    ack_body,
    add_people,
    claim,
    claim_and_approve,
    claims,
    dms_to,
    last_view,
    press_as,
    researcher_id,
    review_request,
    set_institution,
)
from tests.slack_support import (
    SlackDriver,
    all_text,
    button,
    buttons,
    open_home,
    press,
    press_in_view,
    published_home,
    submit_view,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(driver: SlackDriver) -> SlackDriver:
    add_people(driver)
    return driver


@pytest.fixture
def engine_of(runtime: Runtime) -> Engine:
    return runtime.services.engine


def _card(driver: SlackDriver, who: Viewer = ALICE, query: str = SEED) -> dict:  # type: ignore[type-arg]
    driver.command(query, user_id=who.user_id, team_id=who.team_id)
    return driver.last_reply()


# ---------------------------------------------------------------------------------------------
# Matching rules (pure)


@pytest.mark.parametrize(
    ("slack", "record", "expected"),
    [
        ("Samyadeep Basu", "Samyadeep Basu", True),
        ("Basu Samyadeep", "Samyadeep Basu", True),  # order
        ("Sámyadeep BASU", "Samyadeep Basu", True),  # accents, case
        ("Samyadeep K. Basu", "Samyadeep Basu", True),  # a middle initial on one side
        ("Samyadeep Basu", "Samyadeep K Basu", True),
        ("John A. Smith", "John B. Smith", False),  # different initials
        ("S. Basu", "Samyadeep Basu", False),  # an initial is not a first name
        ("Basu", "Basu", False),  # one word is not enough
        ("Samyadeep Basu", "Soheil Feizi", False),
        (None, "Samyadeep Basu", False),
    ],
)
def test_names_match_accent_and_order_insensitively(slack: str | None, record: str, expected: bool) -> None:
    assert names_match(slack, record) is expected


@pytest.mark.parametrize(
    ("domain", "institution", "expected"),
    [
        ("umd.edu", "umd.edu", True),
        ("cs.umd.edu", "umd.edu", True),  # a sub-domain
        ("cs.umd.edu", "www.umd.edu", True),
        ("notumd.edu", "umd.edu", False),
        ("umd.edu.evil.com", "umd.edu", False),
        ("gmail.com", "gmail.com", False),  # webmail is never an institution
        ("umd.edu", None, False),
        (None, "umd.edu", False),
    ],
)
def test_email_domain_matches_the_institution_or_a_sub_domain(
    domain: str | None, institution: str | None, expected: bool
) -> None:
    assert domain_matches(domain, institution) is expected


# ---------------------------------------------------------------------------------------------
# Admin approval, and who may decide


def test_claim_waits_for_an_admin_who_approves_from_a_dm(people: SlackDriver, engine_of: Engine) -> None:
    card = _card(people, SAM)
    assert "Claim this profile" in buttons(card)
    assert "Claiming links this public author record" in all_text(card)

    reply = claim(people, SAM)
    text = all_text(reply)
    assert "Your claim on *Samyadeep Basu* is pending" in text
    assert "A workspace admin has been asked to approve it" in text
    assert "the profile has no institution e-mail domain on record" in text
    assert "Claim pending" in text and "Claim this profile" not in buttons(reply)

    review = review_request(people, ADMIN)
    assert "<@U0SAM> claims the profile *Samyadeep Basu*" in all_text(review)
    assert (
        button(review, Action.CLAIM_APPROVE)["accessibility_label"] == "Approve the claim on Samyadeep Basu"
    )
    assert not dms_to(people, "U0ALICE"), "only admins are asked"
    press_as(people, review, Action.CLAIM_APPROVE, ADMIN)

    decided = people.last_reply()
    assert decided["replace_original"] is True
    assert "was approved by <@U0ADMIN>" in all_text(decided)
    assert "Revoke" in buttons(decided)
    told = dms_to(people, "U0SAM")[-1]
    assert "Your claim on *Samyadeep Basu* was approved" in all_text(told)

    card = _card(people)
    assert "Trust 43 - Established · Verification L2 · Claimed" in all_text(card)
    assert "Invite to collaborate" in buttons(card) and "Claim this profile" not in buttons(card)
    own = _card(people, SAM)
    assert "This is your claimed profile" in all_text(own)
    assert "Edit profile" in buttons(own) and "Invite to collaborate" not in buttons(own)
    assert claims(engine_of) == [(researcher_id(engine_of), "approved", "admin")]


@pytest.mark.parametrize(
    ("who", "value", "expected"),
    [
        (ALICE, None, "Only a workspace admin or owner"),  # a member who is not an admin
        (SAM, None, "Only a workspace admin or owner"),  # the claimant himself
        (OTHER_ADMIN, None, "belongs to another workspace"),  # an admin, of another workspace
        (ADMIN, '{"c": 999999}', "no longer in the store"),  # an edited value
        (ADMIN, '{"c": "1; DROP TABLE claim"}', "out of date"),  # a forged value
    ],
)
def test_only_an_admin_of_the_claimants_workspace_decides(
    people: SlackDriver, engine_of: Engine, who: Viewer, value: str | None, expected: str
) -> None:
    claim(people, SAM)
    review = review_request(people)
    approve = button(review, Action.CLAIM_APPROVE)
    if value is not None:
        approve["value"] = value
    people.local.clear()
    press(people, approve, user_id=who.user_id, team_id=who.team_id, ephemeral=False)

    refusal = people.last_reply()
    assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    assert expected in all_text(refusal)
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]
    assert not dms_to(people, "U0SAM"), "the claimant is told nothing"
    assert "Claim pending" in all_text(_card(people))


def test_an_admin_cannot_approve_their_own_claim(people: SlackDriver, engine_of: Engine) -> None:
    claim(people, ADMIN)
    # Other admins are asked; the claimant-admin is not, and pressing a copy does nothing.
    assert not [m for m in dms_to(people, "U0ADMIN") if "claim_approve" in str(m["blocks"])]
    review = [m for m in people.local.calls_to("chat.postMessage") if "claim_approve" in str(m.params)]
    assert review == []  # no other admin in this workspace
    assert "No workspace admin could be reached yet" in all_text(people.last_reply())
    rid = researcher_id(engine_of)
    mine = ClaimService(engine_of).mine(ADMIN)
    assert mine is not None
    with_value = {"action_id": Action.CLAIM_APPROVE, "value": f'{{"c": {mine.id}}}'}
    press(people, with_value, user_id=ADMIN.user_id, ephemeral=False)
    assert "You cannot decide your own claim" in all_text(people.last_reply())
    assert claims(engine_of) == [(rid, "pending", None)]


def test_a_replayed_approve_changes_nothing(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    review = review_request(people)
    sent = len(dms_to(people, "U0SAM"))
    press_as(people, review, Action.CLAIM_APPROVE, ADMIN)
    assert "Nothing changed: that claim was already approved by <@U0ADMIN>" in all_text(people.last_reply())
    press_as(people, review, Action.CLAIM_REJECT, ADMIN)
    assert "already approved" in all_text(people.last_reply())
    assert len(dms_to(people, "U0SAM")) == sent
    assert claims(engine_of) == [(researcher_id(engine_of), "approved", "admin")]


def test_reject_tells_the_claimant_and_the_profile_can_be_claimed_again(
    people: SlackDriver, engine_of: Engine
) -> None:
    claim(people, SAM)
    press_as(people, review_request(people), Action.CLAIM_REJECT, ADMIN)
    assert "was rejected by <@U0ADMIN>" in all_text(people.last_reply())
    assert "was not approved by a workspace admin" in all_text(dms_to(people, "U0SAM")[-1])
    card = _card(people)
    assert "Unclaimed author" in all_text(card) and "Trust 13 - Unverified" in all_text(card)
    assert "pending" in all_text(claim(people, SAM))
    assert [status for _, status, _ in claims(engine_of)] == ["rejected", "pending"]


# ---------------------------------------------------------------------------------------------
# One claimant per profile, one profile per member


def test_a_claimed_profile_cannot_be_claimed_again(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    reply = claim(people, BOB)
    assert "*Samyadeep Basu* is already claimed by someone else, so it cannot be claimed again" in all_text(
        reply
    )
    card = _card(people, BOB)
    assert "Claim this profile" not in buttons(card)
    # The old Claim button (a card from before) is refused the same way.
    press(
        people, {"action_id": Action.CLAIM, "value": f'{{"r": {researcher_id(engine_of)}}}'}, user_id="U0BOB"
    )
    assert "already claimed by someone else" in all_text(people.last_reply())
    assert len(claims(engine_of)) == 1


def test_a_pending_claim_also_blocks_a_second_claimant(people: SlackDriver, engine_of: Engine) -> None:
    claim(people, SAM)
    assert "already claimed by someone else" in all_text(claim(people, BOB))
    assert len(claims(engine_of)) == 1


def test_one_profile_per_member(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    reply = claim(people, SAM, "Soheil Feizi")
    assert "You already claimed *Samyadeep Basu*: one profile per person" in all_text(reply)
    assert "`/peer unclaim`" in all_text(reply)
    assert len(claims(engine_of)) == 1


def test_a_racing_claim_reads_as_taken(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    service = runtime.services.claims
    rid = researcher_id(runtime.services.engine)
    service.claim(SAM, rid, identity=None, now=NOW)
    # The second claimant's check ran before the first committed: the unique index decides.
    real = claims_module.find_live_claim
    calls = {"n": 0}

    def stale_once(*, session, researcher_id):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return None if calls["n"] == 1 else real(session=session, researcher_id=researcher_id)

    monkeypatch.setattr(claims_module, "find_live_claim", stale_once)
    outcome = service.claim(BOB, rid, identity=None, now=NOW)
    assert outcome.status == "taken"
    assert [status for _, status, _ in claims(runtime.services.engine)] == ["pending"]


# ---------------------------------------------------------------------------------------------
# Automatic approval on an institutional e-mail


def test_institutional_email_and_matching_name_approve_at_once(
    people: SlackDriver, engine_of: Engine
) -> None:
    set_institution(engine_of, SEED, "umd.edu")
    people.local.add_user(
        SlackUser("U0SAM", "T0TEAM1", "sam", "Basu, Samyadeep K.", email="sbasu@cs.umd.edu")
    )
    reply = claim(people, SAM)
    text = all_text(reply)
    assert "You claimed *Samyadeep Basu*: approved at once" in text
    assert "Slack e-mail at umd.edu and a matching name" in text
    assert "Trust 43 - Established · Verification L2 · Claimed" in text
    assert not people.local.calls_to("users.list"), "no admin was asked"
    assert claims(engine_of) == [(researcher_id(engine_of), "approved", "email_domain")]


@pytest.mark.parametrize(
    ("real_name", "email", "reason"),
    [
        ("Samyadeep Basu", "sbasu@gmail.com", "the Slack e-mail domain (gmail.com) is not umd.edu"),
        ("Soheil Feizi", "sfeizi@umd.edu", "the Slack name differs from the names on the record"),
        ("Samyadeep Basu", None, "no e-mail address is visible on the Slack profile"),
    ],
)
def test_no_automatic_approval_without_both_domain_and_name(
    people: SlackDriver, engine_of: Engine, real_name: str, email: str | None, reason: str
) -> None:
    set_institution(engine_of, SEED, "umd.edu")
    people.local.add_user(SlackUser("U0SAM", "T0TEAM1", "sam", real_name, email=email))
    text = all_text(claim(people, SAM))
    assert "is pending" in text and reason in text
    assert reason in all_text(review_request(people))
    assert claims(engine_of) == [(researcher_id(engine_of), "pending", None)]


# ---------------------------------------------------------------------------------------------
# Revoke and unclaim


def test_an_admin_revokes_from_the_approved_message(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    approved = people.last_reply()
    revoke = button(approved, Action.CLAIM_REVOKE)
    press(people, revoke, user_id="U0BOB", ephemeral=False)
    assert "Only a workspace admin or owner" in all_text(people.last_reply())
    assert claims(engine_of)[-1][1] == "approved"
    press(people, revoke, user_id="U0ADMIN", ephemeral=False)
    assert "was revoked by <@U0ADMIN>" in all_text(people.last_reply())
    assert "was revoked by a workspace admin" in all_text(dms_to(people, "U0SAM")[-1])
    assert "Unclaimed author" in all_text(_card(people))


def test_an_admin_revokes_by_command_and_others_cannot(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    people.command(f"claim revoke {SEED}", user_id="U0BOB")
    assert "Only a workspace admin or owner" in all_text(people.last_reply())
    people.command(f"claim revoke {SEED}", user_id="U0ADMIN2", team_id="T0TEAM2")
    assert "belongs to another workspace" in all_text(people.last_reply())
    assert claims(engine_of)[-1][1] == "approved"
    people.command(f"claim revoke {SEED}", user_id="U0ADMIN")
    assert "was revoked by <@U0ADMIN>" in all_text(people.last_reply())
    assert claims(engine_of)[-1][1] == "revoked"
    people.command(f"claim revoke {SEED}", user_id="U0ADMIN")
    assert "no approved claim on that profile" in all_text(people.last_reply())


def test_unclaim_withdraws_and_trust_falls_back(people: SlackDriver, engine_of: Engine) -> None:
    people.command("unclaim", user_id="U0SAM")
    assert "You have no claim to withdraw" in all_text(people.last_reply())
    claim_and_approve(people)
    people.command("unclaim", user_id="U0SAM")
    text = all_text(people.last_reply())
    assert "You withdrew your claim on *Samyadeep Basu*" in text
    assert "Trust 13 - Unverified · Verification L1 · Unclaimed author" in text
    assert claims(engine_of)[-1][1] == "withdrawn"
    assert "pending" in all_text(claim(people, BOB))  # free to be claimed again


# ---------------------------------------------------------------------------------------------
# The claimant edits the headline and "Open to collaborate"


def _edit_values(headline: str, is_open: bool) -> dict:  # type: ignore[type-arg]
    selected = [{"value": "open"}] if is_open else []
    return {
        ProfileInput.HEADLINE: {ProfileInput.HEADLINE: {"type": "plain_text_input", "value": headline}},
        ProfileInput.OPEN: {ProfileInput.OPEN: {"type": "checkboxes", "selected_options": selected}},
    }


def test_the_claimant_edits_the_headline_and_openness(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    own = _card(people, SAM)
    press(people, buttons(own)["Edit profile"], user_id="U0SAM")
    modal = last_view(people)
    assert modal["callback_id"] == "profile_edit"

    too_long = submit_view(people, modal, _edit_values("x" * 301, True), user_id="U0SAM")
    assert ack_body(too_long)["errors"][ProfileInput.HEADLINE].startswith("Keep the headline under 300")
    forged = submit_view(people, modal, _edit_values("I am Sam", True), user_id="U0ALICE")
    assert "Only the person whose approved claim" in ack_body(forged)["errors"][ProfileInput.HEADLINE]

    saved = submit_view(
        people, modal, _edit_values("Influence <@U0ALICE> & *friends*", False), user_id="U0SAM"
    )
    assert ack_body(saved)["response_action"] == "update"
    card = all_text(_card(people))
    assert "Influence &lt;@U0ALICE&gt; &amp; *friends*" in card and "<@U0ALICE>" not in card
    assert "Not open to collaboration" in card
    assert "is not open to collaboration right now" in card
    assert "Invite to collaborate" not in buttons(_card(people))


def test_only_the_claimant_can_open_the_edit_modal(people: SlackDriver, engine_of: Engine) -> None:
    claim_and_approve(people)
    edit = buttons(_card(people, SAM))["Edit profile"]
    people.local.clear()
    press(people, edit, user_id="U0BOB")
    assert "Only the person whose approved claim" in all_text(people.last_reply())
    assert not people.local.calls_to("views.open")


def test_service_refuses_edits_by_anyone_but_the_claimant(runtime: Runtime) -> None:
    service: ClaimService = runtime.services.claims
    rid = researcher_id(runtime.services.engine)
    service.claim(SAM, rid, identity=SlackIdentity(real_name=SEED), now=NOW)
    # Pending is not enough.
    assert service.update_profile(SAM, rid, headline="x", open_to_collaborate=True).status == "not_claimant"


def test_review_channel_gets_the_review_when_configured(
    settings,
    openalex,
    local_slack,
    people: SlackDriver,  # type: ignore[no-untyped-def]
) -> None:
    from bot.app import InlineExecutor, build_bolt_app
    from bot.runtime import build_runtime
    from services.openalex.client import OpenAlexClient
    from tests.conftest import SIGNING_SECRET

    configured = settings.model_copy(update={"bzpeer_review_channel": "C0REVIEW"})
    client = OpenAlexClient(configured.openalex_url, transport=openalex.transport(), sleep=lambda _: None)
    runtime = build_runtime(configured, openalex=client)
    try:
        app = build_bolt_app(configured, runtime.services, listener_executor=InlineExecutor())
        driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
        claim(driver, SAM)
        in_channel = [
            m for m in local_slack.calls_to("chat.postMessage") if m.params.get("channel") == "C0REVIEW"
        ]
        assert len(in_channel) == 1 and "claims the profile" in str(in_channel[0].params)
        assert not local_slack.calls_to("users.list")
    finally:
        runtime.close()


def test_the_claimant_edits_from_the_home_tab(people: SlackDriver, engine_of: Engine) -> None:
    open_home(people, user_id="U0SAM")
    assert "Not claimed yet. `/peer claim YOUR NAME`" in all_text(published_home(people, "U0SAM"))
    claim(people, SAM)
    open_home(people, user_id="U0SAM")
    assert "is waiting for a workspace admin" in all_text(published_home(people, "U0SAM"))
    press_as(people, review_request(people), Action.CLAIM_APPROVE, ADMIN)

    open_home(people, user_id="U0SAM")
    home = published_home(people, "U0SAM")
    assert "*Your researcher profile*" in all_text(home) and "Open to collaborate" in all_text(home)
    press_in_view(people, home, button(home, Action.PROFILE_EDIT), user_id="U0SAM")
    modal = last_view(people)
    assert '"h":true' in modal["private_metadata"]
    submit_view(people, modal, _edit_values("Robust and interpretable ML", True), user_id="U0SAM")
    home = all_text(published_home(people, "U0SAM"))
    assert ":white_check_mark: Profile saved." in home
    assert "Robust and interpretable ML" in all_text(_card(people))
