"""Invitations in Slack: why someone cannot be invited (with Follow), the invitation modal, the
intro with Accept / Decline / Mute, what each answer turns it into, the DMs around it, the
check-back, and the Home tab's collaboration section. Pure functions; all text escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ConfigDict, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks.claims import INVITE_LOCKED_SENTENCE, mention, trust_summary
from handlers.blocks.common import Reply, context, escape, section
from handlers.ids import Action, InviteInput
from handlers.ids import View as ViewId
from handlers.values import MAX_ROW_ID, ButtonValue, ResearcherValue
from services.collaboration.invitation_policy import OPEN_LIMIT
from services.collaboration.invitation_service import MESSAGE_MAX
from services.collaboration.invitation_types import (
    AboutOption,
    AnswerOutcome,
    InvitationHome,
    InvitationSummary,
    InvitationView,
    InviteCheck,
    InviteOutcome,
)
from services.research.profiles import Profile
from services.store.text import truncate

NAME = 150
OPTION_TEXT = 75


class InvitationValue(ButtonValue):
    """Names one invitation on Accept / Decline / Mute; only its invitee may press them."""

    invitation_id: int = Field(alias="i", gt=0, le=MAX_ROW_ID)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


class UnmuteValue(ButtonValue):
    """Which of the presser's own mutes to lift: a member id, or 0 for "all invitations"."""

    member_id: int = Field(alias="m", ge=0, le=MAX_ROW_ID)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


class InviteMetadata(ButtonValue):
    """The invitation modal's private_metadata: whom it invites (the inviter is the submitter)."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


@dataclass(frozen=True)
class SlackContact:
    """What Slack shows of a person to someone in another workspace: name, workspace, e-mail."""

    name: str
    workspace: str | None = None
    email: str | None = None


def _name(text: str) -> str:
    return escape(truncate(text, NAME))


def _date(moment: datetime) -> str:
    """A date Slack renders in the reader's own time zone."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%Y-%m-%d}>"


def brief_card(profile: Profile | None) -> str:
    """A card in one or two lines: name, affiliation, trust, works, main topics."""
    if profile is None:
        return "_no claimed profile yet_"
    parts = [
        escape(truncate(profile.affiliation, NAME)) if profile.affiliation else None,
        trust_summary(profile),
        f"{profile.works_count} work{'s' if profile.works_count != 1 else ''}",
    ]
    line = f"*{_name(profile.name)}* · " + " · ".join(p for p in parts if p)
    if profile.topics:
        line += "\nTopics: " + ", ".join(escape(truncate(t, 80)) for t in profile.topics[:3])
    return line


def _follow_button(researcher_id: int) -> ButtonElement:
    return ButtonElement(
        text="Follow instead",
        action_id=Action.FOLLOW,
        value=ResearcherValue(researcher_id=researcher_id).dump(),
        style="primary",
    )


# ---------------------------------------------------------------------------------------------
# Before the modal


def refusal_text(check: InviteCheck, command: str) -> str:
    """Why the researcher cannot be invited now (never saying who muted whom)."""
    name = _name(check.name)
    texts = {
        "gone": "That researcher is no longer in the store.",
        "unclaimed": f"*{name}* has not claimed this profile yet. {INVITE_LOCKED_SENTENCE}",
        "pending_claim": (
            f"A claim on *{name}* is waiting for approval; invitations open once it is approved. "
            f"{INVITE_LOCKED_SENTENCE}"
        ),
        "closed": (
            f"*{name}* is not open to collaboration right now, so invitations are paused. "
            "Follow them to hear about their new work."
        ),
        "self": f"*{name}* is your own profile: you cannot invite yourself.",
        "muted": f"*{name}* is not taking invitations through BZPEER right now.",
        "pair_open": (
            f"There is already an open invitation between you and *{name}*: "
            "wait for an answer in that conversation."
        ),
        "limit": (
            f"You have {check.open_count} open invitations, the most at once ({OPEN_LIMIT}). "
            "Invite again once some are answered; your Home tab lists them."
        ),
        "cooldown": (
            f"*{name}* declined your last invitation, so you can invite them again from "
            f"{_date(check.until) if check.until else 'next month'}."
        ),
    }
    return texts.get(check.status, "That invitation cannot be sent.")


def refusal_reply(check: InviteCheck, command: str) -> Reply:
    """The refusal, with Follow offered instead (when following makes sense)."""
    text = refusal_text(check, command)
    blocks: list[Block] = [section(text)]
    if check.status in ("unclaimed", "pending_claim", "closed", "muted", "cooldown"):
        blocks.append(ActionsBlock(elements=[_follow_button(check.researcher_id)]))
    return Reply(escape(f"{check.name or 'That researcher'} cannot be invited right now"), blocks)


