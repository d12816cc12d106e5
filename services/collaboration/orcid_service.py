"""ORCID sign-in for Verification L3 (README: Verification L3): a member who holds an approved
claim signs in at ORCID; when the iD ORCID confirms is the claimed researcher's ORCID, the claim
becomes ORCID-authenticated (research/trust.py: L3, 45 points instead of 30)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.collaboration.orcid_client import OrcidClient, OrcidConfig, OrcidError
from services.collaboration.orcid_state import BadState, OrcidState, StateSigner
from services.research.identifiers import InvalidReference, parse_author_ref
from services.research.profiles import Profile, profile_card_data
from services.slack_requests.sending import MessageNotDelivered
from services.store.engine import session_scope, write_retrying_once
from services.store.models import Claim, OrcidStateUse, Researcher, utcnow
from services.workspaces.members import Viewer, find_member

log = logging.getLogger(__name__)

OrcidStatus = Literal[
    "verified",
    "bad_state",
    "replayed",
    "denied",
    "orcid_error",
    "not_approved",
    "not_claimant",
    "no_orcid",
    "mismatch",
]


@dataclass(frozen=True)
class OrcidOutcome:
    """What a step of the sign-in did; `detail` says why when it did not verify."""

    status: OrcidStatus
    detail: str = ""
    researcher_name: str = ""
    orcid_on_record: str | None = None
    orcid_signed_in: str | None = None
    profile: Profile | None = None
    viewer: Viewer | None = None


@dataclass(frozen=True)
class StartOutcome:
    redirect_url: str | None = None
    refusal: OrcidOutcome | None = None


class OrcidNotifier(Protocol):
    """Tells a member their claim is now ORCID-verified (a Slack DM)."""

    def tell_verified(self, viewer: Viewer, profile: Profile) -> None:
        """DM the member the card's new trust line; MessageNotDelivered when that fails."""
        ...


def normalised_orcid(text: str | None) -> str | None:
    """`0000-0002-1825-0097` from a bare or URL iD with a valid check digit, else None."""
    if not text:
        return None
    try:
        ref = parse_author_ref(text)
    except InvalidReference:
        return None
    return ref.value if ref.kind == "orcid" else None


