"""My researcher profile and my invitations, and (for a workspace admin) the claims waiting for a
decision, as the Home tab shows them."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock

from handlers.blocks import button, escape, section, shown_name
from handlers.collaboration.claim_blocks import VERIFY_SENTENCE, mention, review_buttons, verify_button
from handlers.collaboration.invitation_blocks import brief_card, short_date
from handlers.ids import Action
from handlers.values import ResearcherValue, UnmuteValue
from services.collaboration.claim_types import ClaimView
from services.collaboration.invitation_policy import OPEN_LIMIT
from services.collaboration.invitation_types import InvitationHome, InvitationSummary

_STATUS = {"open": "open", "accepted": "accepted", "declined": "closed", "expired": "expired"}


def _person(summary: InvitationSummary) -> str:
    if summary.cross_workspace:
        return (
            f"*{shown_name(summary.other_name)}* (another workspace)"
            if summary.other_name
            else "someone elsewhere"
        )
    who = mention(summary.other.user_id)
    return f"{who} (*{shown_name(summary.other_name)}*)" if summary.other_name else who


def collaboration_blocks(home: InvitationHome, command: str) -> list[Block]:
    """My researcher profile and invitations, for the Home tab (at most about 20 blocks)."""
    blocks: list[Block] = [DividerBlock()]
    claim, profile = home.claim, home.profile
    if claim is None:
        blocks.append(
            section(
                "*Your researcher profile*\nNot claimed yet. "
                f"`{command} claim YOUR NAME` links your public author record to you; "
                "claimed and open, others can invite you to collaborate."
            )
        )
    elif claim.status == "pending":
        blocks.append(
            section(
                f"*Your researcher profile*\nYour claim on *{shown_name(claim.researcher_name)}* is waiting "
                "for a workspace admin."
            )
        )
    elif profile is not None:
        openness = "Open to collaborate" if profile.open_to_collaborate else "Not open to collaboration"
        blocks.append(
            section(
                f"*Your researcher profile*\n{brief_card(profile)}\n{openness}",
                accessory=button(
                    "Edit profile",
                    action_id=Action.PROFILE_EDIT,
                    value=ResearcherValue(researcher_id=profile.id).dump(),
                    label=f"Edit your profile {profile.name}",
                ),
            )
        )
        if profile.orcid_verify_url:
            blocks.append(
                section(VERIFY_SENTENCE, accessory=verify_button(profile.orcid_verify_url, profile.name))
            )
    lines = [f"*Invitations* · {home.open_sent} of {OPEN_LIMIT} sent invitations open"]
    for title, items in (("Sent", home.sent), ("Received", home.received)):
        if items:
            lines.append(f"_{title}_")
            lines.extend(
                f"• {_person(s)} · {_STATUS.get(s.status, escape(s.status))} · {short_date(s.created_at)}"
                for s in items
            )
    if not home.sent and not home.received:
        lines.append(f"None yet. `{command} invite NAME` invites a researcher who claimed their profile.")
    blocks.append(section("\n".join(lines)))
    if home.muted_all:
        blocks.append(
            section(
                "You have muted all invitations.",
                accessory=button(
                    "Turn back on",
                    action_id=Action.INVITE_UNMUTE,
                    value=UnmuteValue(member_id=0).dump(),
                    label="Turn invitations back on",
                ),
            )
        )
    for muted in home.muted[:5]:
        if muted.cross_workspace:
            who = (
                f"*{shown_name(muted.name)}* (another workspace)"
                if muted.name
                else "someone in another workspace"
            )
        else:
            who = mention(muted.viewer.user_id) + (f" (*{shown_name(muted.name)}*)" if muted.name else "")
        blocks.append(
            section(
                f"Muted: invitations from {who}",
                accessory=button(
                    "Unmute",
                    action_id=Action.INVITE_UNMUTE,
                    value=UnmuteValue(member_id=muted.member_id).dump(),
                    label=f"Unmute invitations from {muted.name or 'this person'}",
                ),
            )
        )
    return blocks


# Each pending claim takes two blocks; the oldest few keep the tab inside Slack's 100 blocks.
HOME_REVIEWS = 5


def claim_review_blocks(pending: list[ClaimView]) -> list[Block]:
    """For a workspace admin: the oldest pending claims (given up to HOME_REVIEWS + 1, to know
    whether more wait), each with Approve / Reject."""
    if not pending:
        return []
    count = len(pending)
    summary = f"the oldest {HOME_REVIEWS} of more" if count > HOME_REVIEWS else f"{count} pending"
    blocks: list[Block] = [DividerBlock(), section(f"*Claims to review* · {summary}")]
    for claim in pending[:HOME_REVIEWS]:
        blocks.append(
            section(
                f"{mention(claim.claimant.user_id)} claims the profile "
                f"*{shown_name(claim.researcher_name)}* · since {short_date(claim.created_at)}"
            )
        )
        blocks.append(review_buttons(claim.id, claim.researcher_name))
    return blocks
