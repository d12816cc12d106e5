"""The channel's OpenAlex look-up: *Look up on OpenAlex and follow* (offered when `/peer channel
follow QUERY` names nobody in the store) and a pick list's *Follow*; the researcher found and
imported is followed for the channel the button was pressed in."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import fresh_time_zone, now_utc, pressed_value, presser
from handlers.digests.channel_blocks import channel_outcome
from handlers.digests.channel_lookup_blocks import channel_author_choices
from handlers.digests.channels import pressed_in
from handlers.ids import Action
from handlers.values import ChannelAuthorValue, ChannelLookupValue
from services.container import Services
from services.openalex.author_lookup import OpenAlexLookup
from services.workspaces.members import ChannelRef, Viewer


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the channel's look-up and import buttons (on the look-up pool: OpenAlex is slow)."""

    @after_ack(app.action(Action.CHANNEL_LOOKUP), openalex=True)
    def handle_channel_lookup(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        value, viewer = ChannelLookupValue.load(pressed_value(body)), presser(body)
        if value is None or viewer is None:
            respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
            return
        info = pressed_in(body, value.channel_id, command, respond, client)
        if info is None:
            return
        respond(replace_original=True, **messages.looking_up(value.query).payload())
        result = services.lookup.look_up(value.query)
        reply = _follow_found(services, command, result, viewer, value.channel_id, info.where, client)
        respond(replace_original=True, **reply.payload())

    @after_ack(app.action(Action.CHANNEL_IMPORT), openalex=True)
    def handle_channel_import(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        value, viewer = ChannelAuthorValue.load(pressed_value(body)), presser(body)
        if value is None or viewer is None:
            respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
            return
        info = pressed_in(body, value.channel_id, command, respond, client)
        if info is None:
            return
        respond(replace_original=True, **messages.importing(value.openalex_id).payload())
        result = services.lookup.import_author(value.openalex_id)
        reply = _follow_found(services, command, result, viewer, value.channel_id, info.where, client)
        respond(replace_original=True, **reply.payload())


def _follow_found(
    services: Services,
    command: str,
    result: OpenAlexLookup,
    viewer: Viewer,
    channel_id: str,
    where: str,
    client: WebClient,
) -> Reply:
    """One researcher imported: the channel follows them; otherwise the choices, or why none."""
    if result.profile is None:
        return channel_author_choices(result, channel_id, where)
    channel, now = ChannelRef(viewer.team_id, channel_id), now_utc()
    tz = fresh_time_zone(services, client, viewer, now)
    outcome = services.channels.follow(channel, result.profile.id, setter=viewer, setter_tz=tz, now=now)
    return channel_outcome(outcome, where, command)
