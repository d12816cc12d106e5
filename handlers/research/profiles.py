"""The profile card: `/peer QUERY`, and the buttons on cards, pick lists and look-up offers
(View profile, Why this score?, Share to channel, Look up on OpenAlex, Add to BZPEER)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import CommandContext, is_user_id, pressed_value, presser, tell_presser, unresolved
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.profile_blocks import card_more, profile_card, trust_breakdown
from handlers.values import AuthorIdValue, LookupValue, ResearcherValue
from services.container import Services


def handle_profile_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer QUERY`: a card, a pick list, an invalid-input hint, or an OpenAlex look-up offer."""
    lookup = services.profiles.lookup(parsed.query, viewer=ctx.viewer)
    if lookup.status == "found" and lookup.profile:
        return profile_card(services.orcid.offer(lookup.profile, ctx.viewer) or lookup.profile)
    return unresolved(ctx.command, lookup, suggestion=parsed.suggestion)


def pressed_card(services: Services, body: dict[str, Any]) -> Reply:
    """The card of the researcher a button names, with Follow or Unfollow as the presser sees it."""
    value = ResearcherValue.load(pressed_value(body))
    viewer = presser(body)
    profile = services.profiles.profile(value.researcher_id, viewer=viewer) if value else None
    profile = services.orcid.offer(profile, viewer)
    if profile is None:
        return messages.researcher_gone() if value else messages.stale_button()
    return profile_card(profile)


def register(app: App, services: Services) -> None:
    """Attach the card, pick list and look-up buttons."""

    @after_ack(app.action(Action.VIEW_PROFILE))
    def handle_view_profile(body: dict[str, Any], respond: Respond) -> None:
        # From a pick list: the card takes its place.
        respond(replace_original=True, **pressed_card(services, body).payload())

    @after_ack(app.action(Action.VIEW_PROFILE_NEW_MESSAGE))
    def handle_view_profile_new_message(body: dict[str, Any], respond: Respond) -> None:
        # From collaborator suggestions, which stay: the card comes as a new message.
        tell_presser(respond, pressed_card(services, body))

    @after_ack(app.action(Action.WHY_SCORE))
    def handle_why_score(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(pressed_value(body))
        profile = services.profiles.profile(value.researcher_id) if value else None
        reply = trust_breakdown(profile, orcid_enabled=services.orcid.enabled) if profile else None
        tell_presser(respond, reply or messages.stale_button())

    @after_ack(app.action(Action.CARD_MORE))
    def handle_card_more(body: dict[str, Any], respond: Respond) -> None:
        # The card's secondary buttons come as a new message below it; the card stays.
        value = ResearcherValue.load(pressed_value(body))
        profile = services.profiles.profile(value.researcher_id) if value else None
        tell_presser(respond, card_more(profile) if profile else messages.stale_button())

    @after_ack(app.action(Action.SHARE_PROFILE))
    def handle_share_profile(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(pressed_value(body))
        profile = services.profiles.profile(value.researcher_id) if value else None
        user_id = str(body.get("user", {}).get("id", ""))
        if profile is None or not is_user_id(user_id):
            tell_presser(respond, messages.stale_button())
            return
        # A response_url post reaches the channel even when the bot is not a member of it.
        respond(
            response_type="in_channel",
            replace_original=False,
            **profile_card(profile, shared_by=user_id).payload(),
        )

    # OpenAlex can take seconds: these run on the look-up pool, a few per member at a time.
    @after_ack(app.action(Action.OPENALEX_LOOKUP), openalex=True)
    def handle_openalex_lookup(body: dict[str, Any], respond: Respond) -> None:
        value = LookupValue.load(pressed_value(body))
        if value is None:
            respond(replace_original=True, **messages.stale_button().payload())
            return
        respond(replace_original=True, **messages.looking_up(value.query).payload())
        result = services.lookup.look_up(value.query)
        reply = profile_card(result.profile) if result.profile else messages.openalex_result_message(result)
        respond(replace_original=True, **reply.payload())

    @after_ack(app.action(Action.OPENALEX_IMPORT), openalex=True)
    def handle_openalex_import(body: dict[str, Any], respond: Respond) -> None:
        value = AuthorIdValue.load(pressed_value(body))
        if value is None:
            respond(replace_original=True, **messages.stale_button().payload())
            return
        respond(replace_original=True, **messages.importing(value.openalex_id).payload())
        result = services.lookup.import_author(value.openalex_id)
        reply = profile_card(result.profile) if result.profile else messages.openalex_result_message(result)
        respond(replace_original=True, **reply.payload())
