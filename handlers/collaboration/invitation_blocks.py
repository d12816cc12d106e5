"""Invitations in Slack: why someone cannot be invited (with Follow), the invitation modal, the
intro with Accept / Decline / Mute, what each answer turns it into, the DMs around it, the
check-back, and the Home tab's collaboration section. Pure functions; all text escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)

from handlers.blocks import Reply, button, context, escape, plural, section, shown_name
from handlers.collaboration.claim_blocks import mention, trust_summary
from handlers.ids import Action
from handlers.values import (
    InvitationValue,
    ResearcherValue,
)
from services.collaboration.invitation_types import (
    AnswerOutcome,
    InvitationView,
)
from services.research.profiles import Profile
from services.store.text import truncate


@dataclass(frozen=True)
class SlackContact:
    """What Slack shows of a person to someone in another workspace: name, workspace, e-mail."""

    name: str
    workspace: str | None = None
    email: str | None = None


def short_date(moment: datetime) -> str:
    """A date Slack renders in the reader's own time zone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%Y-%m-%d}>"


def brief_card(profile: Profile | None) -> str:
    """A card in one or two lines: name, affiliation, trust, works, main topics."""
    if profile is None:
        return "_no claimed profile yet_"
    parts = [
        shown_name(profile.affiliation) if profile.affiliation else None,
        trust_summary(profile),
        plural(profile.works_count, "work"),
    ]
    line = f"*{shown_name(profile.name)}* · " + " · ".join(p for p in parts if p)
    if profile.topics:
        line += "\nTopics: " + ", ".join(escape(truncate(t, 80)) for t in profile.topics[:3])
    return line


def follow_instead_button(researcher_id: int, name: str) -> ButtonElement:
    return button(
        "Follow instead",
        action_id=Action.FOLLOW,
        value=ResearcherValue(researcher_id=researcher_id).dump(),
        style="primary",
        label=f"Follow {name} instead",
    )


# ---------------------------------------------------------------------------------------------
# The intro and what it becomes


def _quote(message: str) -> str:
    return "\n".join(f"> {escape(line)}" if line.strip() else ">" for line in message.splitlines())


def _in_common(view: InvitationView) -> str:
    parts = []
    if view.coauthored_works:
        parts.append(f"{plural(view.coauthored_works, 'work')} together")
    if view.shared_topics:
        parts.append("shared topics: " + ", ".join(escape(truncate(t, 80)) for t in view.shared_topics))
    if view.shared_coauthors:
        parts.append("shared co-authors: " + ", ".join(shown_name(n) for n in view.shared_coauthors))
    return "*In common:* " + ("; ".join(parts) if parts else "nothing in the store yet, a fresh connection")


def _who(view: InvitationView, inviter: SlackContact | None) -> tuple[str, str]:
    """How the intro names the inviter and the invitee (mentions only inside one workspace)."""
    if view.cross_workspace and inviter is not None:
        workspace = f" from the *{escape(inviter.workspace)}* workspace" if inviter.workspace else ""
        return f"*{shown_name(inviter.name)}*{workspace}", "you"
    return mention(view.inviter.viewer.user_id), mention(view.invitee.viewer.user_id)


def _context_blocks(view: InvitationView, inviter_name: str, invitee_name: str) -> list[Block]:
    blocks: list[Block] = []
    if view.message:
        blocks.append(section(_quote(view.message)))
    if view.about:
        blocks.append(context(f"*About:* {escape(truncate(view.about, 300))}"))
    invitee_label = "You" if invitee_name == "you" else invitee_name
    blocks.append(section(f"{invitee_label}: {brief_card(view.invitee.profile)}"))
    blocks.append(section(f"{inviter_name}: {brief_card(view.inviter.profile)}"))
    blocks.append(context(_in_common(view)))
    return blocks


def intro_message(view: InvitationView, *, inviter: SlackContact | None = None) -> Reply:
    """The invitation with Accept / Decline / Mute, which only the invitee can use."""
    inviter_name, invitee_name = _who(view, inviter)
    value = InvitationValue(invitation_id=view.id).dump()
    # A screen reader cannot read a mention: the label names the inviter's researcher profile.
    profile = view.inviter.profile
    sender = profile.name if profile is not None else (inviter.name if inviter else "a colleague")
    blocks: list[Block] = [
        section(f":wave: {inviter_name} would like to collaborate with {invitee_name}."),
        *_context_blocks(view, inviter_name, invitee_name),
        ActionsBlock(
            elements=[
                button(
                    "Accept",
                    action_id=Action.INVITE_ACCEPT,
                    value=value,
                    style="primary",
                    label=f"Accept the invitation from {sender}",
                ),
                button(
                    "Decline",
                    action_id=Action.INVITE_DECLINE,
                    value=value,
                    label=f"Decline the invitation from {sender}",
                ),
                button(
                    "Mute this person",
                    action_id=Action.INVITE_MUTE_PERSON,
                    value=value,
                    label=f"Mute invitations from {sender}",
                ),
                button(
                    "Mute all invitations",
                    action_id=Action.INVITE_MUTE_ALL,
                    value=value,
                    label="Mute all invitations, from anyone",
                ),
            ]
        ),
    ]
    if view.cross_workspace:
        blocks.append(
            context("If you accept, you'll both get each other's Slack name and e-mail so you can connect.")
        )
    else:
        blocks.append(
            context(f"Only {invitee_name} can answer. Once accepted, talk in the thread under this message.")
        )
    plain_inviter = inviter.name if view.cross_workspace and inviter else "Someone"
    return Reply(escape(f"{plain_inviter} would like to collaborate with you"), blocks)


