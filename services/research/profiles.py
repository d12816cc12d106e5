"""Profiles: finding a researcher from what a user typed, and everything a profile card shows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Literal, TypeVar

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.research.card_queries import (
    StoredWork,
    get_card_head,
    list_card_topics,
    list_close_collaborators,
    list_names_and_affiliations,
    list_recent_works,
)
from services.research.identifiers import InvalidReference, parse_author_ref
from services.research.paper_keys import has_published_version, shown_key
from services.research.search import NameMatch, search_names
from services.research.trust import TrustSignals, TrustSnapshot, trust_snapshot, verification_level
from services.store.models import Authorship, Researcher, ResearcherAlias
from services.store.text import truncate
from services.workspaces.members import Viewer

CARD_WORKS = 3
CARD_TOPICS = 5
# BZPEER's pages show the four strongest co-authors (33 of 35 live profiles show exactly 4).
CARD_COLLABORATORS = 4
PICK_LIST_SIZE = 8
ABSTRACT_SNIPPET = 280
T = TypeVar("T")


@dataclass(frozen=True)
class WorkSummary:
    id: int
    title: str
    type: str
    year: int | None
    venue: str | None
    url: str | None
    abstract: str | None
    also: str | None  # the other version of a preprint/published pair, e.g. "preprint on arXiv"
    # The first authors in byline order (lists fill it; cards leave it empty) and whether more follow.
    authors: tuple[str, ...] = ()
    more_authors: bool = False
    cited_by_count: int | None = None
    oa_url: str | None = None  # a free full text, when OpenAlex knows one


@dataclass(frozen=True)
class CardCollaborator:
    id: int
    name: str
    shared_works: int


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    headline: str | None
    affiliation: str | None
    open_to_collaborate: bool
    trust: TrustSnapshot
    claim_status: Literal["unclaimed", "pending", "claimed"]
    works_count: int
    followers_count: int
    topics_count: int
    collaborators_count: int
    topics: tuple[str, ...]
    recent_works: tuple[WorkSummary, ...]
    openalex_url: str | None
    orcid_url: str | None
    close_collaborators: tuple[CardCollaborator, ...] = ()  # collaborators_count is their number
    # OpenAlex's figures for the author, when imported (None: not known, e.g. BZPEER's own records).
    cited_by_count: int | None = None
    h_index: int | None = None
    # Whether the viewer follows this researcher; None when the card is for nobody in particular.
    following: bool | None = None
    # Whether the viewer holds this profile's approved claim (may edit it, cannot invite it).
    claimed_by_viewer: bool | None = None
    # The live (pending or approved) claim, and for its own claimant the "Verify with ORCID"
    # link (collaboration/orcid_service.py fills it when ORCID sign-in is enabled).
    claim_id: int | None = None
    orcid_verify_url: str | None = None


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    matched_name: str
    affiliation: str | None
    works_count: int


@dataclass(frozen=True)
class Lookup:
    """The answer to "who is QUERY?": one profile, a pick list, nothing, or invalid input."""

    status: Literal["found", "choices", "none", "invalid"]
    query: str
    profile: Profile | None = None
    candidates: tuple[Candidate, ...] = ()
    message: str | None = None
    # What to look up on OpenAlex when nothing matched: a name, an author id or an ORCID.
    openalex_ref: str | None = None


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A per-researcher answer (papers, collaborators, a graph) to a typed QUERY: `result` when
    the query named one researcher, else the lookup says why not (pick list, nobody, invalid)."""

    lookup: Lookup
    result: T | None = None


def work_url(work: StoredWork) -> str | None:
    """Where a person should land for a work: DOI, else arXiv, else OpenAlex, else the landing page."""
    doi = work.published_doi or work.doi
    if doi:
        return f"https://doi.org/{doi}"
    if work.arxiv_id:
        return f"https://arxiv.org/abs/{work.arxiv_id}"
    if work.openalex_id:
        return f"https://openalex.org/{work.openalex_id}"
    return work.landing_url


def summarize_work(
    work: StoredWork, *, authors: tuple[str, ...] = (), more_authors: bool = False
) -> WorkSummary:
    """A work as lists and cards show it; a preprint with a published version shows the latter."""
    abstract = truncate(work.abstract, ABSTRACT_SNIPPET) if work.abstract else None
    # Type and year as the list sorts and filters them (services/research/paper_keys.py).
    shown = shown_key(work)
    published = has_published_version(work)
    return WorkSummary(
        id=work.id or 0,
        title=work.title,
        type=shown.shown_type,
        year=shown.shown_year,
        venue=work.published_venue if published else work.venue,
        url=work_url(work),
        abstract=abstract,
        also=(f"preprint on {work.venue}" if work.venue else "preprint") if published else None,
        authors=authors,
        more_authors=more_authors,
        cited_by_count=work.cited_by_count,
        oa_url=work.oa_url,
    )


