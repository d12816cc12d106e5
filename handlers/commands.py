"""The slash command: ack → parse → one service call → render → reply (ephemeral)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from handlers.blocks import messages
from handlers.blocks.common import Reply
from handlers.blocks.profile import pick_list, profile_card
from handlers.parsing import ParsedCommand, parse_slash_text
from services.container import Services


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the slash command listener for `command` (BZPEER_COMMAND)."""

    @app.command(command)
    def handle_peer_command(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        parsed = parse_slash_text(body.get("text", ""))
        reply = answer(services, parsed, command)
        respond(response_type="ephemeral", **reply.payload())


def answer(services: Services, parsed: ParsedCommand, command: str) -> Reply:
    """The reply to one parsed command."""
    if parsed.kind == "help":
        return messages.help_message(command)
    if parsed.kind == "empty":
        return messages.empty_query(command)
    if parsed.kind == "too_long":
        return messages.too_long(command, parsed.length)
    if parsed.kind == "markup":
        return messages.markup_query(command)
    return handle_profile_command(services, parsed, command)


def handle_profile_command(services: Services, parsed: ParsedCommand, command: str) -> Reply:
    """`/peer QUERY`: a card, a pick list, an invalid-input hint, or an OpenAlex look-up offer."""
    lookup = services.profiles.lookup(parsed.query)
    if lookup.status == "found" and lookup.profile:
        return profile_card(lookup.profile)
    if lookup.status == "choices":
        return pick_list(lookup.query, lookup.candidates)
    if lookup.status == "invalid":
        return messages.invalid_query(command, lookup.message or "That query is not valid.")
    return messages.not_found(command, lookup.query, lookup.openalex_ref or lookup.query, parsed.suggestion)
