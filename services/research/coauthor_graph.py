"""The stored co-authorship graph (table `coauthor`): kept in step with authorship, read by
collaborator suggestions one researcher at a time.

An edge (r, c, works) says r and c share `works` works with at most MAX_AUTHORS_PER_WORK
authors; every edge is stored both ways. Whoever rewrites a byline reads the bylines before
(`read_bylines`) and records the change (`record_byline_changes`): only the pairs inside the
old and new small bylines move, by ±1 per work, in the same transaction as the authorship rows.
`REBUILD_SQL` derives the whole table from authorship (bulk loads; migration 0003 runs the same).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import permutations
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from services.store.models import Authorship, Coauthor, Work
from services.store.sql import chunks, conflict_insert, id_filters

# Works with more authors than this say little about who works with whom (a 3,000-author
# detector paper would make every author everyone's neighbour, and 9 million edges): they are
# left out of the graph, and so of the card's close collaborators. The card's works count and
# /peer collaborators' close list still count them.
MAX_AUTHORS_PER_WORK = 25

# Every edge, derived from authorship alone.
DERIVE_SQL = f"""
SELECT mine.researcher_id, theirs.researcher_id, count(DISTINCT mine.work_id)
FROM authorship AS mine
JOIN work ON work.id = mine.work_id
JOIN authorship AS theirs ON theirs.work_id = mine.work_id
WHERE work.author_count <= {MAX_AUTHORS_PER_WORK}
  AND mine.researcher_id IS NOT NULL
  AND theirs.researcher_id IS NOT NULL
  AND theirs.researcher_id <> mine.researcher_id
GROUP BY mine.researcher_id, theirs.researcher_id
"""
REBUILD_SQL = f"INSERT INTO coauthor (researcher_id, coauthor_id, works) {DERIVE_SQL}"


@dataclass(frozen=True)
class Byline:
    """The researchers on one work (unlinked names left out) and its number of authors."""

    researchers: frozenset[int]
    author_count: int

    @property
    def small(self) -> bool:
        return self.author_count <= MAX_AUTHORS_PER_WORK


def read_bylines(*, session: Session, work_ids: Iterable[int]) -> dict[int, Byline]:
    """The stored bylines of the given works (works without authorship rows are absent)."""
    found: dict[int, tuple[set[int], int]] = {}
    connection = session.connection()
    for where in id_filters(connection, col(Authorship.work_id), work_ids):
        rows = connection.execute(
            select(col(Authorship.work_id), col(Authorship.researcher_id), col(Work.author_count))
            .join(Work, col(Work.id) == col(Authorship.work_id))
            .where(where)
        )
        for work_id, rid, author_count in rows:
            researchers, _ = found.setdefault(work_id, (set(), author_count))
            if rid is not None:
                researchers.add(rid)
    return {wid: Byline(frozenset(rids), count) for wid, (rids, count) in found.items()}


def byline_delta(before: Mapping[int, Byline], after: Mapping[int, Byline]) -> Counter[tuple[int, int]]:
    """How each ordered pair's shared small works change when `before` bylines become `after`."""
    delta: Counter[tuple[int, int]] = Counter()
    for work_id in before.keys() | after.keys():
        for sign, byline in ((-1, before.get(work_id)), (1, after.get(work_id))):
            if byline is not None and byline.small:
                for pair in permutations(byline.researchers, 2):
                    delta[pair] += sign
    return Counter({pair: n for pair, n in delta.items() if n})  # pairs that came out even drop


def record_byline_changes(
    *, session: Session, before: Mapping[int, Byline], after: Mapping[int, Byline]
) -> int:
    """Apply a byline change to the stored graph; returns how many edges moved."""
    delta = byline_delta(before, after)
    if not delta:
        return 0
    session.flush()
    rows = [{"researcher_id": r, "coauthor_id": c, "works": n} for (r, c), n in sorted(delta.items())]
    upsert: Any = conflict_insert(session.connection())(Coauthor)
    upsert = upsert.on_conflict_do_update(
        index_elements=["researcher_id", "coauthor_id"],
        set_={"works": col(Coauthor.works) + upsert.excluded.works},
    )
    for chunk in chunks(rows):
        session.execute(upsert, list(chunk))
    for touched in id_filters(session.connection(), col(Coauthor.researcher_id), (r for r, _ in delta)):
        session.execute(delete(Coauthor).where(touched, col(Coauthor.works) <= 0))
    return len(rows)
