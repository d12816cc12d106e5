"""The composition root: settings → engine → OpenAlex client → services."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import web_client
from bot.collaboration import SlackClaimNotifier, SlackInvitationSender, WorkspaceClients
from bot.installations import InstallationTokens
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from services.container import Services, build_services
from services.db import make_engine, upgrade
from services.openalex import OpenAlexClient


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    openalex: OpenAlexClient

    def close(self) -> None:
        """Release the OpenAlex connection pool and the database pool."""
        self.openalex.close()
        self.services.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    migrate: bool = True,
    openalex: OpenAlexClient | None = None,
) -> Runtime:
    """Everything the processes need, migrated to the latest schema unless told otherwise."""
    engine = make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    if migrate:
        upgrade(engine)
    openalex = openalex or OpenAlexClient(settings.openalex_url, settings.openalex_api_key)
    # Digest DMs need a bot token; without one, previews still work and `bzpeer digest` says so.
    sender = SlackDigestSender(settings) if settings.slack_bot_token else None
    # Claims and invitations send through one "which client for workspace X" look-up.
    clients = WorkspaceClients(settings) if settings.slack_bot_token else None
    if settings.oauth_enabled:
        # Multi-workspace: each workspace's own (encrypted, rotated) bot token.
        tokens = InstallationTokens(settings, engine, web_client(settings))
        sender = SlackDigestSender(settings, token_for=tokens.bot_token)
        clients = WorkspaceClients(settings, token_for=tokens.bot_token)
    review_channel = settings.bzpeer_review_channel
    notifier = (
        SlackClaimNotifier(clients, command=settings.bzpeer_command, review_channel=review_channel)
        if clients
        else None
    )
    invitations = SlackInvitationSender(clients) if clients else None
    services = build_services(
        engine, openalex, digest_sender=sender, claim_notifier=notifier, invitation_sender=invitations
    )
    return Runtime(settings=settings, services=services, openalex=openalex)
