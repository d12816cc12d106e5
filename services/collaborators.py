"""Close collaborators (co-authors) and suggested collaborators (link prediction on the
co-authorship graph around one researcher, loaded from the store with hard caps, never whole).

Scoring a candidate c for researcher r:

    score = adamic_adar(r, c) + TOPIC_WEIGHT × min(shared topics, MAX_TOPICS_COUNTED)

Adamic-Adar sums 1 / log(degree) over the co-authors r and c share, in the ego network made of
r, r's strongest co-authors (the frontier) and each one's own strongest co-authors, read from
the stored graph (services/coauthors.py: works with at most MAX_AUTHORS_PER_WORK authors); a
shared co-author who writes with everybody counts for little. Suggestions are then ordered
open-to-collaborate first, higher score, more shared co-authors, name (accent- and case-folded),
id: the tie rule, so equal candidates always come out in the same order on every database.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, func, text, union_all
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.db import chunks
from services.models import Authorship, Claim, Coauthor, Institution, Researcher, ResearcherTopic, Topic
from services.profiles import Resolved, find_researcher
from services.text import normalize_name

# The 2-hop search starts from the researcher's strongest co-authors only (most shared small
# works): a hub's 800th co-author adds little signal but would multiply the pairs loaded.
MAX_FRONTIER = 100
# Each frontier member contributes their own strongest ties, at most this many: a hub
# co-author's 5,000 co-authors would otherwise dominate the request. So one request reads at
# most MAX_FRONTIER × MAX_PAIRS_PER_COAUTHOR edges, whatever the store.
MAX_PAIRS_PER_COAUTHOR = 60
# Frontier members per pair query (one UNION arm each).
FRONTIER_CHUNK = 20
NOBODY = 0  # the researcher an unused UNION arm looks up
# The best candidates by Adamic-Adar that go on to the topic blend and the open-first order;
# names, openness and topics are only loaded for these.
SCORING_POOL = 200
# One shared topic weighs about as much as one shared co-author of moderate degree (1/log 7).
TOPIC_WEIGHT = 0.5
MAX_TOPICS_COUNTED = 3
SUGGESTIONS = 5
CLOSE_SHOWN = 10
# Shared co-authors and topics kept per suggestion (the reason names a few of them).
REASONS_KEPT = 10


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class CloseCollaborator:
    id: int
    name: str
    shared_works: int
    openalex_id: str | None


@dataclass(frozen=True)
class Suggestion:
    id: int
    name: str
    affiliation: str | None
    open_to_collaborate: bool
    score: float  # the blend the order uses
    link_score: float  # Adamic-Adar alone
    # The researcher's co-authors who also wrote with this person, strongest ties first.
    shared_coauthors: tuple[Person, ...]
    shared_coauthor_count: int
    shared_topics: tuple[str, ...]
    claimed: bool = False  # an approved claim: a member who can be invited to collaborate


@dataclass(frozen=True)
class SearchStats:
    """How much of the graph one request loaded, and whether a cap cut it short."""

    frontier: int
    pairs_loaded: int
    candidates: int
    capped: bool


@dataclass(frozen=True)
class Collaborators:
    researcher_id: int
    researcher_name: str
    close: tuple[CloseCollaborator, ...]  # the CLOSE_SHOWN strongest
    close_total: int
    suggestions: tuple[Suggestion, ...]
    stats: SearchStats


@dataclass(frozen=True)
class Limits:
    """The caps above, overridable (tests compare a capped search with an unbounded one)."""

    max_frontier: int = MAX_FRONTIER
    max_pairs_per_coauthor: int = MAX_PAIRS_PER_COAUTHOR
    suggestions: int = SUGGESTIONS


class CollaboratorService:
    """Who a researcher works with, and who they should work with next."""

    def __init__(self, engine: Engine, *, limits: Limits | None = None) -> None:
        self._engine = engine
        self._limits = limits or Limits()

    def find(self, query: str) -> Resolved[Collaborators]:
        """Collaborators of whoever QUERY names, or why there are none (pick list, nobody…)."""
        with Session(self._engine) as session:
            lookup, researcher = find_researcher(session=session, query=query)
            if researcher is None:
                return Resolved(lookup)
            return Resolved(
                lookup, collaborators_of(session=session, researcher=researcher, limits=self._limits)
            )

    def collaborators(self, researcher_id: int) -> Collaborators | None:
        """Close and suggested collaborators of one researcher; None when they are gone."""
        with Session(self._engine) as session:
            researcher = session.get(Researcher, researcher_id)
            if researcher is None:
                return None
            return collaborators_of(session=session, researcher=researcher, limits=self._limits)


def list_coauthor_counts(*, session: Session, researcher_id: int) -> dict[int, int]:
    """Every co-author → shared works (all works, big collaborations included)."""
    mine, theirs = aliased(Authorship), aliased(Authorship)
    rows = session.connection().execute(
        select(col(theirs.researcher_id), func.count(func.distinct(col(mine.work_id))))
        .select_from(mine)
        .join(theirs, col(theirs.work_id) == col(mine.work_id))
        .where(
            col(mine.researcher_id) == researcher_id,
            col(theirs.researcher_id).is_not(None),
            col(theirs.researcher_id) != researcher_id,
        )
        .group_by(col(theirs.researcher_id))
    )
    return {rid: shared for rid, shared in rows if rid is not None}


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


# PostgreSQL walks every researcher's index range in one statement: a short text that psycopg
# and the server prepare once, where the UNION's 5,000 characters were converted every time.
_STRONGEST_TIES_LATERAL = text(
    """
    SELECT frontier.id, tie.coauthor_id, tie.works
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
    strongest ties, strongest first; and whether any researcher reached that cap.

    Each researcher's edges are read from the index in strength order up to the LIMIT (a UNION
    arm each on SQLite, a LATERAL join on PostgreSQL), so the cost follows the cap, not how
    prolific the co-authors are.
    """
    ties: list[tuple[int, int, int]] = []
    if per_researcher <= 0 or not researcher_ids:
        return ties, False
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            _STRONGEST_TIES_LATERAL, {"ids": list(researcher_ids), "per_researcher": per_researcher}
        )
        # One fetchall: row by row, psycopg costs more than the query does.
        ties = [(r, c, n) for r, c, n in rows.all()]
        return ties, _capped(ties, per_researcher)
    statement = _strongest_ties_statement()
    for start in range(0, len(researcher_ids), FRONTIER_CHUNK):
        chunk = researcher_ids[start : start + FRONTIER_CHUNK]
        # Unused arms look up nobody (ids start at 1), so one compiled statement serves all.
        params = {f"r{i}": chunk[i] if i < len(chunk) else NOBODY for i in range(FRONTIER_CHUNK)}
        rows = connection.execute(statement, params | {"per_researcher": per_researcher})
        ties += [(r, c, n) for r, c, n in rows]
    return ties, _capped(ties, per_researcher)


def _capped(ties: list[tuple[int, int, int]], per_researcher: int) -> bool:
    return max(Counter(r for r, _, _ in ties).values(), default=0) >= per_researcher


@dataclass(frozen=True)
class PersonRow:
    """What rankings and reasons need of a researcher (columns only: no ORM objects to build)."""

    id: int
    name: str
    openalex_id: str | None
    open_to_collaborate: bool


def list_people(*, session: Session, researcher_ids: Iterable[int]) -> dict[int, PersonRow]:
    """Researchers by id (missing ids are simply absent)."""
    found: dict[int, PersonRow] = {}
    for chunk in chunks(sorted(set(researcher_ids))):
        rows = session.connection().execute(
            select(
                col(Researcher.id),
                col(Researcher.name),
                col(Researcher.openalex_id),
                col(Researcher.open_to_collaborate),
            ).where(col(Researcher.id).in_(chunk))
        )
        for rid, name, openalex_id, open_ in rows:
            if rid is not None:
                found[rid] = PersonRow(rid, name, openalex_id, open_)
    return found


def list_claimed(*, session: Session, researcher_ids: Sequence[int]) -> set[int]:
    """Those of the given researchers whose profile has an approved claim."""
    if not researcher_ids:
        return set()
    rows = session.connection().execute(
        select(col(Claim.researcher_id)).where(
            col(Claim.researcher_id).in_(researcher_ids), col(Claim.status) == "approved"
        )
    )
    return {rid for (rid,) in rows}


def list_affiliations(*, session: Session, researcher_ids: Sequence[int]) -> dict[int, str]:
    """Institution names of the given researchers (those without one are absent)."""
    if not researcher_ids:
        return {}
    rows = session.connection().execute(
        select(col(Researcher.id), col(Institution.name))
        .join(Institution, col(Institution.id) == col(Researcher.institution_id))
        .where(col(Researcher.id).in_(researcher_ids))
    )
    return {rid: name for rid, name in rows if rid is not None}


def list_shared_topics(
    *, session: Session, researcher_id: int, others: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """Topics each of `others` shares with the researcher, the researcher's main topics first."""
    own = (
        session.connection()
        .execute(
            select(col(Topic.id), col(Topic.name))
            .join(ResearcherTopic, col(ResearcherTopic.topic_id) == col(Topic.id))
            .where(col(ResearcherTopic.researcher_id) == researcher_id)
            .order_by(col(ResearcherTopic.works).desc(), col(Topic.name))
        )
        .all()
    )
    if not own or not others:
        return {}
    rank = {tid: (i, name) for i, (tid, name) in enumerate(own) if tid is not None}
    rows = session.connection().execute(
        select(col(ResearcherTopic.researcher_id), col(ResearcherTopic.topic_id)).where(
            col(ResearcherTopic.researcher_id).in_(others),
            col(ResearcherTopic.topic_id).in_(list(rank)),
        )
    )
    shared: dict[int, list[tuple[int, str]]] = {}
    for rid, tid in rows:
        shared.setdefault(int(rid), []).append(rank[int(tid)])
    return {rid: tuple(name for _, name in sorted(topics)) for rid, topics in shared.items()}


