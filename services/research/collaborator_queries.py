"""Query helpers behind collaborators (take a session, never commit): co-author counts, each
researcher's strongest ties in the stored graph (coauthor_graph.py), the edges among a few
people (the graph picture), people and their standing, and shared topics."""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, func, text, union_all
from sqlalchemy import select as sa_select  # Core: more columns than sqlmodel's typed select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.store.models import Authorship, Claim, Coauthor, Institution, Researcher, ResearcherTopic, Topic
from services.store.sql import chunks, id_filters

# Frontier members per pair query (one UNION arm each).
FRONTIER_CHUNK = 20
NOBODY = 0  # the researcher an unused UNION arm looks up


# The statements below are built once: constructing them cost more than running them.
_MINE, _THEIRS = aliased(Authorship, name="mine"), aliased(Authorship, name="theirs")
_COAUTHOR_COUNTS = (
    select(col(_THEIRS.researcher_id), func.count(func.distinct(col(_MINE.work_id))))
    .select_from(_MINE)
    .join(_THEIRS, col(_THEIRS.work_id) == col(_MINE.work_id))
    .where(
        col(_MINE.researcher_id) == bindparam("researcher_id", type_=Integer),
        col(_THEIRS.researcher_id).is_not(None),
        col(_THEIRS.researcher_id) != bindparam("researcher_id", type_=Integer),
    )
    .group_by(col(_THEIRS.researcher_id))
)


# On PostgreSQL each work's byline is de-duplicated as the index hands it over (Unique on
# (work_id, researcher_id)) and the pairs are counted in a hash table: count(DISTINCT) sorted all
# 90,000 pairs of a member of 46 big collaborations, spilling to disk. Returned as two arrays.
_COAUTHOR_COUNTS_LATERAL = text(
    """
    SELECT array_agg(theirs.researcher_id), array_agg(theirs.works) FROM (
        SELECT byline.researcher_id, count(*) AS works
        FROM (SELECT DISTINCT work_id FROM authorship WHERE researcher_id = :researcher_id) AS mine
        CROSS JOIN LATERAL (
            SELECT DISTINCT authorship.researcher_id FROM authorship
            WHERE authorship.work_id = mine.work_id AND authorship.researcher_id IS NOT NULL
        ) AS byline
        WHERE byline.researcher_id <> :researcher_id
        GROUP BY byline.researcher_id
    ) AS theirs
    """
)


