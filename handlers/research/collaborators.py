"""`/peer collaborators QUERY`, `/peer graph QUERY` and their buttons.

The research graph is private by default: the picture goes to the DM of whoever asked (or pressed
Research graph, even on a card someone shared), and only their Share in channel posts it where
they asked, saying who shared it."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import CommandContext, pressed_channel, pressed_value, presser, tell_presser, unresolved
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.collaborator_blocks import (
    CANNOT_POST,
    collaborators_message,
    graph_comment,
    graph_sent,
    graph_share_refused,
    graph_shared,
    graph_shared_comment,
)
from handlers.values import GraphShareValue, ResearcherValue
from services.container import Services
from services.research.graph_picture import GraphPicture


def _upload(client: WebClient, picture: GraphPicture, *, channel_id: str, comment: str) -> None:
    client.files_upload_v2(
        channel=channel_id,
        file=picture.png,
        filename=picture.filename,
        title=picture.title,
        alt_txt=picture.alt_text,
        initial_comment=comment,
    )


def _share_value(researcher_id: int, channel_id: str) -> GraphShareValue | None:
    try:
        return GraphShareValue(researcher_id=researcher_id, channel_id=channel_id)
    except ValidationError:  # no channel to share in (a Home tab press, an odd payload)
        return None


def send_graph_privately(
    client: WebClient, picture: GraphPicture, *, user_id: str, asked_in: str, bot_dm: str | None = None
) -> Reply:
    """Upload the picture to the asker's DM with the bot (nobody else sees it) and say so, with
    Share in channel for the channel where it was asked (none when that is the DM itself).
    `bot_dm`: that DM, when the question was typed there."""
    dm = bot_dm or str(client.conversations_open(users=user_id)["channel"]["id"])
    _upload(client, picture, channel_id=dm, comment=graph_comment(picture))
    share = _share_value(picture.collaborators.researcher_id, asked_in) if asked_in != dm else None
    return graph_sent(picture, share=share)


def handle_collaborators_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer collaborators QUERY`: close collaborators and suggestions with their reasons."""
    found = services.collaborators.find(parsed.query)
    if found.result is None:
        return unresolved(ctx.command, found.lookup, action=Action.COLLABORATORS)
    return collaborators_message(found.result)


def handle_graph_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer graph QUERY`: the neighbourhood picture, in the asker's DM; the answer says so."""
    found = services.graph_pictures.find(parsed.query)
    if found.result is None:
        return unresolved(ctx.command, found.lookup, action=Action.GRAPH)
    bot_dm = ctx.channel_id if ctx.in_bot_dm else None
    return send_graph_privately(
        ctx.client, found.result, user_id=ctx.user_id, asked_in=ctx.channel_id, bot_dm=bot_dm
    )


def register(app: App, services: Services) -> None:
    """Attach the Collaborators, Research graph and Share in channel buttons."""

    @after_ack(app.action(Action.COLLABORATORS))
    def handle_collaborators_button(body: dict[str, Any], respond: Respond) -> None:
        value = ResearcherValue.load(pressed_value(body))
        found = services.collaborators.collaborators(value.researcher_id) if value else None
        reply = (
            collaborators_message(found)
            if found
            else (messages.researcher_gone() if value else messages.stale_button())
        )
        tell_presser(respond, reply)

    @after_ack(app.action(Action.GRAPH))
    def handle_graph_button(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        # Whoever presses, wherever (a shared card too): the picture goes to them alone.
        value, who = ResearcherValue.load(pressed_value(body)), presser(body)
        picture = services.graph_pictures.picture(value.researcher_id) if value and who else None
        if picture is None or who is None:
            tell_presser(respond, messages.researcher_gone() if value and who else messages.stale_button())
            return
        reply = send_graph_privately(client, picture, user_id=who.user_id, asked_in=pressed_channel(body))
        tell_presser(respond, reply)

    @after_ack(app.action(Action.GRAPH_SHARE))
    def handle_graph_share(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        # The value names the channel it was offered in; a press from anywhere else is refused.
        value, who = GraphShareValue.load(pressed_value(body)), presser(body)
        if value is None or who is None or value.channel_id != pressed_channel(body):
            tell_presser(respond, messages.stale_button())
            return
        picture = services.graph_pictures.picture(value.researcher_id)
        if picture is None:
            tell_presser(respond, messages.researcher_gone())
            return
        comment = graph_shared_comment(picture, shared_by=who.user_id)
        try:
            _upload(client, picture, channel_id=value.channel_id, comment=comment)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code not in CANNOT_POST:
                raise
            tell_presser(respond, graph_share_refused(code))
            return
        respond(replace_original=True, **graph_shared(picture).payload())