def _folded(name: str) -> str:
    return normalize_name(name)


def _close(session: Session, counts: dict[int, int]) -> tuple[CloseCollaborator, ...]:
    """The CLOSE_SHOWN strongest co-authors: most shared works, then name, then id."""
    if not counts:
        return ()
    shared = sorted(counts.values(), reverse=True)
    cutoff = shared[min(CLOSE_SHOWN, len(shared)) - 1]
    # Only the co-authors that can make the list (ties at the cut included) need their names.
    people = list_people(session=session, researcher_ids=[rid for rid, n in counts.items() if n >= cutoff])
    ranked = sorted(people.values(), key=lambda r: (-counts[r.id], _folded(r.name), r.id))
    return tuple(
        CloseCollaborator(id=r.id, name=r.name, shared_works=counts[r.id], openalex_id=r.openalex_id)
        for r in ranked[:CLOSE_SHOWN]
    )


def collaborators_of(*, session: Session, researcher: Researcher, limits: Limits) -> Collaborators:
    """Close collaborators and up to `limits.suggestions` suggestions, from the neighbourhood only."""
    rid = researcher.id
    assert rid is not None
    counts = list_coauthor_counts(session=session, researcher_id=rid)
    close = _close(session, counts)
    ties, capped = list_strongest_ties(
        session=session, researcher_ids=[rid], per_researcher=limits.max_frontier
    )
    strength = {c: works for _, c, works in ties}
    frontier = list(strength)
    found, cut = list_strongest_ties(
        session=session, researcher_ids=frontier, per_researcher=limits.max_pairs_per_coauthor
    )
    pairs = sorted({(z, c) for z, c, _ in found})
    candidates, link, common = adamic_adar(rid, frontier, pairs, exclude=set(counts))
    pool = sorted(candidates, key=lambda c: (-link[c], c))[:SCORING_POOL]
    suggestions = _rank(session, rid, pool, link, common, strength, limits.suggestions)
    stats = SearchStats(
        frontier=len(frontier),
        pairs_loaded=len(pairs),
        candidates=len(candidates),
        capped=capped or cut,
    )
    return Collaborators(
        researcher_id=rid,
        researcher_name=researcher.name,
        close=close,
        close_total=len(counts),
        suggestions=suggestions,
        stats=stats,
    )


