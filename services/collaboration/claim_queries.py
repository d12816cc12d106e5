"""Query helpers on claims (take a session, never commit): the live claim of a researcher or a
member, the claim as messages show it, and the compare-and-set that moves a claim's status."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from services.collaboration.claim_types import ClaimView
from services.store.models import Claim, Member, Researcher
from services.workspaces.members import Viewer, find_member

LIVE = ("pending", "approved")


def find_live_claim(*, session: Session, researcher_id: int) -> Claim | None:
    """The pending or approved claim on a researcher, if any."""
    return session.exec(
        select(Claim).where(col(Claim.researcher_id) == researcher_id, col(Claim.status).in_(LIVE))
    ).first()


def find_member_claim(*, session: Session, member_id: int) -> Claim | None:
    """The member's pending or approved claim, if any."""
    return session.exec(
        select(Claim).where(col(Claim.member_id) == member_id, col(Claim.status).in_(LIVE))
    ).first()


def approved_claim_of(*, session: Session, viewer: Viewer) -> Claim | None:
    """The viewer's approved claim, if any."""
    member = find_member(session=session, viewer=viewer)
    if member is None or member.id is None:
        return None
    claim = find_member_claim(session=session, member_id=member.id)
    return claim if claim is not None and claim.status == "approved" else None


def claim_view(*, session: Session, claim: Claim) -> ClaimView:
    """A claim with its researcher's name and its claimant's Slack ids."""
    researcher = session.get(Researcher, claim.researcher_id)
    member = session.get(Member, claim.member_id)
    assert claim.id is not None and member is not None
    return ClaimView(
        id=claim.id,
        status=claim.status,
        method=claim.method,
        researcher_id=claim.researcher_id,
        researcher_name=researcher.name if researcher else "a researcher no longer in the store",
        claimant=Viewer(team_id=member.team_id, user_id=member.user_id),
        decided_by=claim.decided_by,
        created_at=claim.created_at,
        decided_at=claim.decided_at,
    )


def list_pending_claims(
    *, session: Session, team_id: str | None = None, excluding_user: str | None = None, limit: int = 100
) -> list[ClaimView]:
    """Pending claims, oldest first: all of them, or one workspace's (without one member's own)."""
    query = select(Claim).join(Member, col(Member.id) == col(Claim.member_id))
    query = query.where(col(Claim.status) == "pending")
    if team_id is not None:
        query = query.where(col(Member.team_id) == team_id)
    if excluding_user is not None:
        query = query.where(col(Member.user_id) != excluding_user)
    claims = session.exec(query.order_by(col(Claim.created_at), col(Claim.id)).limit(limit)).all()
    return [claim_view(session=session, claim=claim) for claim in claims]


def set_claim_status(session: Session, claim_id: int, expected: str, **values: Any) -> bool:
    """Compare-and-set: change the claim only if it is still `expected` (two admins, one wins)."""
    result = session.execute(
        update(Claim)
        .where(col(Claim.id) == claim_id, col(Claim.status) == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0) == 1
