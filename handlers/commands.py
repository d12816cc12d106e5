"""The slash command: ack at once, then parse → one service call → render → reply (ephemeral)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from handlers.background import after_ack
from handlers.blocks import messages
from handlers.blocks.common import Reply
from handlers.blocks.profile import pick_list, profile_card
from handlers.claims import handle_claim_command, handle_unclaim_command
from handlers.collaborators import handle_collaborators_command, handle_graph_command
from handlers.follows import (
    handle_digest_command,
    handle_follow_command,
    handle_following_command,
    handle_unfollow_command,
)
from handlers.invitations import handle_invite_command
from handlers.papers import handle_papers_command
from handlers.parsing import ParsedCommand, parse_slash_text
from services.container import Services
from services.workspaces.members import Viewer


@dataclass(frozen=True)
class CommandContext:
    """Who typed the command, where, and how to answer them."""

    command: str
    team_id: str
    user_id: str
    channel_id: str
    client: WebClient
    respond: Respond
    # Opens a modal (once, within 3 s): the invitation modal.
    trigger_id: str = ""


# A subcommand's answer; None when the handler already replied itself (e.g. after an upload).
Answer = Callable[[Services, ParsedCommand, CommandContext], Reply | None]


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the slash command listener for `command` (BZPEER_COMMAND)."""
    routes = command_routes()

    # Every subcommand acks at once: a search, an upload or an OpenAlex look-up comes after.
    @after_ack(app.command(command))
    def handle_peer_command(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        parsed = parse_slash_text(body.get("text", ""))
        ctx = CommandContext(
            command=command,
            team_id=str(body.get("team_id", "")),
            user_id=str(body.get("user_id", "")),
            channel_id=str(body.get("channel_id", "")),
            client=client,
            respond=respond,
            trigger_id=str(body.get("trigger_id", "")),
        )
        reply = routes[parsed.kind](services, parsed, ctx) if parsed.kind in routes else None
        if reply is not None:
            respond(response_type="ephemeral", **reply.payload())


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
    }


def handle_profile_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer QUERY`: a card, a pick list, an invalid-input hint, or an OpenAlex look-up offer."""
    lookup = services.profiles.lookup(parsed.query, viewer=Viewer(team_id=ctx.team_id, user_id=ctx.user_id))
    if lookup.status == "found" and lookup.profile:
        return profile_card(lookup.profile)
    if lookup.status == "choices":
        return pick_list(lookup.query, lookup.candidates)
    if lookup.status == "invalid":
        return messages.invalid_query(ctx.command, lookup.message or "That query is not valid.")
    return messages.not_found(
        ctx.command, lookup.query, lookup.openalex_ref or lookup.query, parsed.suggestion
    )
