"""Multi-workspace install (OAuth): the Bolt wiring for /slack/install and /slack/oauth_redirect,
token rotation and per-workspace authorization, all against our own database and SLACK_API_URL."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.installations import ROTATE_BEFORE_MINUTES, PurgingOAuthStateStore, build_installation_store
from bot.manifest import BOT_SCOPES
from bot.settings import Settings
from services.container import Services

log = logging.getLogger("bzpeer.oauth")

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600


def oauth_app_options(settings: Settings, services: Services, client: WebClient) -> dict[str, Any]:
    """Keyword arguments for `App(...)` that turn on the OAuth flow.

    `client` is the app's Web API client (on SLACK_API_URL): the code exchange uses it through
    the app, and the authorizer's TokenRotator is given it explicitly, because the authorizer
    OAuthSettings builds for itself talks to slack.com whatever the app's base URL is.
    """
    # Authorization, the install callback and uninstall events use the installation store
    # before their ack: the request path's engine, whose waits end within Slack's 3 s.
    engine = services.ack_engine
    store = build_installation_store(settings, engine)
    assert settings.slack_client_id and settings.slack_client_secret  # checked by the caller
    authorize = InstallationStoreAuthorize(
        logger=log,
        installation_store=store,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MINUTES,
        # Caches auth.test answers per token (a rotated token is a new key); the store itself
        # is read on every request, so an uninstall seen by another process applies at once.
        cache_enabled=True,
        client=client,
    )
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        state_store=PurgingOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=ROTATE_BEFORE_MINUTES,
        callback_options=CallbackOptions(success=_on_installed(services), failure=_on_failure),
        logger=log,
    )
    return {"installation_store": store, "oauth_settings": oauth_settings, "authorize": authorize}


def _on_installed(services: Services) -> Any:
    def success(args: SuccessArgs) -> BoltResponse:
        team_id = args.installation.team_id
        if team_id:
            # A reinstall after an uninstall: the workspace's follows and digests resume.
            restored = services.workspaces.restore(team_id)
            log.info(
                "workspace installed",
                extra={"bzpeer": {"team_id": team_id, "restored_follows": restored.follows}},
            )
        return args.default.success(args)

    return success


def _on_failure(args: FailureArgs) -> BoltResponse:
    log.warning("install failed", extra={"bzpeer": {"reason": args.reason}})
    return args.default.failure(args)
