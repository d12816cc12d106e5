"""The slash command: parse → route to the subcommand's handler (one service call, one renderer)
→ reply, ephemeral. A subcommand that only reads the store answers inside the ack (Slack shows
an ack's message as it shows a response_url post); the others ack at once and answer from the
lazy half. Each domain's package holds its subcommands; text typed in the bot's DM
(handlers/direct_messages.py) takes the same route."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack, mark_answered
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

log = logging.getLogger("bzpeer.handlers")

# Answered inside the ack: one read of the store (p99 ≤ 30 ms on the 200k-researcher stores,
# benchmarks/RESULTS.md) and a renderer, no Web API call. The rest (OpenAlex, uploads, modals,
# writes) ack at once and answer from the lazy half.
ANSWERED_IN_ACK = frozenset(
    {"help", "empty", "too_long", "markup", "profile", "papers", "collaborators", "who"}
)


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the slash command listener for `command` (BZPEER_COMMAND)."""
    routes = command_routes()
    # Reads before the ack go through the ack engine's pool and its bounded waits.
    reading = services.reading_on_ack_engine()

    def ack_or_answer(body: dict[str, Any], ack: Ack, context: BoltContext, client: WebClient) -> None:
        parsed = parse_slash_text(body.get("text", ""))
        answer = _answer_in_ack(reading, parsed, body, command, client, routes)
        if answer is None:
            ack()
            return
        mark_answered(context)
        ack(response_type="ephemeral", **answer)

    @after_ack(app.command(command), ack=ack_or_answer)
    def handle_peer_command(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        def reply_ephemeral(reply: Reply) -> None:
            respond(response_type="ephemeral", **reply.payload())

        ctx = _command_context(body, command, client, reply_ephemeral)
        answer_command(services, parse_slash_text(body.get("text", "")), ctx, routes)


def _command_context(
    body: dict[str, Any], command: str, client: WebClient, reply: Callable[[Reply], None]
) -> CommandContext:
    return CommandContext(
        command=command,
        team_id=str(body.get("team_id", "")),
        user_id=str(body.get("user_id", "")),
        channel_id=str(body.get("channel_id", "")),
        client=client,
        reply=reply,
        trigger_id=str(body.get("trigger_id", "")),
    )


def _answer_in_ack(
    services: Services,
    parsed: ParsedCommand,
    body: dict[str, Any],
    command: str,
    client: WebClient,
    routes: Mapping[str, Answer],
) -> dict[str, Any] | None:
    """The reply's payload when `parsed` is answered inside the ack, else None (the lazy half
    answers). A failure here is left to the lazy half too, which reports it to the person."""
    if parsed.kind not in ANSWERED_IN_ACK:
        return None
    replies: list[Reply] = []
    try:
        answer_command(services, parsed, _command_context(body, command, client, replies.append), routes)
        return replies[0].payload() if replies else None
    except Exception:  # the lazy half runs the command again and reports what fails there
        log.warning("answering %s inside the ack failed; answering after it", parsed.kind, exc_info=True)
        return None


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
