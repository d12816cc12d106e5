"""Claims on the card and in messages: the card's collaboration section (with the seed
profile's own wording), claim answers, the admin's review message, the claimant's DM, and the
profile edit modal. Pure functions; every record or user text is escaped."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
)

from handlers.blocks import Reply, button, context, escape, plural, section, shown_name
from handlers.ids import Action
from handlers.values import ClaimValue, ResearcherValue
from services.collaboration.claim_types import (
    OPERATOR,
    ClaimOutcome,
    ClaimReview,
    ClaimView,
    DecisionOutcome,
    UnclaimOutcome,
)
from services.research.profiles import Profile

# The seed profile's own sentences (seed-profile.txt), shown next to the buttons they explain.
CLAIM_SENTENCE = (
    "Claiming links this public author record to a researcher profile and unlocks direct "
    "collaboration workflows."
)
INVITE_LOCKED_SENTENCE = "Claim this author entity first to unlock direct invitations."
VERIFY_SENTENCE = "Sign in with ORCID to make it *Verification L3* (+15 trust)."


def verify_button(url: str, name: str) -> ButtonElement:
    """The "Verify with ORCID" link to /orcid/start for the member's own approved claim."""
    return button(
        "Verify with ORCID",
        action_id=f"{Action.OPEN_LINK}:orcid_verify",
        url=url,
        style="primary",
        label=f"Verify your claim on {name} by signing in with ORCID",
    )


def mention(user_id: str) -> str:
    """A mention of a Slack user id (ids come from signed payloads, never from button values)."""
    return f"<@{user_id}>"


def decider(decided_by: str | None) -> str:
    """Who decided a claim: an admin's mention, or the operator at the command line."""
    if decided_by == OPERATOR:
        return "the operator"
    return mention(decided_by) if decided_by else "an admin"


def trust_summary(profile: Profile) -> str:
    """`Trust 43 - Established · Verification L2 · Claimed`."""
    labels = {"unclaimed": "Unclaimed author", "pending": "Claim pending", "claimed": "Claimed"}
    trust = profile.trust
    return (
        f"Trust {trust.score} - {trust.label} · Verification L{trust.level} · {labels[profile.claim_status]}"
    )


# ---------------------------------------------------------------------------------------------
# The card


def card_collaboration_blocks(profile: Profile) -> list[Block]:
    """The card's "Identity and collaboration" and "Direct collaboration" part (two blocks)."""
    value = ResearcherValue(researcher_id=profile.id).dump()
    name = profile.name
    if profile.claim_status == "unclaimed":
        return [
            section(
                f"*Identity and collaboration*\n{CLAIM_SENTENCE}",
                accessory=button(
                    "Claim this profile",
                    action_id=Action.CLAIM,
                    value=value,
                    label=f"Claim the profile of {name}",
                ),
            ),
            context(f"*Direct collaboration* · {INVITE_LOCKED_SENTENCE}"),
        ]
    if profile.claim_status == "pending":
        return [
            section(
                "*Identity and collaboration*\nA claim on this profile is waiting for a workspace admin."
            ),
            context(f"*Direct collaboration* · {INVITE_LOCKED_SENTENCE}"),
        ]
    openness = "open to collaborate" if profile.open_to_collaborate else "not open to collaboration"
    if profile.claimed_by_viewer and profile.orcid_verify_url:
        # The card's fifth button: "Edit profile" waits on the Home tab until ORCID is done.
        return [
            section(
                f"*Identity and collaboration*\nThis is your claimed profile; you are {openness}. "
                f"{VERIFY_SENTENCE} Edit your profile from the app's Home tab.",
                accessory=verify_button(profile.orcid_verify_url, profile.name),
            )
        ]
    if profile.claimed_by_viewer:
        return [
            section(
                f"*Identity and collaboration*\nThis is your claimed profile; you are {openness}.",
                accessory=button(
                    "Edit profile",
                    action_id=Action.PROFILE_EDIT,
                    value=value,
                    label=f"Edit your profile {name}",
                ),
            )
        ]
    if not profile.open_to_collaborate:
        return [
            section(
                f"*Direct collaboration*\n{shown_name(profile.name)} is not open to collaboration right now. "
                "Follow them to hear about their new work."
            )
        ]
    return [
        section(
            "*Direct collaboration*\nOpen a focused conversation when the fit is right.",
            accessory=button(
                "Invite to collaborate",
                action_id=Action.INVITE,
                value=value,
                style="primary",
                label=f"Invite {name} to collaborate",
            ),
        )
    ]


