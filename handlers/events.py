"""Workspace lifecycle events: the app was uninstalled or its tokens were revoked.

Tokens are deleted from the installation store (OAuth mode); the workspace's follows and
undelivered digest items are parked, not deleted, so a reinstall picks up where it left off.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from services.container import Services

log = logging.getLogger("bzpeer.events")


def register(app: App, services: Services) -> None:
    """Attach the app_uninstalled and tokens_revoked listeners."""

    def forget_workspace(context: BoltContext) -> None:
        team_id = context.team_id
        if not team_id:
            return
        parked = services.workspaces.park(team_id)
        store = app.installation_store
        if store is not None:
            store.delete_all(enterprise_id=context.enterprise_id, team_id=team_id)
        log.info(
            "workspace parked",
            extra={
                "bzpeer": {"team_id": team_id, "follows": parked.follows, "deliveries": parked.deliveries}
            },
        )

    @app.event("app_uninstalled")
    def handle_app_uninstalled(context: BoltContext) -> None:
        forget_workspace(context)

    @app.event("tokens_revoked")
    def handle_tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
        tokens = event.get("tokens") or {}
        store = app.installation_store
        if store is not None:
            for user_id in tokens.get("oauth") or []:
                store.delete_installation(
                    enterprise_id=context.enterprise_id, team_id=context.team_id, user_id=user_id
                )
        if tokens.get("bot"):
            # Without its bot token the app cannot reach the workspace: same as an uninstall.
            forget_workspace(context)