def list_coauthor_counts(*, session: Session, researcher_id: int) -> dict[int, int]:
    """Every co-author → shared works (all works, big collaborations included)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids, works = connection.execute(_COAUTHOR_COUNTS_LATERAL, {"researcher_id": researcher_id}).one()
        return dict(zip(ids or [], works or [], strict=True))
    rows = connection.execute(_COAUTHOR_COUNTS, {"researcher_id": researcher_id})
    return {rid: shared for rid, shared in rows.all() if rid is not None}


@functools.lru_cache(maxsize=1)
def _strongest_ties_statement() -> Any:
    """UNION ALL of FRONTIER_CHUNK copies of "researcher :rN's strongest ties", built once:
    constructing 20 subqueries costs SQLAlchemy more than the database takes to run them."""

    def strongest(n: int) -> Any:
        return (
            select(col(Coauthor.researcher_id), col(Coauthor.coauthor_id), col(Coauthor.works))
            .where(col(Coauthor.researcher_id) == bindparam(f"r{n}", type_=Integer))
            .order_by(col(Coauthor.works).desc(), col(Coauthor.coauthor_id).desc())
            .limit(bindparam("per_researcher", type_=Integer))
            .subquery()
        )

    return union_all(*(select(*strongest(n).c) for n in range(FRONTIER_CHUNK)))


# PostgreSQL walks every researcher's index range in one statement, a short text that psycopg
# and the server prepare once, and hands the edges back as three integer arrays: psycopg decodes
# an array in C, where 6,000 result rows cost more in Python than the query does.
_STRONGEST_TIES_LATERAL = text(
    """
    SELECT array_agg(frontier.id), array_agg(tie.coauthor_id), array_agg(tie.works)
    FROM unnest(CAST(:ids AS INTEGER[])) AS frontier(id)
    CROSS JOIN LATERAL (
        SELECT coauthor.coauthor_id, coauthor.works FROM coauthor
        WHERE coauthor.researcher_id = frontier.id
        ORDER BY coauthor.works DESC, coauthor.coauthor_id DESC
        LIMIT :per_researcher
    ) AS tie
    """
)


def list_strongest_ties(
    *, session: Session, researcher_ids: Sequence[int], per_researcher: int
) -> tuple[list[tuple[int, int, int]], bool]:
    """(researcher, co-author, shared small works) for each researcher's `per_researcher`
    strongest ties, in no particular order; and whether any researcher reached that cap.

    Each researcher's edges are read from the index in strength order up to the LIMIT (a UNION
    arm each on SQLite, a LATERAL join on PostgreSQL), so the cost follows the cap, not how
    prolific the co-authors are.
    """
    if per_researcher <= 0 or not researcher_ids:
        return [], False
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        found, coauthors, works = connection.execute(
            _STRONGEST_TIES_LATERAL, {"ids": list(researcher_ids), "per_researcher": per_researcher}
        ).one()
        found = found or []
        return list(zip(found, coauthors or [], works or [], strict=True)), _capped(found, per_researcher)
    statement = _strongest_ties_statement()
    ties: list[tuple[int, int, int]] = []
    for chunk in chunks(researcher_ids, FRONTIER_CHUNK):
        # Unused arms look up nobody (ids start at 1), so one compiled statement serves all.
        params = {f"r{i}": chunk[i] if i < len(chunk) else NOBODY for i in range(FRONTIER_CHUNK)}
        rows = connection.execute(statement, params | {"per_researcher": per_researcher})
        ties += [(r, c, n) for r, c, n in rows.all()]
    return ties, _capped([r for r, _, _ in ties], per_researcher)


def _capped(researchers: Sequence[int], per_researcher: int) -> bool:
    return max(Counter(researchers).values(), default=0) >= per_researcher


def list_links_among(*, session: Session, researcher_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(a, b, shared small works) for every stored co-author edge between two of the researchers,
    once each (a < b). For a picture's few dozen people: both ends are looked up in the index."""
    ids = sorted(set(researcher_ids))
    connection = session.connection()
    links = []
    for where in id_filters(connection, col(Coauthor.researcher_id), ids):
        rows = connection.execute(
            select(col(Coauthor.researcher_id), col(Coauthor.coauthor_id), col(Coauthor.works)).where(
                where, col(Coauthor.coauthor_id).in_(ids)
            )
        )
        links += [(a, b, works) for a, b, works in rows.all() if a < b]
    return sorted(links)


class PersonRow(NamedTuple):
    """What rankings and reasons need of a researcher (columns only: no ORM objects to build; a
    tuple, which costs a third of a frozen dataclass to make, for the few hundred per request)."""

    id: int
    name: str
    openalex_id: str | None
    open_to_collaborate: bool


class Standing(NamedTuple):
    """What a suggestion shows of a researcher besides the name."""

    affiliation: str | None  # the institution's name
    claimed: bool  # an approved claim: a member who can be invited to collaborate


_PEOPLE = sa_select(
    col(Researcher.id), col(Researcher.name), col(Researcher.openalex_id), col(Researcher.open_to_collaborate)
)
# At most one live claim per researcher (uq_claim_live_researcher): the join adds no rows.
_APPROVED = aliased(Claim, name="approved")
_STANDING = (
    sa_select(col(Researcher.id), col(Institution.name), col(_APPROVED.id))
    .outerjoin(Institution, col(Institution.id) == col(Researcher.institution_id))
    .outerjoin(
        _APPROVED,
        (col(_APPROVED.researcher_id) == col(Researcher.id)) & (col(_APPROVED.status) == "approved"),
    )
)


def _researcher_rows(session: Session, statement: Any, researcher_ids: Iterable[int]) -> Iterator[Any]:
    connection = session.connection()
    for where in id_filters(connection, col(Researcher.id), researcher_ids):
        yield from connection.execute(statement.where(where)).all()


