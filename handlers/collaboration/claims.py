"""Claims: `/peer claim QUERY`, `/peer claim revoke QUERY` (admins), `/peer unclaim`, the card's
Claim this profile and Edit profile buttons, the admin's Approve / Reject / Revoke buttons (in the
review message, or Approve / Reject on the admin's Home tab) and the profile edit modal.

Every press acts for whoever pressed it (the signed payload's user and team). An admin action
takes place in one workspace (`admin_actor`): the presser's right to decide comes from
`users.info`, asked with that workspace's token; the service then checks the claim belongs to that
workspace and is not the admin's own.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack, hand_over, handed_over, in_background
from handlers.blocks import Reply, escape
from handlers.collaboration.claim_blocks import (
    admin_elsewhere_refusal,
    claim_notice,
    decided_message,
    decision_refusal,
    unclaim_notice,
)
from handlers.collaboration.profile_edit_blocks import edit_refusal, profile_edit_modal, profile_saved_view
from handlers.collaboration.reviewers import AdminActor, admin_actor, reviewer_of, slack_identity
from handlers.context import (
    CommandContext,
    accept_form,
    form_values,
    now_utc,
    on_ephemeral_message,
    pressed_value,
    presser,
    tell_presser,
    unresolved,
)
from handlers.home.tab import publish_home
from handlers.ids import Action, ProfileInput
from handlers.ids import View as ViewId
from handlers.parsing import ParsedCommand
from handlers.research.profile_blocks import profile_card
from handlers.values import ClaimValue, EditMetadata, ResearcherValue
from services.collaboration.claim_service import HEADLINE_MAX
from services.collaboration.claim_types import ClaimOutcome, DecisionOutcome
from services.container import Services


def claim_reply(outcome: ClaimOutcome, command: str) -> Reply:
    """What the claim did, above the card as the claimant now sees it."""
    notice = claim_notice(outcome, command)
    if outcome.profile is None:
        return Reply(notice_text(outcome), notice)
    card = profile_card(outcome.profile)
    return Reply(notice_text(outcome), [*notice, *card.blocks])


def notice_text(outcome: ClaimOutcome) -> str:
    texts = {
        "approved": f"You claimed {outcome.name}",
        "pending": f"Your claim on {outcome.name} is pending",
        "already_yours": f"You already claimed {outcome.name}",
        "taken": f"{outcome.name} is already claimed",
        "has_other": "You already claimed another profile",
        "gone": "That researcher is no longer in the store",
    }
    return escape(texts[outcome.status])


def handle_claim_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer claim QUERY`, or for admins `/peer claim revoke QUERY`."""
    viewer, now = ctx.viewer, now_utc()
    head, _, rest = parsed.query.partition(" ")
    if head.casefold() == "revoke" and rest.strip():
        # A slash command names one team: the workspace it was typed in.
        reviewer = reviewer_of(ctx.client, AdminActor(viewer))
        revoked = services.claims.revoke_query(rest, reviewer=reviewer, now=now)
        if revoked.outcome is None:
            return unresolved(ctx.command, revoked.lookup)
        if revoked.outcome.status == "revoked":
            return decided_message(revoked.outcome)
        return decision_refusal(revoked.outcome, ctx.command)
    identity = slack_identity(ctx.client, ctx.user_id)
    result = services.claims.claim_query(viewer, parsed.query, identity=identity, now=now)
    if result.outcome is None:
        return unresolved(ctx.command, result.lookup)
    return claim_reply(result.outcome, ctx.command)


