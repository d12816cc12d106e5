"""The profile card's reads (query helpers: take a session, never commit): four statements per
card, built once at import and run as Core rows.

Building a statement costs SQLAlchemy more than the database takes to run a card's small
indexed look-ups, and an ORM object per row adds nothing a card shows: the head (counts,
affiliation, the live claim, the viewer's follow) is one row, the topics, the newest works and
the closest co-authors one statement each (benchmarks/cpu_profile.py measures it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Integer, String, bindparam, exists, func
from sqlalchemy import select as sa_select  # Core: rows of columns, no ORM entities
from sqlmodel import Session, col

from services.store.models import (
    Authorship,
    Claim,
    Coauthor,
    Follow,
    Institution,
    Member,
    Researcher,
    ResearcherTopic,
    Topic,
    Work,
)


class StoredWork(Protocol):
    """The columns of a work that lists and cards show: a Work row, or a Core row of them."""

    @property
    def id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def publication_date(self) -> date | None: ...
    @property
    def venue(self) -> str | None: ...
    @property
    def doi(self) -> str | None: ...
    @property
    def arxiv_id(self) -> str | None: ...
    @property
    def openalex_id(self) -> str | None: ...
    @property
    def landing_url(self) -> str | None: ...
    @property
    def abstract(self) -> str | None: ...
    @property
    def published_openalex_id(self) -> str | None: ...
    @property
    def published_doi(self) -> str | None: ...
    @property
    def published_venue(self) -> str | None: ...
    @property
    def published_year(self) -> int | None: ...
    @property
    def cited_by_count(self) -> int | None: ...
    @property
    def oa_url(self) -> str | None: ...


class CardHead(NamedTuple):
    """Everything on a card that is one value per researcher (and viewer)."""

    works: int
    followers: int
    affiliation: str | None
    claim_status: str | None  # the live claim's: "pending" or "approved"
    claim_orcid_authenticated: bool
    claim_member_id: int | None
    claim_id: int | None
    viewer_member_id: int | None  # the viewer's member row, when they used the bot before
    following: bool  # the viewer follows the researcher (parked follows excluded)


_RID = bindparam("researcher_id", type_=Integer)
_TEAM, _USER = bindparam("team_id", type_=String), bindparam("user_id", type_=String)
_VIEWER = (
    sa_select(col(Member.id))
    .where(col(Member.team_id) == _TEAM, col(Member.user_id) == _USER)
    .scalar_subquery()
)
_HEAD = (
    sa_select(
        sa_select(func.count(func.distinct(col(Authorship.work_id))))
        .where(col(Authorship.researcher_id) == _RID)
        .scalar_subquery(),
        sa_select(func.count())
        .select_from(Follow)
        .where(col(Follow.researcher_id) == _RID, col(Follow.parked).is_(False))
        .scalar_subquery(),
        col(Institution.name),
        col(Claim.status),
        col(Claim.orcid_authenticated),
        col(Claim.member_id),
        col(Claim.id),
        _VIEWER,
        exists().where(
            col(Follow.member_id) == _VIEWER, col(Follow.researcher_id) == _RID, col(Follow.parked).is_(False)
        ),
    )
    .select_from(Researcher)
    .outerjoin(Institution, col(Institution.id) == col(Researcher.institution_id))
    # At most one live claim per researcher (uq_claim_live_researcher): the join adds no rows.
    .outerjoin(
        Claim,
        (col(Claim.researcher_id) == col(Researcher.id)) & col(Claim.status).in_(("pending", "approved")),
    )
    .where(col(Researcher.id) == _RID)
)
_NOBODY_HEAD = CardHead(0, 0, None, None, False, None, None, None, False)


def get_card_head(
    *, session: Session, researcher_id: int, team_id: str | None, user_id: str | None
) -> CardHead:
    """Counts, affiliation, the live claim and the viewer's standing, in one row."""
    session.flush()  # Core reads do not autoflush: a claim added in this session must show
    row = (
        session.connection()
        .execute(_HEAD, {"researcher_id": researcher_id, "team_id": team_id, "user_id": user_id})
        .first()
    )
    if row is None:  # removed since it was found: nothing to count
        return _NOBODY_HEAD
    works, followers, affiliation, status, orcid, member_id, claim_id, viewer, following = row
    return CardHead(
        works or 0,
        followers or 0,
        affiliation,
        status,
        bool(orcid),
        member_id,
        claim_id,
        viewer,
        bool(following),
    )


