"""The Slack surface: listeners, parsing and Block Kit renderers. Never touches SQL or httpx."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, errors
from services.container import Services


def register_all(app: App, services: Services, *, command: str) -> None:
    """Attach every listener to the app."""
    commands.register(app, services, command=command)
    actions.register(app, services)
    errors.register(app)
