"""Workspaces coming and going: an uninstall parks a workspace's follows and pending digest
items instead of deleting them, and a reinstall picks up where it left off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlmodel import Session, col, select

from services.slack_requests.dedupe import mark_delivery_seen
from services.store.engine import session_scope
from services.store.models import Delivery, Follow, Member, TopicFollow, utcnow

# Ledger statuses (services/digests/ledger.py owns the life cycle; these two are the ones we move
# between).
PENDING = "pending"
PARKED = "parked"


@dataclass(frozen=True)
class ParkedCounts:
    """How many follows (of researchers and topics) and digest items a park or restore moved."""

    follows: int
    deliveries: int


def park_team(*, session: Session, team_id: str) -> ParkedCounts:
    """Park every follow and pending digest item of the team's members (no commit)."""
    return _set_parked(session=session, team_id=team_id, parked=True)


def restore_team(*, session: Session, team_id: str) -> ParkedCounts:
    """Undo `park_team` (no commit); a no-op unless the team has parked follows.

    Only an uninstall parks follows, so a workspace without any was never parked: its parked
    digest items were parked by the digest engine (recipient unreachable) and stay parked.
    """
    if not has_parked_follows(session=session, team_id=team_id):
        return ParkedCounts(follows=0, deliveries=0)
    return _set_parked(session=session, team_id=team_id, parked=False)


def has_parked_follows(*, session: Session, team_id: str) -> bool:
    """Whether any member of the team has a parked follow (the team was uninstalled)."""
    for follow in (Follow, TopicFollow):
        row = session.exec(
            select(follow.id)
            .join(Member, col(Member.id) == col(follow.member_id))
            .where(col(Member.team_id) == team_id, col(follow.parked).is_(True))
            .limit(1)
        ).first()
        if row is not None:
            return True
    return False


def _set_parked(*, session: Session, team_id: str, parked: bool) -> ParkedCounts:
    members = select(Member.id).where(col(Member.team_id) == team_id).scalar_subquery()
    follows = session.execute(
        update(Follow)
        .where(col(Follow.member_id).in_(members), col(Follow.parked).is_(not parked))
        .values(parked=parked)
        .execution_options(synchronize_session=False)
    )
    topic_follows = session.execute(
        update(TopicFollow)
        .where(col(TopicFollow.member_id).in_(members), col(TopicFollow.parked).is_(not parked))
        .values(parked=parked)
        .execution_options(synchronize_session=False)
    )
    old, new = (PENDING, PARKED) if parked else (PARKED, PENDING)
    deliveries = session.execute(
        update(Delivery)
        .where(col(Delivery.member_id).in_(members), col(Delivery.status) == old)
        .values(status=new)
        .execution_options(synchronize_session=False)
    )
    return ParkedCounts(
        follows=_rowcount(follows) + _rowcount(topic_follows), deliveries=_rowcount(deliveries)
    )


def _rowcount(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


class WorkspaceService:
    """Parks and restores a workspace's per-member state when the app is uninstalled or reinstalled."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def park(self, team_id: str, *, delivery_key: str | None = None) -> ParkedCounts | None:
        """The app left the workspace: stop following and delivering there, losing nothing.

        `delivery_key` names the Slack event that said so; it is recorded in the park's own
        transaction, so the event counts as done exactly when the park is committed. None when
        an earlier copy of that event parked already.
        """
        with session_scope(self._engine) as session:
            if delivery_key is not None and not mark_delivery_seen(
                session=session, key=delivery_key, now=utcnow()
            ):
                return None
            return park_team(session=session, team_id=team_id)

    def restore(self, team_id: str) -> ParkedCounts:
        """The app is back in the workspace: parked follows and undelivered items resume."""
        with session_scope(self._engine) as session:
            return restore_team(session=session, team_id=team_id)
