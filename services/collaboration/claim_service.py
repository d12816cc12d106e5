"""Claims: a member says "this public author record is me"; once approved the profile is
Verification L2 (+30 trust) and open to direct invitations (DESIGN §5, §7).

One Claim row per attempt. The partial unique indexes on `claim` allow one *live* claim
(pending or approved) per researcher and one per member; a race between two claimants ends in
an IntegrityError that is retried once and then reads as "taken".

    pending ──e-mail domain + name match──▶ approved (method "email_domain")
    pending ──admin Approve──▶ approved (method "admin")   pending ──admin Reject──▶ rejected
    approved ──admin Revoke──▶ revoked                     pending | approved ──unclaim──▶ withdrawn

Who decides is never read from a button: the handler passes the presser (payload user and team)
and what `users.info` says about them; the service checks they administer the claimant's
workspace and are not the claimant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from services.research.profiles import Lookup, Profile, find_researcher, profile_card_data
from services.store.engine import write_retrying_once
from services.store.models import Claim, Institution, Member, Researcher, ResearcherName, utcnow
from services.store.text import normalize_name
from services.workspaces.members import Viewer, find_member, get_or_create_member

log = logging.getLogger(__name__)

LIVE = ("pending", "approved")
HEADLINE_MAX = 300
# Webmail is never an institution, whatever a record's domain says.
WEBMAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "163.com",
        "gmx.de",
    }
)


class MessageNotDelivered(Exception):
    """A port could not deliver a message (the recipient is gone, Slack refused or is down)."""


@dataclass(frozen=True)
class SlackIdentity:
    """What Slack says about a member (`users.info`), read by the handler for the person acting."""

    real_name: str | None = None
    email: str | None = None
    # is_admin or is_owner, and neither deleted nor a bot.
    is_admin: bool = False


@dataclass(frozen=True)
class ClaimView:
    """A claim as messages show it."""

    id: int
    status: str
    method: str | None
    researcher_id: int
    researcher_name: str
    claimant: Viewer
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class ClaimReview:
    """What an admin is asked to decide: the claim, the card, and why it was not automatic."""

    claim: ClaimView
    profile: Profile
    reason: str
    email_domain: str | None


ClaimStatus = Literal["approved", "pending", "already_yours", "taken", "has_other", "gone"]


@dataclass(frozen=True)
class ClaimOutcome:
    """What `/peer claim` or the Claim button did, with the card as the claimant now sees it."""

    status: ClaimStatus
    researcher_id: int
    name: str = ""
    claim: ClaimView | None = None
    profile: Profile | None = None
    # has_other: the profile the member already claimed.
    other_name: str | None = None
    # pending: why an admin must decide, and how many admins (or review channels) were asked.
    reason: str | None = None
    reviewers: int = 0


@dataclass(frozen=True)
class ClaimQueryOutcome:
    lookup: Lookup
    outcome: ClaimOutcome | None = None


DecisionStatus = Literal[
    "approved",
    "rejected",
    "revoked",
    "not_admin",
    "other_workspace",
    "own_claim",
    "not_pending",
    "not_approved",
    "gone",
]


@dataclass(frozen=True)
class Reviewer:
    """The admin acting: the presser's Slack ids and whether users.info says they administer it."""

    viewer: Viewer
    is_admin: bool


@dataclass(frozen=True)
class DecisionOutcome:
    status: DecisionStatus
    claim: ClaimView | None = None
    # Whether the claimant was told by DM (approved, rejected, revoked).
    claimant_told: bool = False


@dataclass(frozen=True)
class RevokeQueryOutcome:
    lookup: Lookup
    outcome: DecisionOutcome | None = None


@dataclass(frozen=True)
class UnclaimOutcome:
    status: Literal["withdrawn", "none"]
    claim: ClaimView | None = None
    profile: Profile | None = None


EditStatus = Literal["saved", "not_claimant", "gone", "invalid"]