def _about_select(options: tuple[AboutOption, ...]) -> StaticSelectElement:
    def option(about: AboutOption) -> Option:
        return Option(text=truncate(about.label, OPTION_TEXT), value=about.value)

    groups = [
        OptionGroup(label=label, options=[option(o) for o in options if o.kind == kind])
        for label, kind in (("My works", "work"), ("My topics", "topic"))
        if any(o.kind == kind for o in options)
    ]
    return StaticSelectElement(
        action_id=InviteInput.ABOUT, placeholder="One of my works or topics", option_groups=groups
    )


def invite_modal(check: InviteCheck, *, message: str = "") -> View:
    """The invitation: a message and, for an inviter with a claimed profile, what it is about."""
    blocks: list[Block] = [
        section(brief_card(check.profile)),
        InputBlock(
            block_id=InviteInput.MESSAGE,
            label="Your message",
            hint="Why the two of you should talk. It opens a group DM with them and BZPEER.",
            element=PlainTextInputElement(
                action_id=InviteInput.MESSAGE,
                multiline=True,
                max_length=MESSAGE_MAX,
                initial_value=message[:MESSAGE_MAX] or None,
                placeholder="I'd love to compare notes on…",
            ),
        ),
    ]
    if check.about_options:
        blocks.append(
            InputBlock(
                block_id=InviteInput.ABOUT,
                label="About",
                optional=True,
                element=_about_select(check.about_options),
            )
        )
    else:
        blocks.append(context("Claim your own profile to say which of your works or topics this is about."))
    return View(
        type="modal",
        callback_id=ViewId.INVITE,
        private_metadata=InviteMetadata(researcher_id=check.researcher_id).dump(),
        title="Invite to collaborate",
        submit="Send",
        close="Cancel",
        blocks=blocks,
    )


def sending_view(name: str) -> View:
    return View(
        type="modal",
        callback_id=ViewId.INVITE,
        title="Invite to collaborate",
        close="Close",
        blocks=[section(f":hourglass_flowing_sand: Sending your invitation to *{_name(name)}*…")],
    )


def result_view(outcome: InviteOutcome, command: str) -> View:
    """The modal once the invitation went out, was refused after all, or could not be sent."""
    name = _name(outcome.check.name)
    if outcome.status == "sent" and outcome.invitation is not None:
        where = (
            "They got it as a DM in their workspace; you'll hear back from BZPEER."
            if outcome.invitation.cross_workspace
            else "A group DM with the two of you and BZPEER is open: talk in the thread under the intro."
        )
        text = f":white_check_mark: Invitation sent to *{name}*. {where}"
    elif outcome.status == "unconfirmed":
        text = (
            f":hourglass_flowing_sand: Slack didn't confirm your invitation to *{name}* yet. BZPEER "
            "checks within a few minutes and sends it again if it did not arrive; if it cannot be "
            "delivered, BZPEER tells you in a DM."
        )
    elif outcome.status == "failed":
        text = (
            f":warning: Slack would not deliver the invitation to *{name}*, so nothing was sent. "
            "Try again later."
        )
    else:
        return refusal_view(outcome.check, command)
    return _modal(text)


def refusal_view(check: InviteCheck, command: str) -> View:
    """The modal when the invitation cannot be sent (after all, or without a bot token)."""
    return _modal(f":no_entry: {refusal_text(check, command)}")


def no_sender_text() -> str:
    return "Invitations need the bot's Slack token, which this installation does not have."


def _modal(text: str) -> View:
    return View(
        type="modal",
        callback_id=ViewId.INVITE,
        title="Invite to collaborate",
        close="Close",
        blocks=[section(text)],
    )


# ---------------------------------------------------------------------------------------------
# The intro and what it becomes


def _quote(message: str) -> str:
    return "\n".join(f"> {escape(line)}" if line.strip() else ">" for line in message.splitlines())


def _in_common(view: InvitationView) -> str:
    parts = []
    if view.coauthored_works:
        parts.append(f"{view.coauthored_works} work{'s' if view.coauthored_works != 1 else ''} together")
    if view.shared_topics:
        parts.append("shared topics: " + ", ".join(escape(truncate(t, 80)) for t in view.shared_topics))
    if view.shared_coauthors:
        parts.append("shared co-authors: " + ", ".join(_name(n) for n in view.shared_coauthors))
    return "*In common:* " + ("; ".join(parts) if parts else "nothing in the store yet, a fresh connection")


