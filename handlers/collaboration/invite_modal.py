"""Before an invitation is sent: why it cannot be (with Follow instead), the invitation modal,
and what the modal shows while and after it is sent."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks import Reply, button, context, escape, section, shown_name
from handlers.collaboration.claim_blocks import INVITE_LOCKED_SENTENCE
from handlers.collaboration.invitation_blocks import brief_card, follow_instead_button, short_date
from handlers.ids import Action, InviteInput
from handlers.ids import View as ViewId
from handlers.values import InviteMetadata, ResearcherValue
from services.collaboration.invitation_policy import OPEN_LIMIT
from services.collaboration.invitation_service import MESSAGE_MAX
from services.collaboration.invitation_types import AboutOption, InviteCheck, InviteOutcome
from services.store.text import truncate

OPTION_TEXT = 75


def refusal_text(check: InviteCheck, command: str) -> str:
    """Why the researcher cannot be invited now (never saying who muted whom)."""
    name = shown_name(check.name)
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
            f"{short_date(check.until) if check.until else 'next month'}."
        ),
    }
    return texts.get(check.status, "That invitation cannot be sent.")


def refusal_reply(check: InviteCheck, command: str) -> Reply:
    """The refusal, with Follow offered instead (when following makes sense)."""
    text = refusal_text(check, command)
    blocks: list[Block] = [section(text)]
    if check.status in ("unclaimed", "pending_claim", "closed", "muted", "cooldown"):
        blocks.append(ActionsBlock(elements=[follow_instead_button(check.researcher_id, check.name)]))
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
        blocks=[section(f":hourglass_flowing_sand: Sending your invitation to *{shown_name(name)}*…")],
    )


def result_view(outcome: InviteOutcome, command: str) -> View:
    """The modal once the invitation went out, was refused after all, or could not be sent."""
    name = shown_name(outcome.check.name)
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


def no_sender_reply() -> Reply:
    return Reply(no_sender_text(), [section(no_sender_text())])


def no_sender_view() -> View:
    return View(
        type="modal", title="Invite to collaborate", close="Close", blocks=[section(no_sender_text())]
    )


def invite_button_reply(check: InviteCheck, command: str) -> Reply:
    """`invite` typed in the bot's DM: a typed message cannot open the form (only a button or a
    slash command can, with a trigger_id), so the button that opens it, and the command."""
    name = shown_name(check.name)
    text = f"Press Invite to collaborate to write your invitation to {check.name}, or use {command} invite."
    invite = button(
        "Invite to collaborate",
        action_id=Action.INVITE,
        value=ResearcherValue(researcher_id=check.researcher_id).dump(),
        style="primary",
        label=f"Invite {check.name} to collaborate",
    )
    return Reply(
        escape(text),
        [
            section(
                f"A message typed here cannot open the invitation form: press *Invite to collaborate* "
                f"to write your invitation to *{name}*, or type `{escape(command)} invite {name}`.",
                accessory=invite,
            )
        ],
    )