# ---------------------------------------------------------------------------------------------
# Answers to the claimant


def claim_notice(outcome: ClaimOutcome, command: str) -> list[Block]:
    """What the claim did, shown above the card."""
    name = shown_name(outcome.name)
    if outcome.status == "approved":
        text = (
            f":white_check_mark: You claimed *{name}*: approved at once ({escape(outcome.reason or '')}). "
            "The profile is now Verification L2, and you can edit its headline and openness."
        )
    elif outcome.status == "pending":
        asked = (
            "A workspace admin has been asked to approve it; you'll get a DM either way."
            if outcome.reviewers
            else "No workspace admin could be reached yet: ask one to approve it."
        )
        text = f":hourglass_flowing_sand: Your claim on *{name}* is pending. {asked}"
        if outcome.reason:
            return [section(text), context(f"Not approved automatically: {escape(outcome.reason)}.")]
    elif outcome.status == "already_yours":
        state = "approved" if outcome.claim and outcome.claim.status == "approved" else "pending"
        text = f"You already claimed *{name}* (claim {state}). `{command} unclaim` withdraws it."
    elif outcome.status == "taken":
        text = (
            f"*{name}* is already claimed by someone else, so it cannot be claimed again. "
            "If that is wrong, ask a workspace admin."
        )
    elif outcome.status == "has_other":
        other = shown_name(outcome.other_name or "another profile")
        text = (
            f"You already claimed *{other}*: one profile per person. "
            f"`{command} unclaim` withdraws that claim first."
        )
    else:
        text = "That researcher is no longer in the store."
    return [section(text)]


def unclaim_notice(outcome: UnclaimOutcome, command: str) -> Reply:
    """The answer to `/peer unclaim`."""
    if outcome.status == "none" or outcome.claim is None:
        text = f"You have no claim to withdraw. `{command} claim YOUR NAME` claims your profile."
        return Reply(text, [section(text)])
    text = f"You withdrew your claim on *{shown_name(outcome.claim.researcher_name)}*."
    return Reply(escape(f"You withdrew your claim on {outcome.claim.researcher_name}"), [section(text)])


# ---------------------------------------------------------------------------------------------
# The admin's review message


def review_message(review: ClaimReview) -> Reply:
    """Asks an admin to approve or reject a pending claim."""
    claim, profile = review.claim, review.profile
    affiliation = profile.affiliation
    details = [
        shown_name(affiliation) if affiliation else "Affiliation not imported",
        trust_summary(profile),
        plural(profile.works_count, "work"),
    ]
    why = f"Not approved automatically: {escape(review.reason)}."
    if review.email_domain:
        why += f" Their Slack e-mail is at {escape(review.email_domain)}."
    blocks: list[Block] = [
        section(
            f":mag: {mention(claim.claimant.user_id)} claims the profile "
            f"*{shown_name(claim.researcher_name)}*."
            f"\n{' · '.join(details)}"
        ),
        context(why),
        review_buttons(claim.id, claim.researcher_name),
        context("Approving makes the profile Verification L2 (+30 trust) and opens it to invitations."),
    ]
    return Reply(escape(f"Claim to review: {claim.researcher_name}"), blocks)


def review_buttons(claim_id: int, researcher_name: str) -> ActionsBlock:
    """Approve / Reject for one pending claim (in the review message and on admins' Home tab)."""
    value = ClaimValue(claim_id=claim_id).dump()
    return ActionsBlock(
        elements=[
            button(
                "Approve",
                action_id=Action.CLAIM_APPROVE,
                value=value,
                style="primary",
                label=f"Approve the claim on {researcher_name}",
            ),
            button(
                "Reject",
                action_id=Action.CLAIM_REJECT,
                value=value,
                style="danger",
                label=f"Reject the claim on {researcher_name}",
                confirm=ConfirmObject(
                    title="Reject this claim?",
                    text="The claimant will be told by DM.",
                    confirm="Reject",
                    deny="Cancel",
                ),
            ),
        ]
    )