class OrcidService:
    """Sign-in links for a member's own approved claim, and the two web steps (start, callback).
    Disabled (no links, the routes answer 404) without an ORCID client and a public URL."""

    def __init__(
        self,
        engine: Engine,
        config: OrcidConfig | None,
        *,
        client: OrcidClient | None = None,
        notifier: OrcidNotifier | None = None,
    ) -> None:
        self._engine = engine
        self._notifier = notifier
        self._config = config
        self._signer = StateSigner(config.secret) if config else None
        self._client = client or (OrcidClient(config) if config else None)

    @property
    def enabled(self) -> bool:
        return self._config is not None

    def link(self, claim_id: int, viewer: Viewer, *, now: datetime | None = None) -> str | None:
        """The "Verify with ORCID" link for the viewer's own claim (None when disabled)."""
        if self._config is None or self._signer is None:
            return None
        state = self._signer.sign(
            claim_id=claim_id,
            team_id=viewer.team_id,
            user_id=viewer.user_id,
            purpose="link",
            now=now or utcnow(),
        )
        return f"{self._config.start_url}?state={state}"

    def offer(self, profile: Profile | None, viewer: Viewer | None) -> Profile | None:
        """The profile with its sign-in link when the viewer holds its approved, not yet
        ORCID-authenticated claim; otherwise unchanged."""
        if profile is None or viewer is None or not profile.claimed_by_viewer:
            return profile
        if profile.trust.level >= 3 or profile.claim_id is None:
            return profile
        url = self.link(profile.claim_id, viewer)
        return replace(profile, orcid_verify_url=url) if url else profile

    def start(self, state: str, *, now: datetime | None = None) -> StartOutcome:
        """/orcid/start: check the button's link and send the member to ORCID with a fresh state."""
        assert self._signer is not None and self._client is not None
        at = now or utcnow()
        try:
            link = self._signer.check(state, purpose="link", now=at)
        except BadState as error:
            return StartOutcome(refusal=OrcidOutcome("bad_state", str(error)))
        with Session(self._engine) as session:
            refusal = _claim_problem(session, link)
        if refusal is not None:
            return StartOutcome(refusal=refusal)
        sign_in = self._signer.sign(
            claim_id=link.claim_id, team_id=link.team_id, user_id=link.user_id, purpose="sign_in", now=at
        )
        return StartOutcome(redirect_url=self._client.authorize_url(sign_in))

    def callback(
        self, *, code: str | None, state: str | None, error: str | None, now: datetime | None = None
    ) -> OrcidOutcome:
        """/orcid/callback: use the state once, ask ORCID who signed in, and grant L3 on a match."""
        assert self._signer is not None and self._client is not None
        at = now or utcnow()
        if error:
            why = "you declined access at ORCID" if error == "access_denied" else f"ORCID said {error!r}"
            return OrcidOutcome("denied", why)
        try:
            signed = self._signer.check(state or "", purpose="sign_in", now=at)
        except BadState as problem:
            return OrcidOutcome("bad_state", str(problem))
        if not code:
            return OrcidOutcome("orcid_error", "ORCID sent no sign-in code")
        try:
            with session_scope(self._engine) as session:
                session.add(OrcidStateUse(nonce=signed.nonce, claim_id=signed.claim_id, used_at=at))
        except IntegrityError:
            return OrcidOutcome("replayed", "this sign-in was already used; start again from Slack")
        try:
            orcid = self._client.authenticated_orcid(code)
        except OrcidError as problem:
            return OrcidOutcome("orcid_error", str(problem))
        outcome = write_retrying_once(self._engine, lambda s: _grant(s, signed, orcid))
        if outcome.status == "verified" and self._notifier and outcome.viewer and outcome.profile:
            try:
                self._notifier.tell_verified(outcome.viewer, outcome.profile)
            except MessageNotDelivered as problem:
                # The page already says what changed; the DM is a courtesy.
                log.warning("orcid: claim %s verified, DM not delivered (%s)", signed.claim_id, problem)
        return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _claim_problem(session: Session, signed: OrcidState) -> OrcidOutcome | None:
    """Why this state's claim cannot be ORCID-verified by its member, or None."""
    claim = session.get(Claim, signed.claim_id)
    researcher = session.get(Researcher, claim.researcher_id) if claim else None
    if claim is None or researcher is None or claim.status != "approved":
        return OrcidOutcome("not_approved", "that claim is no longer approved")
    viewer = Viewer(team_id=signed.team_id, user_id=signed.user_id)
    member = find_member(session=session, viewer=viewer)
    if member is None or member.id != claim.member_id:
        return OrcidOutcome("not_claimant", "that claim is held by someone else", researcher.name)
    if normalised_orcid(researcher.orcid) is None:
        return OrcidOutcome(
            "no_orcid",
            "the claimed profile has no ORCID iD on record, so there is nothing to compare with",
            researcher.name,
        )
    return None


def _grant(session: Session, signed: OrcidState, orcid: str) -> OrcidOutcome:
    problem = _claim_problem(session, signed)
    if problem is not None:
        return problem
    claim = session.get(Claim, signed.claim_id)
    assert claim is not None
    researcher = session.get(Researcher, claim.researcher_id)
    assert researcher is not None
    on_record, signed_in = normalised_orcid(researcher.orcid), normalised_orcid(orcid)
    if signed_in is None or signed_in != on_record:
        return OrcidOutcome(
            "mismatch",
            f"you signed in at ORCID as {signed_in or orcid}, "
            f"but the claimed profile's ORCID iD is {on_record}",
            researcher.name,
            on_record,
            signed_in or orcid,
        )
    claim.orcid_authenticated = True
    session.add(claim)
    session.flush()
    viewer = Viewer(team_id=signed.team_id, user_id=signed.user_id)
    profile = profile_card_data(session=session, researcher=researcher, viewer=viewer)
    return OrcidOutcome("verified", "", researcher.name, on_record, signed_in, profile, viewer)
