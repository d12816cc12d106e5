"""Workspace lifecycle events: the app was uninstalled or its tokens were revoked.

Tokens are deleted from the installation store (OAuth mode); the workspace's follows and
undelivered digest items are parked, not deleted, so a reinstall picks up where it left off.

Slack stops retrying an event at the first 200, so the event's delivery key is recorded last,
in the transaction of its final effect (bot/middleware.py passes it in the context). If any
step fails for want of the store, the app answers 503 and Slack's retry runs every step again:
the installation store deletes come first because deleting twice deletes nothing more.
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
        store = app.installation_store
        if store is not None:
            store.delete_all(enterprise_id=context.enterprise_id, team_id=team_id)
        parked = services.workspaces.park(team_id, delivery_key=context.get("delivery_key"))
        if parked is None:
            log.info(
                "workspace already parked by an earlier copy of this event",
                extra={"bzpeer": {"team_id": team_id}},
            )
            return
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
        elif context.get("delivery_key"):
            # Only user tokens: their deletion was the whole effect, so the event is done now.
            services.dedupe.first_sighting(context["delivery_key"])