def decided_message(outcome: DecisionOutcome) -> Reply:
    """The review message once decided (or revoked); an approved one keeps a Revoke button."""
    claim = outcome.claim
    assert claim is not None
    who = mention(claim.claimant.user_id)
    by = decider(claim.decided_by)
    name = shown_name(claim.researcher_name)
    if claim.status == "approved":
        how = (
            f"approved by {by}"
            if claim.method == "admin"
            else "approved automatically (institutional e-mail)"
        )
        blocks: list[Block] = [
            section(f":white_check_mark: {who}'s claim on *{name}* was {how}."),
            ActionsBlock(
                elements=[
                    button(
                        "Revoke",
                        action_id=Action.CLAIM_REVOKE,
                        value=ClaimValue(claim_id=claim.id).dump(),
                        label=f"Revoke the claim on {claim.researcher_name}",
                        confirm=ConfirmObject(
                            title="Revoke this claim?",
                            text="The profile goes back to unclaimed and the claimant is told by DM.",
                            confirm="Revoke",
                            deny="Cancel",
                        ),
                    )
                ]
            ),
        ]
        return Reply(escape(f"Claim approved: {claim.researcher_name}"), blocks)
    verb = {"rejected": "rejected", "revoked": "revoked", "withdrawn": "withdrawn by the claimant"}.get(
        claim.status, claim.status
    )
    suffix = f" by {by}" if claim.status in ("rejected", "revoked") else ""
    text = f"{who}'s claim on *{name}* was {verb}{suffix}."
    return Reply(escape(f"Claim {verb}: {claim.researcher_name}"), [section(text)])


def decision_refusal(outcome: DecisionOutcome, command: str) -> Reply:
    """Why an admin button (or `/peer claim revoke`) did nothing, for the presser only."""
    texts = {
        "not_admin": "Only a workspace admin or owner can approve, reject or revoke claims.",
        "other_workspace": "That claim belongs to another workspace: only its own admins can decide it.",
        "own_claim": "You cannot decide your own claim: another admin has to.",
        "gone": "That claim is no longer in the store.",
        "not_approved": "There is no approved claim on that profile to revoke.",
    }
    text = texts.get(outcome.status)
    if text is None:
        claim = outcome.claim
        state = claim.status if claim else "decided"
        by = f" by {decider(claim.decided_by)}" if claim and claim.decided_by else ""
        text = f"Nothing changed: that claim was already {escape(state)}{by}."
    return Reply(text, [section(f":no_entry: {text}"), context(f"`{command} help` lists what you can do.")])


def admin_elsewhere_refusal(command: str) -> Reply:
    """An admin button pressed from another workspace than the presser's own (Slack Connect, or
    another workspace of an Enterprise Grid org without an org-wide install)."""
    text = (
        "Nothing changed: you pressed this in another workspace than your own (a channel shared "
        "with another organisation or workspace), and claims are decided by an admin of one "
        "workspace, from that workspace."
    )
    return Reply(text, [section(f":no_entry: {text}"), context(f"`{command} help` lists what you can do.")])


def claimant_dm(claim: ClaimView, command: str, *, verify_url: str | None = None) -> Reply:
    """The decision, told to the claimant (an approval with the ORCID sign-in link, when enabled)."""
    name = shown_name(claim.researcher_name)
    admin = "the operator of this BZPEER app" if claim.decided_by == OPERATOR else "a workspace admin"
    if claim.status == "approved":
        text = (
            f":white_check_mark: Your claim on *{name}* was approved. The profile now shows "
            "*Claimed · Verification L2*, and others can invite you to collaborate while you are "
            f"open to it. `{command} {shown_name(claim.researcher_name)}` shows your card, "
            "with *Edit profile*."
        )
    elif claim.status == "rejected":
        text = (
            f"Your claim on *{name}* was not approved by {admin}. "
            "If this is your profile, talk to them and claim it again."
        )
    else:
        text = f"Your claim on *{name}* was revoked by {admin}; the profile is unclaimed again."
    fallback = escape(f"Your claim on {claim.researcher_name}: {claim.status}")
    if claim.status == "approved" and verify_url:
        return Reply(
            fallback,
            [
                section(text),
                section(VERIFY_SENTENCE, accessory=verify_button(verify_url, claim.researcher_name)),
            ],
        )
    return Reply(fallback, [section(text)])


def orcid_verified_dm(profile: Profile) -> Reply:
    """Told to the member once ORCID confirmed their iD: the card's new trust line."""
    name = shown_name(profile.name)
    text = (
        f":white_check_mark: ORCID confirmed your iD: your claim on *{name}* is now ORCID-verified. "
        f"The card shows {trust_summary(profile)}."
    )
    return Reply(escape(f"Your claim on {profile.name} is now Verification L3"), [section(text)])
