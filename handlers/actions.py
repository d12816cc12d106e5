"""Button presses on cards, pick lists and look-up offers."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Respond

from handlers.background import acknowledge, after_ack
from handlers.blocks import messages
from handlers.blocks.profile import profile_card, trust_breakdown
from handlers.follows import presser
from handlers.ids import Action
from handlers.values import AuthorIdValue, LookupValue, ResearcherValue
from services.container import Services

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def _value(body: dict[str, Any]) -> str | None:
    actions = body.get("actions") or [{}]
    value = actions[0].get("value")
    return value if isinstance(value, str) else None


def register(app: App, services: Services) -> None:
    """Attach every block_actions listener."""

    @after_ack(app.action(Action.VIEW_PROFILE))
    def handle_view_profile(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(_value(body))
        # The card shows Follow or Unfollow as the presser sees it.
        profile = services.profiles.profile(value.researcher_id, viewer=presser(body)) if value else None
        reply = (
            profile_card(profile)
            if profile
            else (messages.researcher_gone() if value else messages.stale_button())
        )
        respond(replace_original=True, **reply.payload())

    @after_ack(app.action(Action.WHY_SCORE))
    def handle_why_score(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(_value(body))
        profile = services.profiles.profile(value.researcher_id) if value else None
        reply = trust_breakdown(profile) if profile else messages.stale_button()
        respond(response_type="ephemeral", replace_original=False, **reply.payload())

    @after_ack(app.action(Action.SHARE_PROFILE))
    def handle_share_profile(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(_value(body))
        profile = services.profiles.profile(value.researcher_id) if value else None
        user_id = str(body.get("user", {}).get("id", ""))
        if profile is None or not _USER_ID.match(user_id):
            respond(
                response_type="ephemeral",
                replace_original=False,
                **messages.stale_button().payload(),
            )
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
        value = LookupValue.load(_value(body))
        if value is None:
            respond(replace_original=True, **messages.stale_button().payload())
            return
        respond(replace_original=True, **messages.looking_up(value.query).payload())
        result = services.lookup.look_up(value.query)
        reply = profile_card(result.profile) if result.profile else messages.openalex_result_message(result)
        respond(replace_original=True, **reply.payload())

    @after_ack(app.action(Action.OPENALEX_IMPORT), openalex=True)
    def handle_openalex_import(body: dict[str, Any], respond: Respond) -> None:
        value = AuthorIdValue.load(_value(body))
        if value is None:
            respond(replace_original=True, **messages.stale_button().payload())
            return
        respond(replace_original=True, **messages.importing(value.openalex_id).payload())
        result = services.lookup.import_author(value.openalex_id)
        reply = profile_card(result.profile) if result.profile else messages.openalex_result_message(result)
        respond(replace_original=True, **reply.payload())

    # A link button opens its URL in the browser; Slack still wants the ack, and nothing else.
    app.action(re.compile(f"^{Action.OPEN_LINK}"))(acknowledge)


def register_fallback(app: App) -> None:
    """Last of all: a button no listener knows (from a message an older version posted, or an
    edited payload) gets "out of date" instead of Bolt's 404, which Slack shows as an error."""

    @after_ack(app.action(re.compile(".*")))
    def handle_unknown_action(body: dict[str, Any], respond: Respond) -> None:
        if body.get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