def adamic_adar(
    rid: int, frontier: Sequence[int], pairs: Sequence[tuple[int, int]], *, exclude: set[int]
) -> tuple[list[int], dict[int, float], dict[int, set[int]]]:
    """Adamic-Adar of `rid` with every 2-hop candidate of its ego network.

    The ego network is rid–frontier edges plus the (frontier member, co-author) `pairs`; the
    score is networkx's `adamic_adar_index` on that graph (tests check it against networkx), but
    one pass over the pairs instead of building a Graph: 20,000 pairs cost ~10 ms, not ~150.
    Returns the candidates (not rid, not in `exclude`), their scores rounded to 9 places so equal
    sums compare equal whatever the order of addition, and each one's shared co-authors.
    """
    degree: dict[int, set[int]] = defaultdict(set)
    for z in frontier:
        degree[z].add(rid)
    for z, c in pairs:
        degree[z].add(c)
        degree[c].add(z)
    mine = set(frontier)
    common: dict[int, set[int]] = defaultdict(set)
    for z, c in pairs:
        # Pairs start at a frontier member; a candidate is neither rid nor a co-author already.
        if z in mine and c != rid and c not in exclude and c not in mine:
            common[c].add(z)
    link = {c: round(sum(1 / math.log(len(degree[z])) for z in zs), 9) for c, zs in common.items()}
    return sorted(common), link, common


