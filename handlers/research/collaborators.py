"""`/peer collaborators QUERY`, `/peer graph QUERY` and their buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import CommandContext, pressed_value, tell_presser, unresolved
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.collaborator_blocks import collaborators_message, graph_comment, graph_posted
from handlers.values import ResearcherValue
from services.container import Services
from services.research.graph_picture import GraphPicture

# What files.completeUploadExternal answers when the bot cannot post in the channel (not a
# member, or a DM/private channel it cannot see): the picture goes to the user's DM instead.
UPLOAD_ELSEWHERE = frozenset({"not_in_channel", "channel_not_found"})


def upload_graph(client: WebClient, picture: GraphPicture, *, channel_id: str, user_id: str) -> bool:
    """Upload the picture to the channel, or to a DM with the user; True when it went to the DM."""
    upload: dict[str, Any] = {
        "file": picture.png,
        "filename": picture.filename,
        "title": picture.title,
        "alt_txt": picture.alt_text,
        "initial_comment": graph_comment(picture),
    }
    if channel_id:
        try:
            client.files_upload_v2(channel=channel_id, **upload)
            return False
        except SlackApiError as error:
            if error.response.get("error") not in UPLOAD_ELSEWHERE:
                raise
    opened = client.conversations_open(users=user_id)
    client.files_upload_v2(channel=opened["channel"]["id"], **upload)
    return True


def handle_collaborators_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer collaborators QUERY`: close collaborators and suggestions with their reasons."""
    found = services.collaborators.find(parsed.query)
    if found.result is None:
        return unresolved(ctx.command, found.lookup, action=Action.COLLABORATORS)
    return collaborators_message(found.result)


def handle_graph_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer graph QUERY`: upload the neighbourhood picture and say where it went."""
    found = services.graph_pictures.find(parsed.query)
    if found.result is None:
        return unresolved(ctx.command, found.lookup, action=Action.GRAPH)
    in_dm = upload_graph(ctx.client, found.result, channel_id=ctx.channel_id, user_id=ctx.user_id)
    return graph_posted(found.result, in_dm=in_dm)


def _ids(body: dict[str, Any]) -> tuple[str, str]:
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    channel_id = channel.get("id") or container.get("channel_id") or ""
    return str(channel_id), str((body.get("user") or {}).get("id", ""))


def register(app: App, services: Services) -> None:
    """Attach the Collaborators and Research graph buttons."""

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
        value = ResearcherValue.load(pressed_value(body))
        picture = services.graph_pictures.picture(value.researcher_id) if value else None
        if picture is None:
            reply = messages.researcher_gone() if value else messages.stale_button()
        else:
            channel_id, user_id = _ids(body)
            in_dm = upload_graph(client, picture, channel_id=channel_id, user_id=user_id)
            reply = graph_posted(picture, in_dm=in_dm)
        tell_presser(respond, reply)
