"""`/peer who WORDS`: who in the store works on something, and its Previous / Next buttons."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Respond

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import CommandContext, pressed_value, presser, tell_presser
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.expertise_blocks import experts_message, no_match, too_short
from handlers.values import ExpertsValue
from services.container import Services


def _answer(services: Services, command: str, query: str, team_id: str, page: int = 1) -> Reply:
    found = services.expertise.search(query, team_id=team_id, page=page)
    if found.page is not None:
        return experts_message(found.page)
    if found.problem == "too_short":
        return too_short(command)
    return no_match(command, query)


def handle_who_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer who WORDS`: the first page, or what to type instead."""
    return _answer(services, ctx.command, parsed.args, ctx.team_id)


def register(app: App, services: Services, *, command: str) -> None:
    """Attach Previous / Next of the `/peer who` list."""

    @after_ack(app.action(re.compile(f"^{Action.WHO_PAGE}(?::|$)")))
    def handle_who_page(body: dict[str, Any], respond: Respond) -> None:
        value = ExpertsValue.load(pressed_value(body))
        viewer = presser(body)
        if value is None or viewer is None:
            tell_presser(respond, messages.stale_button())
            return
        reply = _answer(services, command, value.query, viewer.team_id, value.page)
        respond(replace_original=True, **reply.payload())
