"""The composition root: settings → engine → OpenAlex client → services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.app import web_client
from bot.collaboration import SlackClaimNotifier, SlackInvitationSender, WorkspaceClients
from bot.installations import InstallationTokens
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from services.container import Services, build_services
from services.db import make_engine, upgrade
from services.openalex import OpenAlexClient

# The connections of the dedupe check, which every request makes before its ack: on
# PostgreSQL a pool of its own, so an ack never waits for a connection behind listener threads
# that hold the main pool for their work. One short INSERT per request; the 8 request threads
# of a gunicorn worker rarely need more than a few at once.
ACK_POOL_SIZE, ACK_MAX_OVERFLOW = 4, 4


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    openalex: OpenAlexClient
    ack_engine: Engine | None = None

    def close(self) -> None:
        """Release the OpenAlex connection pool and the database pools."""
        self.openalex.close()
        self.services.engine.dispose()
        if self.ack_engine is not None:
            self.ack_engine.dispose()


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
    ack_engine = (
        make_engine(settings.database_url, pool_size=ACK_POOL_SIZE, max_overflow=ACK_MAX_OVERFLOW)
        if engine.dialect.name == "postgresql"
        else None  # SQLite: one box, one file; a second pool would only add lock waits
    )
    services = build_services(
        engine,
        openalex,
        digest_sender=sender,
        claim_notifier=notifier,
        invitation_sender=invitations,
        dedupe_engine=ack_engine,
    )
    return Runtime(settings=settings, services=services, openalex=openalex, ack_engine=ack_engine)
