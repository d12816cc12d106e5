"""The rules of claims: when a claim is approved at once (an institutional e-mail and a matching
name on Slack), and who may decide the others. Units of work run inside one session, never commit.

One Claim row per attempt. The partial unique indexes on `claim` allow one *live* claim
(pending or approved) per researcher and one per member; a race between two claimants ends in
an IntegrityError that is retried once and then reads as "taken".

    pending ──e-mail domain + name match──▶ approved (method "email_domain")
    pending ──admin Approve──▶ approved (method "admin")   pending ──admin Reject──▶ rejected
    approved ──admin Revoke──▶ revoked                     pending | approved ──unclaim──▶ withdrawn

Who decides is never read from a button: the handler passes the presser (payload user and team)
and what `users.info` says about them; `decide_claim` checks they administer the claimant's
workspace and are not the claimant. The operator (`bzpeer claims approve|reject ID`) decides any
pending claim, recorded like an admin's with `decided_by` "operator".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from services.collaboration.claim_queries import (
    claim_view,
    find_live_claim,
    find_member_claim,
    set_claim_status,
)
from services.collaboration.claim_types import (
    ClaimOutcome,
    ClaimReview,
    ClaimStatus,
    DecisionOutcome,
    DecisionStatus,
    Reviewer,
    SlackIdentity,
)
from services.research.profiles import Profile, profile_card_data
from services.store.models import Claim, Institution, Member, Researcher, ResearcherName
from services.store.text import normalize_name
from services.workspaces.members import Viewer, get_or_create_member

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


def claim_researcher(
    session: Session, viewer: Viewer, researcher_id: int, identity: SlackIdentity | None, now: datetime
) -> tuple[ClaimOutcome, ClaimReview | None]:
    """The viewer claims the researcher: approved at once, pending with what admins must review, or
    refused (gone, taken, already yours, another claim of yours)."""
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


def decide_claim(
    session: Session,
    claim_id: int,
    reviewer: Reviewer,
    expected: str,
    status: DecisionStatus,
    now: datetime,
) -> DecisionOutcome:
    """Move a claim from `expected` to `status` if the reviewer administers the claimant's workspace
    and is not the claimant; else say why not."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        return DecisionOutcome("gone")
    member = session.get(Member, claim.member_id)
    if member is None:
        return DecisionOutcome("gone")
    if not reviewer.is_admin:
        return DecisionOutcome("not_admin")
    # The operator runs the deployment, every workspace's, and is nobody's claimant.
    if not reviewer.operator and member.team_id != reviewer.viewer.team_id:
        return DecisionOutcome("other_workspace")
    if not reviewer.operator and member.user_id == reviewer.viewer.user_id:
        return DecisionOutcome("own_claim", claim_view(session=session, claim=claim))
    refusal: DecisionStatus = "not_pending" if expected == "pending" else "not_approved"
    if claim.status != expected:
        return DecisionOutcome(refusal, claim_view(session=session, claim=claim))
    values: dict[str, Any] = {"status": status, "decided_by": reviewer.viewer.user_id, "decided_at": now}
    if status == "approved":
        values["method"] = "admin"
    if not set_claim_status(session, claim_id, expected, **values):
        session.expire_all()
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return DecisionOutcome(refusal, claim_view(session=session, claim=claim))
    session.expire_all()
    claim = session.get(Claim, claim_id)
    assert claim is not None
    return DecisionOutcome(status, claim_view(session=session, claim=claim))
