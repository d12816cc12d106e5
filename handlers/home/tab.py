"""The App Home tab: published when the member opens it, and again after anything it shows
changes (a follow, a schedule, a claim, an invitation, a profile edit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from handlers.background import after_ack
from handlers.collaboration.home_blocks import HOME_REVIEWS
from handlers.collaboration.reviewers import is_workspace_admin
from handlers.context import fresh_time_zone, now_utc, viewer_of
from handlers.home.tab_blocks import HOME_FOLLOWS, home_view
from services.container import Services
from services.workspaces.members import Viewer


def publish_home(
    services: Services,
    client: WebClient,
    viewer: Viewer,
    command: str,
    *,
    now: datetime,
    notice: str | None = None,
) -> None:
    """Publish (or refresh) the member's App Home tab."""
    data = services.follows.home(
        viewer, time_zone=fresh_time_zone(services, client, viewer, now), now=now, limit=HOME_FOLLOWS
    )
    collaboration = services.invitations.home(viewer, now=now)
    collaboration = replace(collaboration, profile=services.orcid.offer(collaboration.profile, viewer))
    # Admin rights are Slack's to say (users.info), asked only when some claim of the workspace
    # waits: a pending claim is rare and short-lived, so nearly every publish skips the call, and
    # an admin who lost the role stops seeing the claims at once (no stored flag to go stale).
    reviews = services.claims.pending_for_review(viewer, limit=HOME_REVIEWS + 1)
    if reviews and not is_workspace_admin(client, viewer):
        reviews = []
    view = home_view(data, command, notice=notice, collaboration=collaboration, reviews=reviews)
    client.views_publish(user_id=viewer.user_id, view=view)


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the app_home_opened event."""

    @after_ack(app.event("app_home_opened"))
    def handle_app_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        # The event also fires for the Messages tab; only the Home tab has a view to publish.
        viewer = viewer_of(event.get("user"), body.get("team_id") or (event.get("view") or {}).get("team_id"))
        if event.get("tab") != "home" or viewer is None:
            return
        publish_home(services, client, viewer, command, now=now_utc())
