"""The Slack surface: listeners, parsing and Block Kit renderers. Never touches SQL or httpx."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    actions,
    claims,
    collaborators,
    commands,
    errors,
    events,
    follows,
    home,
    invitations,
    papers,
)
from services.container import Services


def register_all(app: App, services: Services, *, command: str) -> None:
    """Attach every listener to the app."""
    commands.register(app, services, command=command)
    actions.register(app, services)
    papers.register(app, services)
    collaborators.register(app, services)
    follows.register(app, services, command=command)
    home.register(app, services, command=command)
    claims.register(app, services, command=command)
    invitations.register(app, services, command=command)
    events.register(app, services)
    actions.register_fallback(app)  # after every other action listener
    errors.register(app)
