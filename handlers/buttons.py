"""Buttons no domain owns: link buttons, and the fallback for a button nobody knows."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, Respond

from handlers import messages
from handlers.background import acknowledge, after_ack
from handlers.context import tell_presser
from handlers.ids import Action


def register(app: App) -> None:
    """A link button opens its URL in the browser; Slack still wants the ack, and nothing else."""
    app.action(re.compile(f"^{Action.OPEN_LINK}"))(acknowledge)


def register_fallback(app: App) -> None:
    """Last of all: a button no listener knows (from a message an older version posted, or an
    edited payload) gets "out of date" instead of Bolt's 404, which Slack shows as an error."""

    @after_ack(app.action(re.compile(".*")))
    def handle_unknown_action(body: dict[str, Any], respond: Respond) -> None:
        if body.get("response_url"):
            tell_presser(respond, messages.stale_button())