_TOPICS = (
    sa_select(col(Topic.name))
    .join(ResearcherTopic, col(ResearcherTopic.topic_id) == col(Topic.id))
    .where(col(ResearcherTopic.researcher_id) == _RID)
    .order_by(col(ResearcherTopic.works).desc(), col(Topic.name))
)


def list_card_topics(*, session: Session, researcher_id: int) -> list[str]:
    """The researcher's topics, most works first."""
    return list(session.connection().execute(_TOPICS, {"researcher_id": researcher_id}).scalars())


_YEAR, _DAY, _WORK = col(Authorship.shown_year), col(Authorship.shown_date), col(Authorship.work_id)
# The newest works as the publication list orders them (paper_keys.newest_first): ids from one
# range scan of ix_authorship_researcher_shown, then only those works' columns.
_NEWEST = (
    sa_select(_YEAR, _DAY, _WORK)
    .distinct()
    .where(col(Authorship.researcher_id) == _RID)
    .order_by(_YEAR.desc().nulls_last(), _DAY.desc().nulls_last(), _WORK.desc())
    .limit(bindparam("limit", type_=Integer))
    .subquery("newest")
)
_WORK_FIELDS = (
    "id",
    "title",
    "type",
    "year",
    "publication_date",
    "venue",
    "doi",
    "arxiv_id",
    "openalex_id",
    "landing_url",
    "abstract",
    "published_openalex_id",
    "published_doi",
    "published_venue",
    "published_year",
    "cited_by_count",
    "oa_url",
)  # fmt: skip  (StoredWork's attributes)
_WORK_COLUMNS = [col(getattr(Work, name)) for name in _WORK_FIELDS]
_RECENT = (
    sa_select(*_WORK_COLUMNS)
    .join(_NEWEST, _NEWEST.c.work_id == col(Work.id))
    .order_by(
        _NEWEST.c.shown_year.desc().nulls_last(),
        _NEWEST.c.shown_date.desc().nulls_last(),
        col(Work.id).desc(),
    )
)


def list_recent_works(*, session: Session, researcher_id: int, limit: int) -> Sequence[StoredWork]:
    """The researcher's `limit` newest works, in the publication list's order."""
    rows: Any = session.connection().execute(_RECENT, {"researcher_id": researcher_id, "limit": limit}).all()
    return list(rows)


# The stored co-authorship graph's strongest ties (coauthor_graph.py): one range of
# ix_coauthor_strongest, already in strength order, and names for the first few (PostgreSQL's
# incremental sort and SQLite's sorter read only the ties at the cut). Counting the card's shared
# works from authorship at read time fanned out through every byline: a member of 40 big
# collaborations joined 56,000 authorship rows, 70-190 ms a card.
_CLOSE = (
    sa_select(col(Researcher.id), col(Researcher.name), col(Coauthor.works))
    .select_from(Coauthor)
    .join(Researcher, col(Researcher.id) == col(Coauthor.coauthor_id))
    .where(col(Coauthor.researcher_id) == _RID)
    .order_by(col(Coauthor.works).desc(), func.lower(col(Researcher.name)), col(Researcher.id))
    .limit(bindparam("limit", type_=Integer))
)


def list_close_collaborators(
    *, session: Session, researcher_id: int, limit: int
) -> list[tuple[int, str, int]]:
    """(id, name, shared works) of the `limit` strongest co-authors in the stored graph: most
    shared works with at most MAX_AUTHORS_PER_WORK authors (a 1,500-author paper says nothing
    about who works closely with whom), then name, then id."""
    rows = session.connection().execute(_CLOSE, {"researcher_id": researcher_id, "limit": max(limit, 0)})
    return [(rid or 0, name, works) for rid, name, works in rows.all()]


# A pick list names at most a few researchers: one IN-list, rendered per call from one compiled form.
_NAMES = (
    sa_select(col(Researcher.id), col(Researcher.name), col(Institution.name))
    .outerjoin(Institution, col(Institution.id) == col(Researcher.institution_id))
    .where(col(Researcher.id).in_(bindparam("ids", expanding=True)))
)


def list_names_and_affiliations(
    *, session: Session, researcher_ids: Sequence[int]
) -> dict[int, tuple[str, str | None]]:
    """Name and institution of each researcher of a pick list, by id (missing ids are absent)."""
    found: dict[int, tuple[str, str | None]] = {}
    if not researcher_ids:
        return found
    for rid, name, affiliation in session.connection().execute(_NAMES, {"ids": list(researcher_ids)}):
        found[rid or 0] = (name, affiliation)  # no institution: None (an outer join)
    return found