# PostgreSQL hands the few hundred people of a request back as one row of arrays, which psycopg
# decodes in C: as rows, converting them cost more CPU in Python than the index look-ups took.
_PEOPLE_ARRAYS = text(
    """
    SELECT array_agg(id), array_agg(name), array_agg(openalex_id), array_agg(open_to_collaborate)
    FROM researcher WHERE id = ANY(CAST(:ids AS INTEGER[]))
    """
)
_STANDING_ARRAYS = text(
    """
    SELECT array_agg(researcher.id), array_agg(institution.name), array_agg(approved.id IS NOT NULL)
    FROM researcher
    LEFT JOIN institution ON institution.id = researcher.institution_id
    LEFT JOIN claim AS approved ON approved.researcher_id = researcher.id AND approved.status = 'approved'
    WHERE researcher.id = ANY(CAST(:ids AS INTEGER[]))
    """
)


def _researcher_arrays(
    session: Session, statement: Any, researcher_ids: Iterable[int]
) -> Iterator[Any] | None:
    """The rows of `statement` (a row of arrays) on PostgreSQL, as tuples; None elsewhere."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    ids = sorted(set(researcher_ids))
    if not ids:
        return iter(())
    columns = connection.execute(statement, {"ids": ids}).one()
    return zip(*(column or [] for column in columns), strict=True)


def list_people(*, session: Session, researcher_ids: Iterable[int]) -> dict[int, PersonRow]:
    """Researchers by id (missing ids are simply absent)."""
    rows = _researcher_arrays(session, _PEOPLE_ARRAYS, researcher_ids)
    if rows is None:
        rows = _researcher_rows(session, _PEOPLE, researcher_ids)
    return {row[0]: PersonRow._make(row) for row in rows}


def list_standing(*, session: Session, researcher_ids: Iterable[int]) -> dict[int, Standing]:
    """Researchers' affiliations and whether a member claimed the profile, by id."""
    arrays = _researcher_arrays(session, _STANDING_ARRAYS, researcher_ids)
    if arrays is not None:
        return {rid: Standing(affiliation, claimed) for rid, affiliation, claimed in arrays}
    rows = _researcher_rows(session, _STANDING, researcher_ids)
    return {rid: Standing(affiliation, claim is not None) for rid, affiliation, claim in rows}


_OWN_TOPIC, _THEIR_TOPIC = aliased(ResearcherTopic, name="own"), aliased(ResearcherTopic, name="theirs")
_SHARED_TOPICS = (
    select(col(_THEIR_TOPIC.researcher_id), col(_OWN_TOPIC.works), col(Topic.name))
    .select_from(_OWN_TOPIC)
    .join(_THEIR_TOPIC, col(_THEIR_TOPIC.topic_id) == col(_OWN_TOPIC.topic_id))
    .join(Topic, col(Topic.id) == col(_OWN_TOPIC.topic_id))
    .where(col(_OWN_TOPIC.researcher_id) == bindparam("researcher_id", type_=Integer))
)


_SHARED_TOPICS_ARRAYS = text(
    """
    SELECT array_agg(theirs.researcher_id), array_agg(own.works), array_agg(topic.name)
    FROM researcher_topic AS own
    JOIN researcher_topic AS theirs ON theirs.topic_id = own.topic_id
    JOIN topic ON topic.id = own.topic_id
    WHERE own.researcher_id = :researcher_id AND theirs.researcher_id = ANY(CAST(:ids AS INTEGER[]))
    """
)


def list_shared_topics(
    *, session: Session, researcher_id: int, others: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """Topics each of `others` shares with the researcher, the researcher's main topics first."""
    connection = session.connection()
    params = {"researcher_id": researcher_id}
    rows: Iterable[Any]
    if connection.dialect.name == "postgresql":
        ids = sorted(set(others))
        columns = connection.execute(_SHARED_TOPICS_ARRAYS, params | {"ids": ids}).one() if ids else ()
        rows = zip(*(column or [] for column in columns), strict=True)
    else:
        where = id_filters(connection, col(_THEIR_TOPIC.researcher_id), others)
        rows = (row for part in where for row in connection.execute(_SHARED_TOPICS.where(part), params).all())
    shared: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for rid, works, name in rows:
        shared[rid].append((-works, name))
    return {rid: tuple(name for _, name in sorted(topics)) for rid, topics in shared.items()}
