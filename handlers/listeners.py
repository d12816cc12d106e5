"""Every listener of the app, registered in one place (bot/app.py calls register_all)."""

from __future__ import annotations

from slack_bolt import App

from handlers import buttons, commands, direct_messages, errors, events
from handlers.collaboration import claims, invitations
from handlers.digests import channel_lookups, channels, follows, schedule
from handlers.home import tab
from handlers.research import collaborators, expertise, papers, profiles, topics
from services.container import Services


def register_all(app: App, services: Services, *, command: str) -> None:
    """Attach every listener to the app."""
    commands.register(app, services, command=command)
    profiles.register(app, services)
    buttons.register(app)
    papers.register(app, services)
    expertise.register(app, services, command=command)
    collaborators.register(app, services)
    follows.register(app, services, command=command)
    topics.register(app, services, command=command)
    schedule.register(app, services, command=command)
    channels.register(app, services, command=command)
    channel_lookups.register(app, services, command=command)
    tab.register(app, services, command=command)
    claims.register(app, services, command=command)
    invitations.register(app, services, command=command)
    events.register(app, services)
    direct_messages.register(app, services, command=command)
    buttons.register_fallback(app)  # after every other action listener
    errors.register(app)