@dataclass(frozen=True)
class EditOutcome:
    status: EditStatus
    profile: Profile | None = None
    problem: str | None = None


class ClaimNotifier(Protocol):
    """The sending side of claims (Slack DMs or a review channel)."""

    def request_review(self, review: ClaimReview) -> int:
        """Ask the claimant's workspace admins to approve or reject; how many were asked."""
        ...

    def tell_claimant(self, claim: ClaimView) -> None:
        """DM the claimant the decision; MessageNotDelivered when that fails."""
        ...


# ---------------------------------------------------------------------------------------------
# Matching a Slack identity to a record (pure)


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an e-mail address, or None."""
    if not email or email.count("@") != 1:
        return None
    domain = email.rsplit("@", 1)[1].strip().strip(".").casefold()
    return domain or None


def domain_matches(domain: str | None, institution_domain: str | None) -> bool:
    """`cs.umd.edu` and `umd.edu` match `umd.edu`; webmail never does."""
    if not domain or not institution_domain:
        return False
    wanted = institution_domain.strip().strip(".").casefold().removeprefix("www.")
    if not wanted or "." not in wanted or wanted in WEBMAIL or domain in WEBMAIL:
        return False
    return domain == wanted or domain.endswith("." + wanted)


def _tokens(name: str) -> tuple[set[str], set[str]]:
    words = normalize_name(name).split()
    return {w for w in words if len(w) > 1}, {w for w in words if len(w) == 1}


def names_match(slack_name: str | None, record_name: str) -> bool:
    """Accent-, case- and order-insensitive; one side may add a middle initial.

    The full words must be the same set of at least two ("S. Basu" is not enough to be
    "Samyadeep Basu"); initials on both sides must agree, one side alone may carry one.
    """
    if not slack_name:
        return False
    full_a, initials_a = _tokens(slack_name)
    full_b, initials_b = _tokens(record_name)
    if full_a != full_b or len(full_a) < 2:
        return False
    if initials_a == initials_b:
        return True
    return (not initials_a and len(initials_b) <= 1) or (not initials_b and len(initials_a) <= 1)


def auto_approval(
    *, session: Session, researcher: Researcher, identity: SlackIdentity | None
) -> tuple[bool, str, str | None]:
    """Whether the claim is approved at once, why (or why not), and the Slack e-mail domain."""
    domain = email_domain(identity.email if identity else None)
    institution = session.get(Institution, researcher.institution_id) if researcher.institution_id else None
    if domain is None:
        return False, "no e-mail address is visible on the Slack profile", None
    if institution is None or not institution.domain:
        return False, "the profile has no institution e-mail domain on record", domain
    if not domain_matches(domain, institution.domain):
        return False, f"the Slack e-mail domain ({domain}) is not {institution.domain}", domain
    names = [researcher.name, *_record_names(session, researcher)]
    if not any(names_match(identity.real_name if identity else None, name) for name in names):
        return False, "the Slack name differs from the names on the record", domain
    return True, f"Slack e-mail at {institution.domain} and a matching name", domain


def _record_names(session: Session, researcher: Researcher) -> list[str]:
    return list(
        session.exec(
            select(col(ResearcherName.name)).where(col(ResearcherName.researcher_id) == researcher.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# Query helpers (take a session, never commit)


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


def _set_status(session: Session, claim_id: int, expected: str, **values: Any) -> bool:
    """Compare-and-set: change the claim only if it is still `expected` (two admins, one wins)."""
    result = session.execute(
        update(Claim)
        .where(col(Claim.id) == claim_id, col(Claim.status) == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], result).rowcount or 0) == 1


# ---------------------------------------------------------------------------------------------
# The service


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
            self._engine, lambda s: _claim(s, viewer, researcher_id, identity, at)
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
            outcome, review = _claim(session, viewer, researcher.id, identity, at)
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
            self._engine, lambda s: _decide(s, claim_id, reviewer, "pending", status, at)
        )
        return self._tell(outcome)

    def revoke(self, claim_id: int, *, reviewer: Reviewer, now: datetime | None = None) -> DecisionOutcome:
        """Revoke an approved claim, as an admin of the claimant's workspace."""
        at = now or utcnow()
        return self._tell(
            write_retrying_once(
                self._engine, lambda s: _decide(s, claim_id, reviewer, "approved", "revoked", at)
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
            return RevokeQueryOutcome(found, _decide(session, claim.id, reviewer, "approved", "revoked", at))

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
            if not _set_status(session, claim.id, claim.status, status="withdrawn", decided_at=at):
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


# ---------------------------------------------------------------------------------------------
# Units of work (inside one session; never commit)


def _claim(
    session: Session, viewer: Viewer, researcher_id: int, identity: SlackIdentity | None, now: datetime
) -> tuple[ClaimOutcome, ClaimReview | None]:
    researcher = session.get(Researcher, researcher_id)
    if researcher is None:
        return ClaimOutcome("gone", researcher_id), None
    member = get_or_create_member(session=session, viewer=viewer)
    assert member.id is not None

    def card() -> Profile:
        session.flush()
        return profile_card_data(session=session, researcher=researcher, viewer=viewer)

    live = find_live_claim(session=session, researcher_id=researcher_id)
    if live is not None:
        status: ClaimStatus = "already_yours" if live.member_id == member.id else "taken"
        view = claim_view(session=session, claim=live) if status == "already_yours" else None
        return ClaimOutcome(status, researcher_id, researcher.name, view, card()), None
    other = find_member_claim(session=session, member_id=member.id)
    if other is not None:
        other_researcher = session.get(Researcher, other.researcher_id)
        return (
            ClaimOutcome(
                "has_other",
                researcher_id,
                researcher.name,
                claim_view(session=session, claim=other),
                card(),
                other_name=other_researcher.name if other_researcher else None,
            ),
            None,
        )
    approved, reason, domain = auto_approval(session=session, researcher=researcher, identity=identity)
    claim = Claim(researcher_id=researcher_id, member_id=member.id, created_at=now)
    if approved:
        claim.status, claim.method, claim.decided_at = "approved", "email_domain", now
    session.add(claim)
    session.flush()  # the partial unique indexes speak here, inside the retry
    view = claim_view(session=session, claim=claim)
    profile = card()
    if approved:
        return ClaimOutcome("approved", researcher_id, researcher.name, view, profile, reason=reason), None
    review = ClaimReview(claim=view, profile=profile, reason=reason, email_domain=domain)
    return ClaimOutcome("pending", researcher_id, researcher.name, view, profile, reason=reason), review


def _decide(
    session: Session,
    claim_id: int,
    reviewer: Reviewer,
    expected: str,
    status: DecisionStatus,
    now: datetime,
) -> DecisionOutcome:
    claim = session.get(Claim, claim_id)
    if claim is None:
        return DecisionOutcome("gone")
    member = session.get(Member, claim.member_id)
    if member is None:
        return DecisionOutcome("gone")
    if not reviewer.is_admin:
        return DecisionOutcome("not_admin")
    if member.team_id != reviewer.viewer.team_id:
        return DecisionOutcome("other_workspace")
    if member.user_id == reviewer.viewer.user_id:
        return DecisionOutcome("own_claim", claim_view(session=session, claim=claim))
    refusal: DecisionStatus = "not_pending" if expected == "pending" else "not_approved"
    if claim.status != expected:
        return DecisionOutcome(refusal, claim_view(session=session, claim=claim))
    values: dict[str, Any] = {"status": status, "decided_by": reviewer.viewer.user_id, "decided_at": now}
    if status == "approved":
        values["method"] = "admin"
    if not _set_status(session, claim_id, expected, **values):
        session.expire_all()
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return DecisionOutcome(refusal, claim_view(session=session, claim=claim))
    session.expire_all()
    claim = session.get(Claim, claim_id)
    assert claim is not None
    return DecisionOutcome(status, claim_view(session=session, claim=claim))
