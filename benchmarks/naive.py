"""The naive way to suggest collaborators, as a yardstick: load the WHOLE co-authorship graph
into networkx, then score each researcher's 2-hop candidates with `nx.adamic_adar_index`.

The graph has an edge for every pair of researchers on a work with at most `max_authors`
authors (the same cap as services.research.coauthor_graph.MAX_AUTHORS_PER_WORK). It runs in a
child process (`run_in_child`) so its memory is measured alone and freed before the app is timed.
"""

from __future__ import annotations

import itertools
import multiprocessing
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, cast

import networkx as nx

from services.store.engine import make_engine

FETCH = 50_000
TOP = 5
TOP_WIDE = 50


@dataclass(frozen=True)
class BuildStats:
    """What loading the whole graph cost."""

    fetch_seconds: float  # SQL + rows into Python (interleaved with the build, timed apart)
    build_seconds: float  # pairs into nx.Graph
    authorships: int
    works: int
    nodes: int
    edges: int
    rss_before_mib: float
    rss_after_mib: float  # resident once built (the graph stays in memory to be queried)
    peak_mib: float  # VmHWM while building


@dataclass(frozen=True)
class NaiveScore:
    """One researcher scored on the whole graph."""

    researcher_id: int
    seconds: float  # candidates + Adamic-Adar + top-k
    degree: int
    candidates: int
    top: tuple[int, ...]  # the TOP best by Adamic-Adar (ties: lower id first)
    top_wide: tuple[int, ...]  # the TOP_WIDE best


@dataclass
class NaiveRun:
    """Everything the child sends back."""

    build: BuildStats
    degree_ranking: list[tuple[int, int]]  # (researcher id, degree), highest degree first
    scores: dict[int, NaiveScore] = field(default_factory=dict)
    peak_mib: float = 0.0  # VmHWM over build and scoring


def memory_mib() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MiB."""
    with open("/proc/self/status", encoding="ascii") as file:
        status = file.read()
    rss = re.search(r"VmRSS:\s+(\d+)", status)
    hwm = re.search(r"VmHWM:\s+(\d+)", status)
    return (int(rss.group(1)) / 1024 if rss else 0.0, int(hwm.group(1)) / 1024 if hwm else 0.0)


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def _authorship_chunks(url: str, max_authors: int) -> Iterator[list[tuple[int, int]]]:
    """(work id, researcher id) of every linked author of a small work, by work, in chunks."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            "SELECT a.work_id, a.researcher_id FROM authorship a JOIN work w ON w.id = a.work_id "
            f"WHERE w.author_count <= {int(max_authors)} AND a.researcher_id IS NOT NULL "
            "ORDER BY a.work_id"
        )
        while rows := cursor.fetchmany(FETCH):
            yield cast(list[tuple[int, int]], rows)
    finally:
        raw.close()
        engine.dispose()


def _add_work(graph: nx.Graph, authors: list[int]) -> None:
    if len(authors) > 1:
        graph.add_edges_from(itertools.combinations(authors, 2))
    elif authors:
        graph.add_node(authors[0])


def build_graph(url: str, max_authors: int) -> tuple[nx.Graph, BuildStats]:
    """The whole co-authorship graph of works with at most `max_authors` authors."""
    rss_before, _ = memory_mib()
    reset_peak()
    graph = nx.Graph()
    fetch = build = 0.0
    authorships = works = 0
    current: int | None = None
    authors: list[int] = []
    chunks = _authorship_chunks(url, max_authors)
    while True:
        started = time.perf_counter()
        rows = next(chunks, None)
        fetched = time.perf_counter()
        fetch += fetched - started
        if rows is None:
            break
        for work_id, researcher_id in rows:
            if work_id != current:
                _add_work(graph, authors)
                works += 1
                current, authors = work_id, []
            authors.append(researcher_id)
        authorships += len(rows)
        build += time.perf_counter() - fetched
    started = time.perf_counter()
    _add_work(graph, authors)
    build += time.perf_counter() - started
    rss_after, peak = memory_mib()
    stats = BuildStats(
        fetch_seconds=fetch,
        build_seconds=build,
        authorships=authorships,
        works=works,
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        rss_before_mib=rss_before,
        rss_after_mib=rss_after,
        peak_mib=peak,
    )
    return graph, stats


def score(graph: nx.Graph, researcher_id: int) -> NaiveScore:
    """Adamic-Adar over the 2-hop candidates (neighbours' neighbours, not yet neighbours)."""
    started = time.perf_counter()
    if researcher_id not in graph:
        return NaiveScore(researcher_id, time.perf_counter() - started, 0, 0, (), ())
    neighbours = set(graph[researcher_id])
    candidates: set[int] = set()
    for z in neighbours:
        candidates.update(graph[z])
    candidates -= neighbours
    candidates.discard(researcher_id)
    scored = nx.adamic_adar_index(graph, [(researcher_id, c) for c in candidates])
    ranked = sorted(((-round(p, 9), c) for _, c, p in scored))
    seconds = time.perf_counter() - started
    return NaiveScore(
        researcher_id,
        seconds,
        len(neighbours),
        len(candidates),
        tuple(c for _, c in ranked[:TOP]),
        tuple(c for _, c in ranked[:TOP_WIDE]),
    )


def _child(url: str, max_authors: int, conn: Connection) -> None:
    graph, stats = build_graph(url, max_authors)
    ranking = sorted(((int(n), int(d)) for n, d in graph.degree), key=lambda t: (-t[1], t[0]))
    conn.send((stats, ranking))
    ids: Sequence[int] = conn.recv()
    scores = {rid: score(graph, rid) for rid in ids}
    conn.send((scores, memory_mib()[1]))
    conn.close()


class NaiveChild:
    """The naive scorer in a child process: build, hand back degrees, then score on request."""

    def __init__(self, url: str, max_authors: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process: Any = context.Process(target=_child, args=(url, max_authors, child_conn))
        self._process.start()
        child_conn.close()

    def built(self) -> tuple[BuildStats, list[tuple[int, int]]]:
        """Wait for the graph; its build stats and every node's degree, highest first."""
        stats, ranking = self._conn.recv()
        return stats, ranking

    def score(self, researcher_ids: Sequence[int]) -> tuple[dict[int, NaiveScore], float]:
        """Score these researchers; then the child exits. Returns scores and the child's peak MiB."""
        self._conn.send(list(researcher_ids))
        scores, peak = self._conn.recv()
        self._process.join()
        return scores, peak
