"""Where `/peer collaborators` and papers paging spend their time, next to cheaper shapes.

    python -m benchmarks.collab_hotspots --database-url sqlite:////tmp/bzbench/store_200k.db

For a sample of hubs (top 1 % by works) and typical researchers, each step of
`services.collaborators.collaborators_of` is timed on its own, then two alternatives:
  A. the same pairs (same chunks, same caps, so the same scores) read as plain rows through
     the Core connection, and Adamic-Adar summed in a dict instead of a networkx graph;
  B. Adamic-Adar aggregated in one SQL statement over the frontier (no pair cap; the degree of
     a shared co-author is their whole small-works degree), 200 best candidates returned.
Papers: the page query as it is at the first, middle and last page of the biggest lists, next
to sorting ids only (then reading five works), and counting through authorship alone.
Nothing here changes services/; the alternatives are what RESULTS.md suggests.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from statistics import median
from typing import Any

import networkx as nx
from rich.console import Console
from rich.table import Table
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from benchmarks.bench_collab import top_share, works_per_researcher
from benchmarks.collab_tables import pct
from services.collaborators import (
    FRONTIER_CHUNK,
    MAX_AUTHORS_PER_WORK,
    MAX_FRONTIER,
    MAX_PAIRS,
    SCORING_POOL,
    Limits,
    _close,
    _rank,
    collaborators_of,
    list_coauthor_counts,
    list_coauthor_pairs,
)
from services.db import make_engine
from services.models import Researcher
from services.papers import PAGE_SIZE, PaperFilters, count_papers, list_papers

_PAIRS = text(
    "SELECT DISTINCT a1.researcher_id, a2.researcher_id FROM authorship a1 "
    "JOIN work w ON w.id = a1.work_id JOIN authorship a2 ON a2.work_id = a1.work_id "
    "WHERE a1.researcher_id IN :ids AND w.author_count <= :cap AND a2.researcher_id IS NOT NULL "
    "AND a2.researcher_id <> a1.researcher_id ORDER BY a1.researcher_id, a2.researcher_id LIMIT :lim"
).bindparams(bindparam("ids", expanding=True))

_AA_IN_SQL = text(
    "WITH pairs AS (SELECT DISTINCT a1.researcher_id AS z, a2.researcher_id AS c FROM authorship a1 "
    "  JOIN work w ON w.id = a1.work_id JOIN authorship a2 ON a2.work_id = a1.work_id "
    "  WHERE a1.researcher_id IN :ids AND w.author_count <= :cap AND a2.researcher_id IS NOT NULL "
    "  AND a2.researcher_id <> a1.researcher_id), "
    "deg AS (SELECT z, count(*) AS d FROM pairs GROUP BY z) "
    "SELECT p.c, sum(1.0 / ln(d.d)) AS aa, count(*) AS shared FROM pairs p JOIN deg d ON d.z = p.z "
    "WHERE p.c <> :rid GROUP BY p.c ORDER BY aa DESC, p.c LIMIT :lim"
).bindparams(bindparam("ids", expanding=True))


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def frontier_of(counts: dict[int, tuple[int, int]]) -> list[int]:
    """The service's frontier: strongest small-work ties first, ids break ties."""
    ties = sorted(
        ((small, cid) for cid, (_, small) in counts.items() if small > 0), key=lambda t: (-t[0], t[1])
    )
    return [cid for _, cid in ties[:MAX_FRONTIER]]


def pairs_orm(session: Session, frontier: list[int]) -> list[tuple[int, int]]:
    """The service's chunked pair loading, as it is."""
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(frontier), FRONTIER_CHUNK):
        if MAX_PAIRS - len(pairs) <= 0:
            break
        pairs += list_coauthor_pairs(
            session=session,
            researcher_ids=frontier[start : start + FRONTIER_CHUNK],
            max_authors=MAX_AUTHORS_PER_WORK,
            limit=MAX_PAIRS - len(pairs),
        )
    return pairs


def pairs_core(conn: Connection, frontier: list[int]) -> list[tuple[int, int]]:
    """Alternative A's pairs: the same chunks and caps, plain rows (no ORM row processing)."""
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(frontier), FRONTIER_CHUNK):
        remaining = MAX_PAIRS - len(pairs)
        if remaining <= 0:
            break
        params = {
            "ids": frontier[start : start + FRONTIER_CHUNK],
            "cap": MAX_AUTHORS_PER_WORK,
            "lim": remaining,
        }
        pairs += [(a, b) for a, b in conn.execute(_PAIRS, params)]
    return pairs


