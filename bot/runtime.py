"""The composition root: settings → engine → OpenAlex client → services."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.app import web_client
from bot.collaboration_sender import SlackClaimNotifier, SlackInvitationSender, WorkspaceClients
from bot.installations import InstallationTokens
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack_sender import SlackDigestSender
from services.collaboration.orcid_client import OrcidConfig
from services.collaboration.orcid_service import OrcidService
from services.container import Services, build_services
from services.openalex.client import OpenAlexClient
from services.store.engine import is_in_memory, make_engine, upgrade

# The connections of what a request does before its ack (the dedupe check, authorization,
# workspace events, /healthz): a pool of their own, so an ack never waits for a connection
# behind listener threads that hold the main pool for their work, and bounded waits (see
# make_engine), so a store that is down or locked is answered "unavailable" within Slack's 3 s
# while background work keeps the long waits it needs. A few short statements per request, but
# under load all 8 request threads of a gunicorn worker (serve's default) ack at once: a pool of
# 4 then opened and closed an overflow connection per request or two (~300 PostgreSQL backends
# started in a 30 s window at 115 commands/s, each a fork and a cold catalog cache), so the
# pool holds one per thread: the same 8 at most as 4 + 4 overflow did, kept open.
ACK_POOL_SIZE, ACK_MAX_OVERFLOW = 8, 0


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    openalex: OpenAlexClient
    # This process's counters and histograms (GET /metrics); the runtime's own OpenAlex client
    # reports to it.
    metrics: Metrics = field(default_factory=Metrics)

    def close(self) -> None:
        """Release the OpenAlex connection pool and the database pools."""
        self.openalex.close()
        self.services.orcid.close()
        self.services.engine.dispose()
        self.services.ack_engine.dispose()


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
    metrics = Metrics()
    openalex = openalex or OpenAlexClient(
        settings.openalex_url, settings.openalex_api_key, observe=metrics.observe_openalex
    )
    sender, notifier, invitations, orcid = _slack_ports(settings, engine)
    ack_engine = (
        engine  # nothing else can reach, let alone lock, a store that lives in this engine alone
        if is_in_memory(settings.database_url)
        else make_engine(
            settings.database_url, pool_size=ACK_POOL_SIZE, max_overflow=ACK_MAX_OVERFLOW, bounded=True
        )
    )
    services = build_services(
        engine,
        openalex,
        digest_sender=sender,
        digest_claim_floor=settings.bzpeer_digest_claim_floor,
        claim_notifier=notifier,
        invitation_sender=invitations,
        ack_engine=ack_engine,
        orcid=orcid,
    )
    return Runtime(settings=settings, services=services, openalex=openalex, metrics=metrics)


def with_slack(runtime: Runtime, settings: Settings) -> Runtime:
    """The same store and OpenAlex client, sending through the Slack that `settings` name (the
    local shell's stand-in: its bot token and API URL), so claims, invitations and digests reach it."""
    engine = runtime.services.engine
    runtime.services.orcid.close()  # replaced: its approval DMs go through the new notifier
    sender, notifier, invitations, orcid = _slack_ports(settings, engine)
    services = build_services(
        engine,
        runtime.openalex,
        digest_sender=sender,
        digest_claim_floor=settings.bzpeer_digest_claim_floor,
        claim_notifier=notifier,
        invitation_sender=invitations,
        ack_engine=runtime.services.ack_engine,
        orcid=orcid,
    )
    return Runtime(settings=settings, services=services, openalex=runtime.openalex, metrics=runtime.metrics)


def _slack_ports(
    settings: Settings, engine: Engine
) -> tuple[SlackDigestSender | None, SlackClaimNotifier | None, SlackInvitationSender | None, OrcidService]:
    """What services send through: digest DMs, claim reviews, invitations (None: cannot send),
    and ORCID sign-in, whose approval-DM link the claim notifier asks it for."""
    # Digest DMs need a bot token; without one, previews still work and `bzpeer digest` says so.
    sender = SlackDigestSender(settings) if settings.slack_bot_token else None
    # Claims and invitations send through one "which client for workspace X" look-up.
    clients = WorkspaceClients(settings) if settings.slack_bot_token else None
    if settings.oauth_enabled:
        # Multi-workspace: each workspace's own (encrypted, rotated) bot token.
        tokens = InstallationTokens(settings, engine, web_client(settings))
        sender = SlackDigestSender(settings, token_for=tokens.bot_token)
        clients = WorkspaceClients(settings, token_for=tokens.bot_token)
    notifier = (
        SlackClaimNotifier(
            clients,
            command=settings.bzpeer_command,
            review_channel=settings.bzpeer_review_channel,
            # The approval DM's "Verify with ORCID" link (the service is built just below).
            orcid_link=lambda claim_id, viewer: orcid.link(claim_id, viewer),
        )
        if clients
        else None
    )
    orcid = OrcidService(engine, orcid_config(settings), notifier=notifier)
    invitations = SlackInvitationSender(clients) if clients else None
    return sender, notifier, invitations, orcid


def orcid_config(settings: Settings) -> OrcidConfig | None:
    """ORCID sign-in settings, or None when the installation has not enabled it."""
    if not settings.orcid_enabled:
        return None
    assert settings.orcid_client_id and settings.orcid_client_secret and settings.bzpeer_public_url
    assert settings.orcid_state_secret
    return OrcidConfig(
        orcid_url=settings.orcid_url,
        client_id=settings.orcid_client_id,
        client_secret=settings.orcid_client_secret,
        public_url=settings.bzpeer_public_url,
        secret=settings.orcid_state_secret,
    )