def _who(view: InvitationView, inviter: SlackContact | None) -> tuple[str, str]:
    """How the intro names the inviter and the invitee (mentions only inside one workspace)."""
    if view.cross_workspace and inviter is not None:
        workspace = f" from the *{escape(inviter.workspace)}* workspace" if inviter.workspace else ""
        return f"*{_name(inviter.name)}*{workspace}", "you"
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
    blocks: list[Block] = [
        section(f":wave: {inviter_name} would like to collaborate with {invitee_name}."),
        *_context_blocks(view, inviter_name, invitee_name),
        ActionsBlock(
            elements=[
                ButtonElement(text="Accept", action_id=Action.INVITE_ACCEPT, value=value, style="primary"),
                ButtonElement(text="Decline", action_id=Action.INVITE_DECLINE, value=value),
                ButtonElement(text="Mute this person", action_id=Action.INVITE_MUTE_PERSON, value=value),
                ButtonElement(text="Mute all invitations", action_id=Action.INVITE_MUTE_ALL, value=value),
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
        f"*{_name(other.name)}*{workspace} accepted your invitation to collaborate."
        if you_invited
        else f"You accepted *{_name(other.name)}*{workspace}'s invitation to collaborate."
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
        f"Thanks for reaching out to *{_name(invitee_name)}*. They can't take this on right now, "
        "and that is fine: timing matters in research. You can follow their work in the meantime."
    )
    blocks: list[Block] = [section(text)]
    if view.invitee.profile is not None:
        blocks.append(ActionsBlock(elements=[_follow_button(view.invitee.profile.id)]))
    return Reply(escape(f"About your invitation to {invitee_name}"), blocks)


def undelivered_dm(view: InvitationView, *, invitee_name: str) -> Reply:
    """Told to the inviter when an invitation Slack never confirmed could not be sent after all."""
    text = (
        f"Your invitation to *{_name(invitee_name)}* could not be delivered after all: Slack did not "
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


# ---------------------------------------------------------------------------------------------
# The Home tab


_STATUS = {"open": "open", "accepted": "accepted", "declined": "closed", "expired": "expired"}


def _person(summary: InvitationSummary) -> str:
    if summary.cross_workspace:
        return (
            f"*{_name(summary.other_name)}* (another workspace)"
            if summary.other_name
            else "someone elsewhere"
        )
    who = mention(summary.other.user_id)
    return f"{who} (*{_name(summary.other_name)}*)" if summary.other_name else who


def home_blocks(home: InvitationHome, command: str) -> list[Block]:
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
                f"*Your researcher profile*\nYour claim on *{_name(claim.researcher_name)}* is waiting "
                "for a workspace admin."
            )
        )
    elif profile is not None:
        openness = "Open to collaborate" if profile.open_to_collaborate else "Not open to collaboration"
        blocks.append(
            section(
                f"*Your researcher profile*\n{brief_card(profile)}\n{openness}",
                accessory=ButtonElement(
                    text="Edit profile",
                    action_id=Action.PROFILE_EDIT,
                    value=ResearcherValue(researcher_id=profile.id).dump(),
                ),
            )
        )
    lines = [f"*Invitations* · {home.open_sent} of {OPEN_LIMIT} sent invitations open"]
    for title, items in (("Sent", home.sent), ("Received", home.received)):
        if items:
            lines.append(f"_{title}_")
            lines.extend(
                f"• {_person(s)} · {_STATUS.get(s.status, escape(s.status))} · {_date(s.created_at)}"
                for s in items
            )
    if not home.sent and not home.received:
        lines.append(f"None yet. `{command} invite NAME` invites a researcher who claimed their profile.")
    blocks.append(section("\n".join(lines)))
    if home.muted_all:
        blocks.append(
            section(
                "You have muted all invitations.",
                accessory=ButtonElement(
                    text="Turn back on", action_id=Action.INVITE_UNMUTE, value=UnmuteValue(member_id=0).dump()
                ),
            )
        )
    for muted in home.muted[:5]:
        if muted.cross_workspace:
            who = (
                f"*{_name(muted.name)}* (another workspace)" if muted.name else "someone in another workspace"
            )
        else:
            who = mention(muted.viewer.user_id) + (f" (*{_name(muted.name)}*)" if muted.name else "")
        blocks.append(
            section(
                f"Muted: invitations from {who}",
                accessory=ButtonElement(
                    text="Unmute",
                    action_id=Action.INVITE_UNMUTE,
                    value=UnmuteValue(member_id=muted.member_id).dump(),
                ),
            )
        )
    return blocks
