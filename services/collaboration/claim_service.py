"""Claims: a member says "this public author record is me"; once approved the profile is
Verification L2 (+30 trust, research/trust.py) and open to direct invitations. ClaimService is
what the handlers call (one transaction per method) and tells the claimant and the workspace's
admins through the ClaimNotifier port; the rules and a claim's life are in claim_policy.py."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.collaboration.claim_policy import claim_researcher, decide_claim
from services.collaboration.claim_queries import (
    approved_claim_of,
    claim_view,
    find_live_claim,
    find_member_claim,
    list_pending_claims,
    set_claim_status,
)
from services.collaboration.claim_types import (
    OPERATOR_REVIEWER,
    ClaimNotifier,
    ClaimOutcome,
    ClaimQueryOutcome,
    ClaimReview,
    ClaimView,
    DecisionOutcome,
    DecisionStatus,
    EditOutcome,
    Reviewer,
    RevokeQueryOutcome,
    SlackIdentity,
    UnclaimOutcome,
)
from services.research.profiles import Profile, find_researcher, profile_card_data
from services.slack_requests.sending import MessageNotDelivered
from services.store.engine import write_retrying_once
from services.store.models import Claim, Researcher, utcnow
from services.workspaces.members import Viewer, find_member

log = logging.getLogger(__name__)

HEADLINE_MAX = 300


class ClaimService:
    """Claims, their review by workspace admins, and the claimant's edits to their profile."""

    def __init__(self, engine: Engine, notifier: ClaimNotifier | None = None) -> None:
        self._engine = engine
        self._notifier = notifier

    def claim(
        self,
        viewer: Viewer,
        researcher_id: int,
        *,
        identity: SlackIdentity | None,
        now: datetime | None = None,
    ) -> ClaimOutcome:
        """Claim a profile: approved at once on an institutional e-mail and name match, else
        pending and the workspace's admins are asked."""
        at = now or utcnow()
        outcome, review = write_retrying_once(
            self._engine, lambda s: claim_researcher(s, viewer, researcher_id, identity, at)
        )
        return self._after_claim(outcome, review)

    def claim_query(
        self, viewer: Viewer, query: str, *, identity: SlackIdentity | None, now: datetime | None = None
    ) -> ClaimQueryOutcome:
        """`/peer claim QUERY`: claim whom QUERY names, or say why not (pick list, nobody…)."""
        at = now or utcnow()

        def work(session: Session) -> tuple[ClaimQueryOutcome, ClaimReview | None]:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return ClaimQueryOutcome(found), None
            outcome, review = claim_researcher(session, viewer, researcher.id, identity, at)
            return ClaimQueryOutcome(found, outcome), review

        result, review = write_retrying_once(self._engine, work)
        if result.outcome is None:
            return result
        return ClaimQueryOutcome(result.lookup, self._after_claim(result.outcome, review))

    def decide(
        self, claim_id: int, *, approve: bool, reviewer: Reviewer, now: datetime | None = None
    ) -> DecisionOutcome:
        """Approve or reject a pending claim, as an admin of the claimant's workspace."""
        at = now or utcnow()
        status: DecisionStatus = "approved" if approve else "rejected"
        outcome = write_retrying_once(
            self._engine, lambda s: decide_claim(s, claim_id, reviewer, "pending", status, at)
        )
        return self._tell(outcome)

    def decide_as_operator(
        self, claim_id: int, *, approve: bool, now: datetime | None = None
    ) -> DecisionOutcome:
        """`bzpeer claims approve|reject ID`: decide any pending claim, recorded like an admin's."""
        return self.decide(claim_id, approve=approve, reviewer=OPERATOR_REVIEWER, now=now)

    def pending(self, *, limit: int = 100) -> list[ClaimView]:
        """Every workspace's pending claims, oldest first (`bzpeer claims list`)."""
        with Session(self._engine) as session:
            return list_pending_claims(session=session, limit=limit)

    def pending_for_review(self, viewer: Viewer, *, limit: int = 10) -> list[ClaimView]:
        """The pending claims an admin of the viewer's workspace may decide (not the viewer's own)."""
        with Session(self._engine) as session:
            return list_pending_claims(
                session=session, team_id=viewer.team_id, excluding_user=viewer.user_id, limit=limit
            )

    def revoke(self, claim_id: int, *, reviewer: Reviewer, now: datetime | None = None) -> DecisionOutcome:
        """Revoke an approved claim, as an admin of the claimant's workspace."""
        at = now or utcnow()
        return self._tell(
            write_retrying_once(
                self._engine, lambda s: decide_claim(s, claim_id, reviewer, "approved", "revoked", at)
            )
        )

    def revoke_query(
        self, query: str, *, reviewer: Reviewer, now: datetime | None = None
    ) -> RevokeQueryOutcome:
        """`/peer claim revoke QUERY`: revoke the approved claim on whom QUERY names."""
        at = now or utcnow()

        def work(session: Session) -> RevokeQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return RevokeQueryOutcome(found)
            claim = find_live_claim(session=session, researcher_id=researcher.id)
            if claim is None or claim.id is None or claim.status != "approved":
                return RevokeQueryOutcome(found, DecisionOutcome("not_approved"))
            return RevokeQueryOutcome(
                found, decide_claim(session, claim.id, reviewer, "approved", "revoked", at)
            )

        result = write_retrying_once(self._engine, work)
        if result.outcome is None:
            return result
        return RevokeQueryOutcome(result.lookup, self._tell(result.outcome))

    def unclaim(self, viewer: Viewer, *, now: datetime | None = None) -> UnclaimOutcome:
        """Withdraw the member's pending or approved claim."""
        at = now or utcnow()

        def work(session: Session) -> UnclaimOutcome:
            member = find_member(session=session, viewer=viewer)
            claim = find_member_claim(session=session, member_id=member.id) if member and member.id else None
            if claim is None or claim.id is None:
                return UnclaimOutcome("none")
            if not set_claim_status(session, claim.id, claim.status, status="withdrawn", decided_at=at):
                return UnclaimOutcome("none")
            session.expire_all()
            claim = session.get(Claim, claim.id)
            assert claim is not None
            researcher = session.get(Researcher, claim.researcher_id)
            profile = (
                profile_card_data(session=session, researcher=researcher, viewer=viewer)
                if researcher
                else None
            )
            return UnclaimOutcome("withdrawn", claim_view(session=session, claim=claim), profile)

        return write_retrying_once(self._engine, work)

    def mine(self, viewer: Viewer) -> ClaimView | None:
        """The viewer's pending or approved claim, if any."""
        with Session(self._engine) as session:
            member = find_member(session=session, viewer=viewer)
            if member is None or member.id is None:
                return None
            claim = find_member_claim(session=session, member_id=member.id)
            return claim_view(session=session, claim=claim) if claim else None

    def editable_profile(self, viewer: Viewer, researcher_id: int) -> Profile | None:
        """The profile when the viewer holds its approved claim (who may edit it), else None."""
        with Session(self._engine) as session:
            claim = approved_claim_of(session=session, viewer=viewer)
            if claim is None or claim.researcher_id != researcher_id:
                return None
            researcher = session.get(Researcher, researcher_id)
            return (
                profile_card_data(session=session, researcher=researcher, viewer=viewer)
                if researcher
                else None
            )

    def update_profile(
        self,
        viewer: Viewer,
        researcher_id: int,
        *,
        headline: str | None,
        open_to_collaborate: bool,
        now: datetime | None = None,
    ) -> EditOutcome:
        """The claimant edits their headline and "Open to collaborate" (checked again here)."""
        at = now or utcnow()
        text = " ".join((headline or "").split()) or None
        if text is not None and len(text) > HEADLINE_MAX:
            return EditOutcome("invalid", problem=f"Keep the headline under {HEADLINE_MAX} characters.")

        def work(session: Session) -> EditOutcome:
            researcher = session.get(Researcher, researcher_id)
            if researcher is None:
                return EditOutcome("gone")
            claim = approved_claim_of(session=session, viewer=viewer)
            if claim is None or claim.researcher_id != researcher_id:
                return EditOutcome("not_claimant")
            researcher.headline = text
            researcher.open_to_collaborate = open_to_collaborate
            researcher.updated_at = at
            session.add(researcher)
            session.flush()
            return EditOutcome(
                "saved", profile_card_data(session=session, researcher=researcher, viewer=viewer)
            )

        return write_retrying_once(self._engine, work)

    # -----------------------------------------------------------------------------------------

    def _after_claim(self, outcome: ClaimOutcome, review: ClaimReview | None) -> ClaimOutcome:
        if review is None or self._notifier is None:
            return outcome
        try:
            reviewers = self._notifier.request_review(review)
        except MessageNotDelivered as error:
            log.warning("claim %s: admins could not be asked (%s)", review.claim.id, error)
            reviewers = 0
        return replace(outcome, reviewers=reviewers)

    def _tell(self, outcome: DecisionOutcome) -> DecisionOutcome:
        if outcome.claim is None or outcome.status not in ("approved", "rejected", "revoked"):
            return outcome
        if self._notifier is None:
            return outcome
        try:
            self._notifier.tell_claimant(outcome.claim)
        except MessageNotDelivered as error:
            log.warning("claim %s: the claimant could not be told (%s)", outcome.claim.id, error)
            return outcome
        return DecisionOutcome(outcome.status, outcome.claim, claimant_told=True)