class ProfileService:
    """Looks researchers up and assembles their profile cards from the store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def lookup(self, query: str, *, viewer: Viewer | None = None) -> Lookup:
        """Resolve a name, OpenAlex id/URL or ORCID to a profile or a short pick list."""
        with Session(self._engine) as session:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None:
                return found
            return replace(found, profile=_profile(session, researcher, viewer))

    def profile(self, researcher_id: int, *, viewer: Viewer | None = None) -> Profile | None:
        """The card of one researcher (as `viewer` sees it), or None when it no longer exists."""
        with Session(self._engine) as session:
            researcher = session.get(Researcher, researcher_id)
            return _profile(session, researcher, viewer) if researcher else None


def find_researcher(*, session: Session, query: str) -> tuple[Lookup, Researcher | None]:
    """Who QUERY names: the researcher when one answers clearly (the Lookup then says "found",
    without a profile), else the pick list, nothing, or an invalid-input message."""
    query = " ".join(query.split())
    if not query:
        return Lookup("invalid", query, message="Type a researcher's name, OpenAlex id or ORCID."), None
    try:
        ref = parse_author_ref(query)
    except InvalidReference as error:
        return Lookup("invalid", query, message=str(error)), None
    if ref.kind != "name":
        researcher = _by_identifier(session, ref.kind, ref.value)
        if researcher is None:
            return Lookup("none", query, openalex_ref=ref.value), None
        return Lookup("found", query), researcher
    matches = search_names(session=session, query=query, limit=PICK_LIST_SIZE)
    if not matches:
        return Lookup("none", query, openalex_ref=query), None
    top = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    chosen = top.researcher_id
    # A clear winner goes straight to the card; so does the only candidate, however fuzzy the
    # match: a pick list of one asks a question with one answer. Every subcommand resolves here.
    if not (top.score >= 90 and top.score - runner_up >= 5):
        candidates = _candidates(session, matches)
        if len(candidates) > 1:
            return Lookup("choices", query, candidates=candidates), None
        if not candidates:
            return Lookup("none", query, openalex_ref=query), None
        chosen = candidates[0].id
    researcher = session.get(Researcher, chosen)
    if researcher is None:  # removed since the search read it
        return Lookup("none", query, openalex_ref=query), None
    return Lookup("found", query), researcher


def _by_identifier(session: Session, kind: str, value: str) -> Researcher | None:
    if kind == "orcid":
        return session.exec(select(Researcher).where(col(Researcher.orcid) == value)).first()
    researcher = session.exec(select(Researcher).where(col(Researcher.openalex_id) == value)).first()
    if researcher is None:
        alias = session.get(ResearcherAlias, value)
        researcher = session.get(Researcher, alias.researcher_id) if alias else None
    return researcher


def _candidates(session: Session, matches: list[NameMatch]) -> tuple[Candidate, ...]:
    info = list_names_and_affiliations(session=session, researcher_ids=[m.researcher_id for m in matches])
    return tuple(
        Candidate(
            id=m.researcher_id,
            name=info[m.researcher_id][0],
            matched_name=m.matched_name,
            affiliation=info[m.researcher_id][1],
            works_count=m.works,
        )
        for m in matches
        if m.researcher_id in info
    )


def count_works(session: Session, researcher_id: int) -> int:
    """Distinct works of a researcher in the store."""
    return session.exec(
        select(func.count(func.distinct(col(Authorship.work_id)))).where(
            col(Authorship.researcher_id) == researcher_id
        )
    ).one()


def count_collaborators(session: Session, researcher_id: int) -> int:
    """Distinct co-authors of a researcher on works in the store."""
    mine, theirs = aliased(Authorship), aliased(Authorship)
    return session.exec(
        select(func.count(func.distinct(col(theirs.researcher_id))))
        .select_from(mine)
        .join(theirs, col(theirs.work_id) == col(mine.work_id))
        .where(
            col(mine.researcher_id) == researcher_id,
            col(theirs.researcher_id).is_not(None),
            col(theirs.researcher_id) != researcher_id,
        )
    ).one()


def profile_card_data(*, session: Session, researcher: Researcher, viewer: Viewer | None = None) -> Profile:
    """Everything a card shows, as `viewer` sees it (query helper: never commits)."""
    return _profile(session, researcher, viewer)


def _profile(session: Session, researcher: Researcher, viewer: Viewer | None = None) -> Profile:
    rid = researcher.id
    assert rid is not None
    head = get_card_head(
        session=session,
        researcher_id=rid,
        team_id=viewer.team_id if viewer else None,
        user_id=viewer.user_id if viewer else None,
    )
    approved = head.claim_status == "approved"
    level = verification_level(
        has_persistent_id=bool(researcher.openalex_id or researcher.orcid or researcher.source == "bzpeer"),
        claim_approved=approved,
        orcid_authenticated=approved and head.claim_orcid_authenticated,
    )
    topics = list_card_topics(session=session, researcher_id=rid)
    # In the publication list's order, so the card's newest works are the list's first.
    recent = list_recent_works(session=session, researcher_id=rid, limit=CARD_WORKS)
    close = tuple(
        CardCollaborator(id=cid, name=name, shared_works=works)
        for cid, name, works in list_close_collaborators(
            session=session, researcher_id=rid, limit=CARD_COLLABORATORS
        )
    )
    claimed_by_viewer = None
    if viewer is not None:
        # The viewer holds the approved claim (a member who never used the bot holds none).
        member = head.viewer_member_id
        claimed_by_viewer = approved and member is not None and member == head.claim_member_id
    return Profile(
        id=rid,
        name=researcher.name,
        headline=researcher.headline,
        affiliation=head.affiliation,
        open_to_collaborate=researcher.open_to_collaborate,
        trust=trust_snapshot(TrustSignals(level=level, works=head.works, followers=head.followers)),
        claim_status="claimed" if approved else ("pending" if head.claim_status else "unclaimed"),
        works_count=head.works,
        followers_count=head.followers,
        topics_count=len(topics),
        collaborators_count=len(close),
        topics=tuple(topics[:CARD_TOPICS]),
        recent_works=tuple(summarize_work(work) for work in recent),
        openalex_url=f"https://openalex.org/{researcher.openalex_id}" if researcher.openalex_id else None,
        orcid_url=f"https://orcid.org/{researcher.orcid}" if researcher.orcid else None,
        close_collaborators=close,
        cited_by_count=researcher.cited_by_count,
        h_index=researcher.h_index,
        following=head.following if viewer else None,
        claimed_by_viewer=claimed_by_viewer,
        claim_id=head.claim_id,
    )