def aa_networkx(rid: int, frontier: list[int], pairs: list[tuple[int, int]], known: set[int]) -> list[int]:
    """The service's scoring: a networkx ego graph and adamic_adar_index, best SCORING_POOL."""
    graph = nx.Graph()
    graph.add_edges_from((rid, cid) for cid in frontier)
    graph.add_edges_from(pairs)
    candidates = sorted({b for _, b in pairs} - known - {rid})
    link = {c: round(p, 9) for _, c, p in nx.adamic_adar_index(graph, [(rid, c) for c in candidates])}
    return sorted(candidates, key=lambda c: (-link[c], c))[:SCORING_POOL]


def aa_dict(rid: int, frontier: list[int], pairs: list[tuple[int, int]], known: set[int]) -> list[int]:
    """Alternative A's scoring: the same ego graph's Adamic-Adar, summed in dicts.

    Every edge between a shared co-author z (a frontier member) and a candidate c is a loaded
    pair (z, c), so one pass over the pairs adds 1 / log(degree of z) to each candidate.
    """
    neighbours: dict[int, set[int]] = defaultdict(set)
    for cid in frontier:
        neighbours[rid].add(cid)
        neighbours[cid].add(rid)
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    mine = neighbours[rid]
    # A co-author whose only neighbour is the researcher shares nobody (and log 1 = 0).
    weight = {z: 1.0 / math.log(len(neighbours[z])) for z in mine if len(neighbours[z]) > 1}
    score: dict[int, float] = defaultdict(float)
    for z, c in pairs:
        if z in weight and c not in known and c != rid:
            score[c] += weight[z]
    return sorted(score, key=lambda c: (-round(score[c], 9), c))[:SCORING_POOL]


def aa_sql(conn: Connection, rid: int, frontier: list[int], known: set[int]) -> list[int]:
    """Alternative B: Adamic-Adar in one statement; known co-authors dropped from the answer."""
    if not frontier:
        return []
    params = {"ids": frontier, "cap": MAX_AUTHORS_PER_WORK, "rid": rid, "lim": SCORING_POOL + len(known)}
    rows = [(c, aa, shared) for c, aa, shared in conn.execute(_AA_IN_SQL, params)]
    return [c for c, _, _ in rows if c not in known][:SCORING_POOL]


def collab_rows(session: Session, rid: int) -> dict[str, float | int]:
    """Every step of one collaborators_of call, then the alternatives, in seconds."""
    researcher = session.get(Researcher, rid)
    assert researcher is not None
    out: dict[str, float | int] = {}
    out["service (whole)"], _ = timed(
        lambda: collaborators_of(session=session, researcher=researcher, limits=Limits())
    )
    out["1 list_coauthor_counts"], counts = timed(
        lambda: list_coauthor_counts(session=session, researcher_id=rid, max_authors=MAX_AUTHORS_PER_WORK)
    )
    out["2 close collaborators"], _ = timed(lambda: _close(session, counts))
    frontier = frontier_of(counts)
    out["3 pairs (ORM, chunked)"], pairs = timed(lambda: pairs_orm(session, frontier))
    known = set(counts)
    out["4 networkx graph + AA + pool"], pool = timed(lambda: aa_networkx(rid, frontier, pairs, known))
    graph = nx.Graph()
    graph.add_edges_from((rid, cid) for cid in frontier)
    graph.add_edges_from(pairs)
    link = {c: 1.0 for c in pool}
    out["5 rank pool (names, topics, reasons)"], _ = timed(
        lambda: _rank(session, rid, graph, pool, link, counts, 5)
    )
    conn = session.connection()
    out["A pairs (Core rows)"], core_pairs = timed(lambda: pairs_core(conn, frontier))
    out["A AA in dicts"], pool_a = timed(lambda: aa_dict(rid, frontier, core_pairs, known))
    out["B AA in one SQL"], pool_b = timed(lambda: aa_sql(conn, rid, frontier, known))
    out["pairs"] = len(pairs)
    out["A same top 5"] = int(pool_a[:5] == pool[:5])
    out["B top 5 ∩ current top 5"] = len(set(pool_b[:5]) & set(pool[:5]))
    return out


