"""Close collaborators (co-authors) and suggested collaborators (link prediction on the
co-authorship graph around one researcher, loaded from the store with hard caps, never whole).

Scoring a candidate c for researcher r:

    score = adamic_adar(r, c) + TOPIC_WEIGHT × min(shared topics, MAX_TOPICS_COUNTED)

Adamic-Adar sums 1 / log(degree) over the co-authors r and c share, in the ego network made of
r, r's strongest co-authors (the frontier) and each one's own strongest co-authors, read from
the stored graph (coauthor_graph.py: works with at most MAX_AUTHORS_PER_WORK authors); a shared
co-author who writes with everybody counts for little. Topics are read only for the
candidates that could still make the list with every topic counted. Suggestions are ordered
open-to-collaborate first, higher score, more shared co-authors, name (accent- and case-folded),
id: the tie rule, so equal candidates always come out in the same order on every database.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.research.collaborator_queries import (
    PersonRow,
    Standing,
    list_coauthor_counts,
    list_people,
    list_shared_topics,
    list_standing,
    list_strongest_ties,
)
from services.research.profiles import Resolved, find_researcher
from services.store.models import Researcher
from services.store.text import normalize_name

T = TypeVar("T")

# The 2-hop search starts from the researcher's strongest co-authors only (most shared small
# works): a hub's 800th co-author adds little signal but would multiply the pairs loaded.
MAX_FRONTIER = 100
# Each frontier member contributes their own strongest ties, at most this many: a hub
# co-author's 5,000 co-authors would otherwise dominate the request. So one request reads at
# most MAX_FRONTIER × MAX_PAIRS_PER_COAUTHOR edges, whatever the store.
MAX_PAIRS_PER_COAUTHOR = 60
# The best candidates by Adamic-Adar that go on to the topic blend and the open-first order;
# names and openness are only loaded for these, topics only for those that can still make the
# list (contenders).
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
    close: tuple[CloseCollaborator, ...]  # the strongest (CLOSE_SHOWN unless the limits say)
    close_total: int
    suggestions: tuple[Suggestion, ...]
    stats: SearchStats


@dataclass(frozen=True)
class Limits:
    """The caps above, overridable (tests compare a capped search with an unbounded one)."""

    max_frontier: int = MAX_FRONTIER
    max_pairs_per_coauthor: int = MAX_PAIRS_PER_COAUTHOR
    suggestions: int = SUGGESTIONS
    # Close collaborators kept (the graph picture draws more than the message lists).
    close_shown: int = CLOSE_SHOWN


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


def first_ranked(
    items: Iterable[T], wanted: int, key: Callable[[T], Any], tie_break: Callable[[T], Any]
) -> list[T]:
    """The first `wanted` items in (key, tie_break) order. The tie break (a folded name) costs
    more than the key, so it is computed only for the items tied with the last one kept."""
    ranked = sorted(items, key=key)
    if len(ranked) > wanted:
        last = key(ranked[wanted - 1])
        ranked = list(itertools.takewhile(lambda item: key(item) <= last, ranked))
    return sorted(ranked, key=lambda item: (key(item), tie_break(item)))[:wanted]


def _close_contenders(counts: dict[int, int], shown: int) -> list[int]:
    """The co-authors that can make the `shown` strongest (ties at the cut included)."""
    if not counts or shown <= 0:
        return []
    shared = sorted(counts.values(), reverse=True)
    cutoff = shared[min(shown, len(shared)) - 1]
    return [rid for rid, n in counts.items() if n >= cutoff]


def _close(
    people: dict[int, PersonRow], contenders: list[int], counts: dict[int, int], shown: int
) -> tuple[CloseCollaborator, ...]:
    """The `shown` strongest co-authors: most shared works, then name, then id."""
    ranked = first_ranked(
        (people[rid] for rid in contenders if rid in people),
        shown,
        key=lambda r: -counts[r.id],
        tie_break=lambda r: (normalize_name(r.name), r.id),
    )
    return tuple(
        CloseCollaborator(id=r.id, name=r.name, shared_works=counts[r.id], openalex_id=r.openalex_id)
        for r in ranked
    )


def collaborators_of(*, session: Session, researcher: Researcher, limits: Limits) -> Collaborators:
    """Close collaborators and up to `limits.suggestions` suggestions, from the neighbourhood only."""
    rid = researcher.id
    assert rid is not None
    counts = list_coauthor_counts(session=session, researcher_id=rid)
    ties, capped = list_strongest_ties(
        session=session, researcher_ids=[rid], per_researcher=limits.max_frontier
    )
    strength = {c: works for _, c, works in ties}
    frontier = list(strength)
    found, cut = list_strongest_ties(
        session=session, researcher_ids=frontier, per_researcher=limits.max_pairs_per_coauthor
    )
    pairs = [(z, c) for z, c, _ in found]  # distinct: (researcher, co-author) is coauthor's key
    candidates, link, common = adamic_adar(rid, frontier, pairs, exclude=set(counts))
    pool = sorted(candidates, key=lambda c: (-link[c], c))[:SCORING_POOL]
    # Names for the close list, the pool and the co-authors they share (the reasons), in one read.
    close_contenders = _close_contenders(counts, limits.close_shown)
    wanted = {*close_contenders, *pool, *(z for c in pool for z in common[c])}
    people = list_people(session=session, researcher_ids=wanted)
    close = _close(people, close_contenders, counts, limits.close_shown)
    suggestions = _rank(session, rid, people, pool, link, common, strength, limits.suggestions)
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
    # Only the shared co-authors' degrees count, and those are all frontier members.
    neighbours: dict[int, set[int]] = {z: {rid} for z in frontier}
    common: dict[int, set[int]] = defaultdict(set)
    for z, c in pairs:
        neighbours[z].add(c)
        if c in neighbours:
            neighbours[c].add(z)
        elif c != rid and c not in exclude:
            common[c].add(z)  # a candidate: neither rid nor a co-author already
    # A shared co-author has rid and the candidate as neighbours: the degree is at least 2.
    weight = {z: 1 / math.log(len(ns)) for z, ns in neighbours.items() if len(ns) > 1}
    link = {c: round(sum(map(weight.__getitem__, zs)), 9) for c, zs in common.items()}
    return sorted(common), link, common


def blended(link_score: float, shared_topics: int) -> float:
    """The score suggestions are ordered by: link score plus the capped topic bonus (9 places,
    so equal sums compare equal whatever the order of addition)."""
    return round(link_score + TOPIC_WEIGHT * min(shared_topics, MAX_TOPICS_COUNTED), 9)


def contenders(
    pool: Sequence[int], link: dict[int, float], is_open: dict[int, bool], wanted: int
) -> list[int]:
    """The pool members that can still be among the first `wanted` once topics are blended in.

    Topics add at most blended(0, MAX_TOPICS_COUNTED) to a link score, and open candidates come
    first. A candidate is out when `wanted` others are sure to rank before it: everyone in a
    better class (open before not open), plus those of its own class whose link score alone
    beats the best score it could reach. So only the contenders' topics need reading (of a full
    pool of 200, a median of 28 on the benchmark store), and the order among them is the same as
    if every candidate's topics had been read.
    """
    links: dict[bool, list[float]] = {True: [], False: []}  # each class's link scores, best first
    for c in pool:
        links[is_open[c]].append(link[c])
    for scores in links.values():
        scores.sort(reverse=True)
    kept = []
    for c in pool:
        room = wanted - (0 if is_open[c] else len(links[True]))  # the open all rank before the closed
        same = links[is_open[c]]
        if room > 0 and not (len(same) >= room and blended(link[c], MAX_TOPICS_COUNTED) < same[room - 1]):
            kept.append(c)
    return kept


def _rank(
    session: Session,
    rid: int,
    people: dict[int, PersonRow],
    pool: list[int],
    link: dict[int, float],
    common: dict[int, set[int]],
    strength: dict[int, int],
    wanted: int,
) -> tuple[Suggestion, ...]:
    """Blend topics into the pool's link scores, order open-first, and explain the chosen few."""
    if not pool:
        return ()
    found = [c for c in pool if c in people]
    is_open = {c: people[c].open_to_collaborate for c in found}
    kept = contenders(found, link, is_open, wanted)
    topics = list_shared_topics(session=session, researcher_id=rid, others=kept)

    def score(c: int) -> float:
        return blended(link[c], len(topics.get(c, ())))

    chosen = first_ranked(
        kept,
        wanted,
        key=lambda c: (not is_open[c], -score(c), -len(common[c])),
        tie_break=lambda c: (normalize_name(people[c].name), c),
    )
    standing = list_standing(session=session, researcher_ids=chosen)
    unknown = Standing(affiliation=None, claimed=False)  # deleted since the first read
    suggestions = []
    for c in chosen:
        # The strongest ties of the researcher first (the reason names the first few).
        shared = first_ranked(
            (z for z in common[c] if z in people),
            REASONS_KEPT,
            key=lambda z: -strength.get(z, 0),
            tie_break=lambda z: (normalize_name(people[z].name), z),
        )
        suggestions.append(
            Suggestion(
                id=c,
                name=people[c].name,
                affiliation=standing.get(c, unknown).affiliation,
                open_to_collaborate=is_open[c],
                score=score(c),
                link_score=link[c],
                shared_coauthors=tuple(Person(z, people[z].name) for z in shared),
                shared_coauthor_count=len(common[c]),
                shared_topics=topics.get(c, ())[:REASONS_KEPT],
                claimed=standing.get(c, unknown).claimed,
            )
        )
    return tuple(suggestions)
