"""Invitations: `/peer invite QUERY [| message]` and the card's Invite to collaborate button open
the invitation modal; its submission sends the invitation; Accept / Decline / Mute on the intro
answer it; Unmute on the Home tab lifts a mute.

Who may do what is decided by the service from the signed payload's user and team: a button
value only names an invitation, and pressing someone else's Accept changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import messages
from handlers.background import after_ack, hand_over, handed_over, in_background
from handlers.blocks import Reply
from handlers.collaboration.invitation_blocks import answer_notice, answer_refusal
from handlers.collaboration.invite_modal import (
    invite_button_reply,
    invite_modal,
    no_sender_reply,
    no_sender_view,
    refusal_reply,
    refusal_view,
    result_view,
    sending_view,
)
from handlers.context import (
    CommandContext,
    accept_form,
    form_values,
    now_utc,
    pressed_message,
    pressed_value,
    presser,
    tell_presser,
    unresolved,
)
from handlers.home.tab import publish_home
from handlers.ids import Action, InviteInput
from handlers.ids import View as ViewId
from handlers.parsing import ParsedCommand
from handlers.values import InvitationValue, InviteMetadata, ResearcherValue, UnmuteValue
from services.collaboration.invitation_service import MESSAGE_MAX
from services.collaboration.invitation_types import AnswerKind, InviteCheck
from services.container import Services

log = logging.getLogger("bzpeer.invitations")

MESSAGE_SEPARATOR = "|"


def split_invite_text(text: str) -> tuple[str, str]:
    """`QUERY | message` → (QUERY, message), from text parse_slash_text has already decoded."""
    query, _, message = text.partition(MESSAGE_SEPARATOR)
    return query.strip(), message.strip()


def open_invite_modal(
    services: Services,
    client: WebClient,
    trigger_id: str,
    check: InviteCheck,
    command: str,
    message: str = "",
) -> Reply | None:
    """Open the invitation modal when the check allows it; otherwise the refusal (with Follow)."""
    if check.status != "ok":
        return refusal_reply(check, command)
    if not services.invitations.can_send:
        return no_sender_reply()
    if not trigger_id:
        return invite_button_reply(check, command)
    client.views_open(trigger_id=trigger_id, view=invite_modal(check, message=message))
    return None


def handle_invite_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply | None:
    """`/peer invite QUERY [| message]`: the modal, a refusal with Follow, or a pick list."""
    query, message = split_invite_text(parsed.query)
    if not query:
        return messages.empty_query(ctx.command, "invite")
    viewer = ctx.viewer
    result = services.invitations.check_query(viewer, query, now=now_utc())
    if result.check is None:
        return unresolved(ctx.command, result.lookup)
    return open_invite_modal(services, ctx.client, ctx.trigger_id, result.check, ctx.command, message)


def read_invite_form(values: dict[str, Any]) -> tuple[str, str | None, dict[str, str]]:
    """The invitation modal as submitted: message, "about" option value, errors by block."""
    message_state = (values.get(InviteInput.MESSAGE) or {}).get(InviteInput.MESSAGE) or {}
    about_state = (values.get(InviteInput.ABOUT) or {}).get(InviteInput.ABOUT) or {}
    message = str(message_state.get("value") or "").strip()
    about = (about_state.get("selected_option") or {}).get("value")
    errors: dict[str, str] = {}
    if not message:
        errors[InviteInput.MESSAGE] = "Write a few words on why the two of you should talk."
    elif len(message) > MESSAGE_MAX:
        errors[InviteInput.MESSAGE] = f"Keep it under {MESSAGE_MAX} characters ({len(message)} now)."
    return message, about if isinstance(about, str) else None, errors


@dataclass(frozen=True)
class InviteSubmission:
    """An invitation form that passed its checks: what the lazy half sends."""

    researcher_id: int
    message: str
    about: str | None


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the invitation buttons and the invitation modal."""

    @after_ack(app.action(Action.INVITE))
    def handle_invite_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        viewer, value = presser(body), ResearcherValue.load(pressed_value(body))
        if viewer is None or value is None or not body.get("trigger_id"):
            tell_presser(respond, messages.stale_button())
            return
        check = services.invitations.check(viewer, value.researcher_id, now=now_utc())
        reply = open_invite_modal(services, client, str(body["trigger_id"]), check, command)
        if reply is not None:
            tell_presser(respond, reply)

    def check_invite_form(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        message, about, errors = read_invite_form(form_values(body))
        form = accept_form(
            ack, body, InviteMetadata, errors, field=InviteInput.MESSAGE, opened_from="the card"
        )
        if form is None:
            return
        viewer, meta = form.viewer, form.meta
        # A cheap check in the store first, so a refusal shows at once; the send itself comes
        # after the ack and re-checks everything with the members locked.
        check = services.invitations.check(viewer, meta.researcher_id, now=now_utc())
        if check.status != "ok" or not services.invitations.can_send:
            refused = refusal_view(check, command) if check.status != "ok" else no_sender_view()
            ack(response_action="update", view=refused)
            return
        ack(response_action="update", view=sending_view(check.name))
        hand_over(context, InviteSubmission(meta.researcher_id, message, about))

    def send_invitation(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        submission, viewer = handed_over(context, InviteSubmission), presser(body)
        if submission is None or viewer is None:
            return
        outcome = services.invitations.invite(
            viewer,
            submission.researcher_id,
            message=submission.message,
            about=submission.about,
            now=now_utc(),
        )
        view_id = str((body.get("view") or {}).get("id") or "")
        try:
            client.views_update(view_id=view_id, view=result_view(outcome, command))
        except SlackApiError as error:
            # The person closed the modal meanwhile; the invitation itself is unaffected.
            log.info("invitation %s: modal not updated (%s)", outcome.status, error.response.get("error"))

    app.view(ViewId.INVITE)(ack=check_invite_form, lazy=[in_background(send_invitation)])

    def answer(body: dict[str, Any], respond: Respond, kind: AnswerKind) -> None:
        viewer, value = presser(body), InvitationValue.load(pressed_value(body))
        if viewer is None or value is None:
            tell_presser(respond, messages.stale_button())
            return
        outcome = services.invitations.answer(
            value.invitation_id, viewer, kind, now=now_utc(), pressed_on=pressed_message(body)
        )
        if outcome.status in ("not_invitee", "already", "gone"):
            tell_presser(respond, answer_refusal(outcome))
            return
        notice = answer_notice(outcome)
        if notice is not None:
            tell_presser(respond, notice)

    @after_ack(app.action(Action.INVITE_ACCEPT))
    def handle_invite_accept(body: dict[str, Any], respond: Respond) -> None:
        answer(body, respond, "accept")

    @after_ack(app.action(Action.INVITE_DECLINE))
    def handle_invite_decline(body: dict[str, Any], respond: Respond) -> None:
        answer(body, respond, "decline")

    @after_ack(app.action(Action.INVITE_MUTE_PERSON))
    def handle_invite_mute_person(body: dict[str, Any], respond: Respond) -> None:
        answer(body, respond, "mute_person")

    @after_ack(app.action(Action.INVITE_MUTE_ALL))
    def handle_invite_mute_all(body: dict[str, Any], respond: Respond) -> None:
        answer(body, respond, "mute_all")

    @after_ack(app.action(Action.INVITE_UNMUTE))
    def handle_invite_unmute(body: dict[str, Any], client: WebClient) -> None:
        viewer, value = presser(body), UnmuteValue.load(pressed_value(body))
        if viewer is None or value is None:
            return
        # Only the presser's own mutes: the value can name nothing else.
        changed = services.invitations.unmute(viewer, value.member_id or None)
        notice = ":white_check_mark: Invitations are back on." if changed else "Nothing to unmute."
        publish_home(services, client, viewer, command, now=now_utc(), notice=notice)
