"""The slash command: ack at once, then parse → route to the subcommand's handler (one service
call, one renderer) → reply, ephemeral. Each domain's package holds its subcommands; text typed
in the bot's DM (handlers/direct_messages.py) takes the same route."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.collaboration.claims import handle_claim_command, handle_unclaim_command
from handlers.collaboration.invitations import handle_invite_command
from handlers.context import Answer, CommandContext
from handlers.digests.channels import handle_channel_command
from handlers.digests.follows import handle_follow_command, handle_following_command, handle_unfollow_command
from handlers.digests.schedule import handle_digest_command
from handlers.parsing import ParsedCommand, parse_slash_text
from handlers.research.collaborators import handle_collaborators_command, handle_graph_command
from handlers.research.expertise import handle_who_command
from handlers.research.papers import handle_papers_command
from handlers.research.profiles import handle_profile_command
from handlers.research.topics import (
    handle_follow_topic_command,
    handle_topic_command,
    handle_unfollow_topic_command,
)
from services.container import Services


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the slash command listener for `command` (BZPEER_COMMAND)."""
    routes = command_routes()

    # Every subcommand acks at once: a search, an upload or an OpenAlex look-up comes after.
    @after_ack(app.command(command))
    def handle_peer_command(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        def reply_ephemeral(reply: Reply) -> None:
            respond(response_type="ephemeral", **reply.payload())

        ctx = CommandContext(
            command=command,
            team_id=str(body.get("team_id", "")),
            user_id=str(body.get("user_id", "")),
            channel_id=str(body.get("channel_id", "")),
            client=client,
            reply=reply_ephemeral,
            trigger_id=str(body.get("trigger_id", "")),
        )
        answer_command(services, parse_slash_text(body.get("text", "")), ctx, routes)


def answer_command(
    services: Services, parsed: ParsedCommand, ctx: CommandContext, routes: Mapping[str, Answer]
) -> None:
    """Route what was asked to its subcommand's handler and send the answer (if it has one)."""
    reply = routes[parsed.kind](services, parsed, ctx) if parsed.kind in routes else None
    if reply is not None:
        ctx.reply(reply)


def command_routes() -> dict[str, Answer]:
    """Every subcommand kind and the function that answers it."""
    return {
        "help": lambda _s, _p, ctx: messages.help_message(ctx.command),
        "empty": lambda _s, parsed, ctx: messages.empty_query(ctx.command, parsed.subcommand),
        "too_long": lambda _s, parsed, ctx: messages.too_long(ctx.command, parsed.length),
        "markup": lambda _s, _p, ctx: messages.markup_query(ctx.command),
        "profile": handle_profile_command,
        "papers": handle_papers_command,
        "collaborators": handle_collaborators_command,
        "graph": handle_graph_command,
        "follow": handle_follow_command,
        "unfollow": handle_unfollow_command,
        "following": handle_following_command,
        "digest": handle_digest_command,
        "claim": handle_claim_command,
        "unclaim": handle_unclaim_command,
        "invite": handle_invite_command,
        "who": handle_who_command,
        "topic": handle_topic_command,
        "follow_topic": handle_follow_topic_command,
        "unfollow_topic": handle_unfollow_topic_command,
        "channel": handle_channel_command,
    }