def _rank(
    session: Session,
    rid: int,
    pool: list[int],
    link: dict[int, float],
    common: dict[int, set[int]],
    strength: dict[int, int],
    wanted: int,
) -> tuple[Suggestion, ...]:
    """Blend topics into the pool's link scores, order open-first, and explain the chosen few."""
    if not pool:
        return ()
    people = list_people(session=session, researcher_ids=pool)
    topics = list_shared_topics(session=session, researcher_id=rid, others=pool)

    def score(c: int) -> float:
        return round(link[c] + TOPIC_WEIGHT * min(len(topics.get(c, ())), MAX_TOPICS_COUNTED), 9)

    chosen = sorted(
        (c for c in pool if c in people),
        key=lambda c: (
            not people[c].open_to_collaborate,
            -score(c),
            -len(common[c]),
            _folded(people[c].name),
            c,
        ),
    )[:wanted]
    bridges = list_people(session=session, researcher_ids={z for c in chosen for z in common[c]})
    affiliations = list_affiliations(session=session, researcher_ids=chosen)
    claimed = list_claimed(session=session, researcher_ids=chosen)

    def strongest_first(z: int) -> tuple[int, str, int]:
        return (-strength.get(z, 0), _folded(bridges[z].name), z)

    suggestions = []
    for c in chosen:
        person = people[c]
        shared = sorted((z for z in common[c] if z in bridges), key=strongest_first)
        suggestions.append(
            Suggestion(
                id=c,
                name=person.name,
                affiliation=affiliations.get(c),
                open_to_collaborate=person.open_to_collaborate,
                score=score(c),
                link_score=link[c],
                shared_coauthors=tuple(Person(z, bridges[z].name) for z in shared[:REASONS_KEPT]),
                shared_coauthor_count=len(common[c]),
                shared_topics=topics.get(c, ())[:REASONS_KEPT],
                claimed=c in claimed,
            )
        )
    return tuple(suggestions)
