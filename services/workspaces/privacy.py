"""Forgetting a member on request: every row that belongs to one Slack user in one workspace.

Researcher and work records stay: they are public scholarly records, shared by every
workspace. What goes is the member's own data: their follows, their digest ledger, the
invitations they sent or received, their invitation mutes (and others' mutes of them), their
claims, their name on claim decisions, and the member row itself.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import col, select

from services.store.engine import session_scope
from services.store.models import (
    Claim,
    Delivery,
    Follow,
    Invitation,
    InvitationMute,
    LookupSlot,
    Member,
    TopicFollow,
)
from services.workspaces.members import Viewer, find_member


@dataclass(frozen=True)
class ForgetReport:
    """How many rows of each kind were deleted (all zero when there was nothing to forget)."""

    team_id: str
    user_id: str
    follows: int = 0
    digest_items: int = 0
    invitations_sent: int = 0
    invitations_received: int = 0
    invitation_mutes: int = 0
    claims: int = 0
    claim_decisions_anonymised: int = 0
    member: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), int))

    def lines(self) -> list[str]:
        """What was deleted, one line per kind, for the command line."""
        who = f"{self.team_id}/{self.user_id}"
        if not self.total:
            return [f"Nothing stored for {who}: nothing to delete."]
        rows = [
            ("follows", self.follows),
            ("digest items (sent and pending)", self.digest_items),
            ("invitations sent", self.invitations_sent),
            ("invitations received", self.invitations_received),
            ("invitation mutes", self.invitation_mutes),
            ("claims", self.claims),
            ("claim decisions anonymised", self.claim_decisions_anonymised),
            ("member record", self.member),
        ]
        return [f"Forgot {who}:", *(f"  {label}: {count}" for label, count in rows)]


def _count(result: Any) -> int:
    return max(int(cast(CursorResult[Any], result).rowcount or 0), 0)


class PrivacyService:
    """Deletes a member's data on request; idempotent."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def forget_member(self, team_id: str, user_id: str) -> ForgetReport:
        """Delete everything stored about one Slack user of one workspace, in one transaction."""
        viewer = Viewer(team_id=team_id, user_id=user_id)
        with session_scope(self._engine) as session:
            # As an admin they may have decided others' claims: the decisions stay, their id goes.
            anonymised = _count(
                session.execute(
                    update(Claim)
                    .where(
                        col(Claim.decided_by) == user_id,
                        col(Claim.member_id).in_(select(Member.id).where(col(Member.team_id) == team_id)),
                    )
                    .values(decided_by=None)
                )
            )
            # A look-up in flight holds a slot under the Slack ids alone (for minutes at most).
            slots = delete(LookupSlot).where(col(LookupSlot.team_id) == team_id)
            session.execute(slots.where(col(LookupSlot.user_id) == user_id))
            member = find_member(session=session, viewer=viewer)
            if member is None:
                return ForgetReport(team_id, user_id, claim_decisions_anonymised=anonymised)
            member_id = member.id
            # Explicit deletes rather than ON DELETE CASCADE alone: the report counts each kind,
            # and nothing depends on the foreign-key pragma being on.
            report = ForgetReport(
                team_id,
                user_id,
                follows=_count(session.execute(delete(Follow).where(col(Follow.member_id) == member_id)))
                + _count(session.execute(delete(TopicFollow).where(col(TopicFollow.member_id) == member_id))),
                digest_items=_count(
                    session.execute(delete(Delivery).where(col(Delivery.member_id) == member_id))
                ),
                invitations_sent=_count(
                    session.execute(delete(Invitation).where(col(Invitation.inviter_member_id) == member_id))
                ),
                invitations_received=_count(
                    session.execute(delete(Invitation).where(col(Invitation.invitee_member_id) == member_id))
                ),
                invitation_mutes=_count(
                    session.execute(
                        delete(InvitationMute).where(
                            or_(
                                col(InvitationMute.member_id) == member_id,
                                col(InvitationMute.muted_member_id) == member_id,
                            )
                        )
                    )
                ),
                claims=_count(session.execute(delete(Claim).where(col(Claim.member_id) == member_id))),
                claim_decisions_anonymised=anonymised,
                member=_count(session.execute(delete(Member).where(col(Member.id) == member_id))),
            )
        return report