def answered_message(view: InvitationView, *, inviter: SlackContact | None = None) -> Reply:
    """The intro after its answer: the buttons go; a decline reads as neutral "closed"."""
    inviter_name, invitee_name = _who(view, inviter)
    if view.status == "accepted":
        if view.cross_workspace:
            head = ":white_check_mark: You accepted. You both got each other's contact details by DM."
        else:
            head = (
                f":white_check_mark: {invitee_name} accepted {inviter_name}'s invitation. "
                "This thread is yours: reply here to start talking."
            )
    elif view.status == "expired":
        head = "This invitation expired without an answer."
    else:
        head = "This invitation is closed."
    blocks: list[Block] = [section(head), *_context_blocks(view, inviter_name, invitee_name)]
    return Reply(escape(head.replace(":white_check_mark: ", "")), blocks)


def conversation_started(view: InvitationView) -> Reply:
    """The first message in the thread after Accept."""
    text = (
        f"{mention(view.invitee.viewer.user_id)} accepted. {mention(view.inviter.viewer.user_id)}, "
        "over to you both: this thread is your conversation."
    )
    return Reply("Invitation accepted: this thread is your conversation", [section(text)])


def contacts_dm(view: InvitationView, other: SlackContact, *, you_invited: bool) -> Reply:
    """Across workspaces, after Accept: who the other person is and how to reach them."""
    how = f"E-mail: {escape(other.email)}" if other.email else "Their e-mail is not visible to BZPEER."
    workspace = f" ({escape(other.workspace)} workspace)" if other.workspace else ""
    lead = (
        f"*{shown_name(other.name)}*{workspace} accepted your invitation to collaborate."
        if you_invited
        else f"You accepted *{shown_name(other.name)}*{workspace}'s invitation to collaborate."
    )
    researcher = view.invitee.profile if you_invited else view.inviter.profile
    blocks: list[Block] = [
        section(f":handshake: {lead}\n{how}"),
        context(f"Their profile: {brief_card(researcher)}"),
        context("You are in different Slack workspaces: reach out by e-mail or Slack Connect."),
    ]
    return Reply(escape(f"Invitation accepted: contact {other.name}"), blocks)


def declined_dm(view: InvitationView, *, invitee_name: str) -> Reply:
    """Told to the inviter, privately and kindly."""
    text = (
        f"Thanks for reaching out to *{shown_name(invitee_name)}*. They can't take this on right now, "
        "and that is fine: timing matters in research. You can follow their work in the meantime."
    )
    blocks: list[Block] = [section(text)]
    if view.invitee.profile is not None:
        blocks.append(
            ActionsBlock(elements=[follow_instead_button(view.invitee.profile.id, view.invitee.profile.name)])
        )
    return Reply(escape(f"About your invitation to {invitee_name}"), blocks)


def undelivered_dm(view: InvitationView, *, invitee_name: str) -> Reply:
    """Told to the inviter when an invitation Slack never confirmed could not be sent after all."""
    text = (
        f"Your invitation to *{shown_name(invitee_name)}* could not be delivered after all: Slack did not "
        "confirm it, and it was not in the conversation when BZPEER checked. Nothing was sent; "
        "you can invite them again."
    )
    return Reply(escape(f"Your invitation to {invitee_name} was not delivered"), [section(text)])


def check_back_message(view: InvitationView) -> Reply:
    """Posted in a quiet thread a week after the intro."""
    inviter, invitee = mention(view.inviter.viewer.user_id), mention(view.invitee.viewer.user_id)
    if view.status == "open":
        text = (
            f"Checking back: {invitee}, {inviter}'s invitation is still open. "
            "Accept or Decline above whenever suits you: no pressure either way."
        )
    elif view.cross_workspace:
        text = "Checking back: this invitation is still open. Accept or Decline above whenever suits you."
    else:
        text = (
            f"Checking back: {inviter} and {invitee}, did you find a time to talk? "
            "This thread is still here for you."
        )
    return Reply("Checking back on your invitation", [section(text)])


def answer_notice(outcome: AnswerOutcome) -> Reply | None:
    """What only the invitee sees after a mute (the message itself shows the answer)."""
    if outcome.status == "muted_person":
        text = "Done: you won't get invitations from this person. Your Home tab can undo it."
    elif outcome.status == "muted_all":
        text = "Done: you won't get any invitations through BZPEER. Your Home tab can turn them back on."
    else:
        return None
    if not outcome.delivered:
        text += " (Slack did not take every message; the answer is saved.)"
    return Reply(text, [section(text)])


def answer_refusal(outcome: AnswerOutcome) -> Reply:
    """Why Accept / Decline / Mute did nothing, for the presser only."""
    if outcome.status == "not_invitee":
        text = "Only the person invited can answer this invitation."
    elif outcome.status == "already" and outcome.invitation is not None:
        text = f"Nothing changed: this invitation was already {escape(outcome.invitation.status)}."
    else:
        text = "That invitation is no longer in the store."
    return Reply(text, [section(f":no_entry: {text}")])