def handle_unclaim_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer unclaim`: withdraw my pending or approved claim."""
    viewer = ctx.viewer
    outcome = services.claims.unclaim(viewer, now=now_utc())
    notice = unclaim_notice(outcome, ctx.command)
    if outcome.profile is None:
        return notice
    return Reply(notice.text, [*notice.blocks, *profile_card(outcome.profile).blocks])


# ---------------------------------------------------------------------------------------------
# Buttons and the modal


def read_edit_form(values: dict[str, Any]) -> tuple[str, bool, dict[str, str]]:
    """The profile edit modal as submitted: headline, open to collaborate, errors by block."""
    headline_state = (values.get(ProfileInput.HEADLINE) or {}).get(ProfileInput.HEADLINE) or {}
    open_state = (values.get(ProfileInput.OPEN) or {}).get(ProfileInput.OPEN) or {}
    headline = " ".join(str(headline_state.get("value") or "").split())
    selected = open_state.get("selected_options") or []
    is_open = any(isinstance(o, dict) and o.get("value") == "open" for o in selected)
    errors: dict[str, str] = {}
    if len(headline) > HEADLINE_MAX:
        errors[ProfileInput.HEADLINE] = (
            f"Keep the headline under {HEADLINE_MAX} characters ({len(headline)} now)."
        )
    return headline, is_open, errors


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the claim buttons and the profile edit modal."""

    @after_ack(app.action(Action.CLAIM))
    def handle_claim_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        viewer, value = presser(body), ResearcherValue.load(pressed_value(body))
        if viewer is None or value is None:
            tell_presser(respond, messages.stale_button())
            return
        identity = slack_identity(client, viewer.user_id)
        reply = claim_reply(
            services.claims.claim(viewer, value.researcher_id, identity=identity, now=now_utc()), command
        )
        if on_ephemeral_message(body):
            respond(replace_original=True, **reply.payload())
        else:
            # A card shared in a channel stays as it is; the claimant alone sees the answer.
            tell_presser(respond, reply)

    def decide(body: dict[str, Any], respond: Respond, client: WebClient, kind: str) -> None:
        viewer, value = presser(body), ClaimValue.load(pressed_value(body))
        from_home = (body.get("container") or {}).get("type") == "view"

        def answer(reply: Reply, *, decided: bool = False) -> None:
            if from_home:
                # A press on the Home tab has no response_url: the answer is the tab, published again.
                if viewer is not None:
                    publish_home(services, client, viewer, command, now=now_utc(), notice=reply.text)
            elif decided:
                respond(replace_original=True, **reply.payload())
            else:
                tell_presser(respond, reply)

        if viewer is None or value is None:
            answer(messages.stale_button())
            return
        actor = admin_actor(body)
        if actor is None:
            answer(admin_elsewhere_refusal(command))
            return
        reviewer = reviewer_of(client, actor)
        outcome: DecisionOutcome
        if kind == "revoke":
            outcome = services.claims.revoke(value.claim_id, reviewer=reviewer, now=now_utc())
        else:
            outcome = services.claims.decide(
                value.claim_id, approve=kind == "approve", reviewer=reviewer, now=now_utc()
            )
        if outcome.status in ("approved", "rejected", "revoked"):
            answer(decided_message(outcome), decided=True)
        else:
            answer(decision_refusal(outcome, command))

    @after_ack(app.action(Action.CLAIM_APPROVE))
    def handle_claim_approve(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        decide(body, respond, client, "approve")

    @after_ack(app.action(Action.CLAIM_REJECT))
    def handle_claim_reject(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        decide(body, respond, client, "reject")

    @after_ack(app.action(Action.CLAIM_REVOKE))
    def handle_claim_revoke(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        decide(body, respond, client, "revoke")

    @after_ack(app.action(Action.PROFILE_EDIT))
    def handle_profile_edit(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        viewer, value = presser(body), ResearcherValue.load(pressed_value(body))
        from_home = (body.get("container") or {}).get("type") == "view"
        profile = services.claims.editable_profile(viewer, value.researcher_id) if viewer and value else None
        if profile is None or viewer is None or not body.get("trigger_id"):
            if from_home and viewer is not None:
                publish_home(services, client, viewer, command, now=now_utc(), notice=edit_refusal().text)
            elif body.get("response_url"):
                tell_presser(respond, edit_refusal() if value else messages.stale_button())
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=profile_edit_modal(profile, from_home=from_home)
        )

    def save_profile_edit(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        headline, is_open, errors = read_edit_form(form_values(body))
        form = accept_form(
            ack, body, EditMetadata, errors, field=ProfileInput.HEADLINE, opened_from="your card"
        )
        if form is None:
            return
        viewer, meta = form.viewer, form.meta
        # Saved here, in the store only: whether it could be saved is the ack's answer.
        outcome = services.claims.update_profile(
            viewer, meta.researcher_id, headline=headline, open_to_collaborate=is_open, now=now_utc()
        )
        if outcome.status != "saved":
            problem = outcome.problem or edit_refusal().text
            ack(response_action="errors", errors={ProfileInput.HEADLINE: problem})
            return
        ack(response_action="update", view=profile_saved_view(outcome))
        if meta.from_home:
            hand_over(context, meta)

    def refresh_home_after_edit(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        viewer = presser(body)
        if handed_over(context, EditMetadata) is None or viewer is None:
            return
        notice = ":white_check_mark: Profile saved."
        publish_home(services, client, viewer, command, now=now_utc(), notice=notice)

    app.view(ViewId.PROFILE_EDIT)(ack=save_profile_edit, lazy=[in_background(refresh_home_after_edit)])