# Sort ids and their sort keys only (the service sorts whole work rows, abstracts included).
_PAGE_IDS = text(
    "SELECT w.id FROM work w WHERE w.id IN (SELECT work_id FROM authorship WHERE researcher_id = :rid) "
    "ORDER BY coalesce(w.published_year, w.year) DESC NULLS LAST, w.publication_date DESC NULLS LAST, "
    "w.id DESC LIMIT :lim OFFSET :off"
)
_WORKS_BY_ID = text("SELECT * FROM work WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_COUNT_AUTHORSHIP = text("SELECT count(DISTINCT work_id) FROM authorship WHERE researcher_id = :rid")


def paging_rows(session: Session, rid: int, works: int) -> list[tuple[str, str, float]]:
    """(shape, page, seconds) for the first, middle and last page of one researcher's list."""
    rows = []
    pages = -(-works // PAGE_SIZE)
    conn = session.connection()

    def ids_first(offset: int) -> list[Any]:
        ids = conn.execute(_PAGE_IDS, {"rid": rid, "lim": PAGE_SIZE, "off": offset}).scalars().all()
        return list(conn.execute(_WORKS_BY_ID, {"ids": list(ids)}).all())

    def as_it_is(offset: int) -> list[Any]:
        return list_papers(
            session=session, researcher_id=rid, filters=PaperFilters(), offset=offset, limit=PAGE_SIZE
        )

    for label, page in (("first", 1), ("middle", pages // 2), ("last", pages)):
        offset = (page - 1) * PAGE_SIZE
        rows.append(("list_papers as it is (work.* sorted)", label, timed(partial(as_it_is, offset))[0]))
        rows.append(("ids first, then 5 works by id", label, timed(partial(ids_first, offset))[0]))
    seconds, _ = timed(lambda: count_papers(session=session, researcher_id=rid, filters=PaperFilters()))
    rows.append(("count_papers as it is (work IN subquery)", "", seconds))
    seconds, _ = timed(lambda: conn.execute(_COUNT_AUTHORSHIP, {"rid": rid}).scalar_one())
    rows.append(("count on authorship alone", "", seconds))
    return rows


def summary(title: str, runs: Sequence[dict[str, float | int]]) -> Table:
    table = Table(title=title)
    table.add_column("step")
    for column in ("median ms", "p95 ms", "max ms"):
        table.add_column(column, justify="right")
    for key in runs[0]:
        values = [float(r[key]) for r in runs]
        if key in ("pairs",) or key.startswith(("A same", "B top")):
            table.add_row(key, f"{median(values):.1f}", f"{pct(values, 95):.1f}", f"{max(values):.1f}")
        else:
            table.add_row(key, *(f"{v * 1000:.1f}" for v in (median(values), pct(values, 95), max(values))))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sample", type=int, default=30, help="researchers per group")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    console = Console(width=160)
    engine = make_engine(args.database_url)
    counts, _ = works_per_researcher(engine)
    ranked = sorted(counts, key=lambda rid: (-counts[rid], rid))
    rng = random.Random(args.seed)
    groups = {
        "top 1% by works": rng.sample(top_share(ranked, len(counts)), args.sample),
        "typical": rng.sample(sorted(counts), args.sample),
    }
    with Session(engine) as session:
        for rid in rng.sample(ranked[:1000], 3):  # warm the caches the loops read
            collab_rows(session, rid)
        for group, ids in groups.items():
            runs = [collab_rows(session, rid) for rid in ids]
            console.print(summary(f"collaborators, step by step — {group} (n={len(runs)})", runs))
        paging: dict[tuple[str, str], list[float]] = defaultdict(list)
        for rid in ranked[:5]:
            for _ in range(5):
                for shape, page, seconds in paging_rows(session, rid, counts[rid]):
                    paging[(shape, page)].append(seconds)
    table = Table(title="Papers page queries, the 5 biggest lists (≈1,800–2,000 works), 5 rounds")
    for column in ("shape", "page", "median ms", "p95 ms", "max ms"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for (shape, page), values in paging.items():
        table.add_row(
            shape, page, *(f"{v * 1000:.2f}" for v in (median(values), pct(values, 95), max(values)))
        )
    console.print(table)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
