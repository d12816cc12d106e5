"""Who may decide claims, as Slack says: `users.info` for the person acting (name, e-mail, admin
or owner), and the one workspace an admin button acts in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from handlers.context import presser
from services.collaboration.claim_types import Reviewer, SlackIdentity
from services.workspaces.members import Viewer

log = logging.getLogger("bzpeer.claims")


def _user_info(client: WebClient, user_id: str) -> dict[str, Any] | None:
    """`users.info`'s user object; None when Slack cannot say (a claim then waits for an admin,
    and an admin action is refused)."""
    try:
        response = client.users_info(user=user_id)
    except (SlackClientError, OSError) as error:
        log.warning("users.info for %s failed (%s)", user_id, error)
        return None
    user = response.get("user")
    return user if isinstance(user, dict) else None


def _active(user: dict[str, Any]) -> bool:
    return not user.get("deleted") and not user.get("is_bot")


def slack_identity(client: WebClient, user_id: str) -> SlackIdentity | None:
    """What `users.info` says about a user: name, e-mail (when visible), workspace admin or owner."""
    user = _user_info(client, user_id)
    if user is None:
        return None
    profile = user.get("profile") or {}
    return SlackIdentity(
        real_name=profile.get("real_name") or user.get("real_name"),
        email=profile.get("email"),
        is_admin=bool(_active(user) and (user.get("is_admin") or user.get("is_owner"))),
    )


@dataclass(frozen=True)
class AdminActor:
    """Who takes an admin action, and where their rights are checked: their workspace, or (an
    org-wide install) their Enterprise Grid org."""

    viewer: Viewer
    enterprise_id: str | None = None


def admin_actor(body: dict[str, Any]) -> AdminActor | None:
    """The one workspace an admin button acts in; None when the press crossed workspaces.

    A payload names two teams: `user.team_id`, the presser's own workspace, and `team.id`, the
    workspace it came from, whose token Bolt's authorize picked and so answers users.info. They
    differ for a member of another organisation in a Slack Connect channel and for a member of
    another workspace of an Enterprise Grid org; users.info would then answer about rights
    elsewhere, so the press is refused. Except with an org-wide install (`is_enterprise_install`,
    one token for the whole org): there the presser must be an admin or owner of the org
    (users.info's `enterprise_user`), and acts for their own workspace.
    """
    viewer = presser(body)
    if viewer is None:
        return None
    here = str((body.get("team") or {}).get("id") or viewer.team_id)
    if here == viewer.team_id:
        return AdminActor(viewer)
    enterprise_id = str((body.get("enterprise") or {}).get("id") or "")
    org_install = body.get("is_enterprise_install") in (True, "true")
    return AdminActor(viewer, enterprise_id=enterprise_id) if org_install and enterprise_id else None


def reviewer_of(client: WebClient, actor: AdminActor) -> Reviewer:
    """The actor as a reviewer: admin (or org admin) by users.info, active, in scope."""
    user = _user_info(client, actor.viewer.user_id) or {}
    # A workspace's admins and owners are flagged on the user; an org's on its enterprise_user.
    rights = user if actor.enterprise_id is None else user.get("enterprise_user") or {}
    in_scope = actor.enterprise_id is None or rights.get("enterprise_id") == actor.enterprise_id
    admin = bool(rights.get("is_admin") or rights.get("is_owner"))
    return Reviewer(viewer=actor.viewer, is_admin=bool(user) and _active(user) and in_scope and admin)


def is_workspace_admin(client: WebClient, viewer: Viewer) -> bool:
    """Whether users.info says the viewer administers (or owns) their workspace right now."""
    return reviewer_of(client, AdminActor(viewer)).is_admin
