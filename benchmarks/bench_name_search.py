"""Name search alone: `search_names` per query kind, wall and CPU time, its SQL, what it found.

    python -m benchmarks.bench_name_search --database-url sqlite:////tmp/bench.db --requests 400

The queries are bench_profile's (same kinds, same seed, same store → same queries), so a
`/peer NAME` tail can be split into the search and the rest of the command. Only
`search_names` and `pick_queries` are used, so the same file runs against an older commit.
Never migrates: point it at a store already at the code's revision.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session

from benchmarks.bench_profile import KINDS, Query, pick_queries
from benchmarks.sqltiming import SqlTimer
from services.research.search import search_names
from services.store.engine import make_engine
from services.store.models import Researcher


@dataclass(frozen=True)
class Sample:
    query: Query
    seconds: float
    cpu_seconds: float
    sql_seconds: float
    statements: int
    first: bool  # the researcher the query was made from is the first match
    found: bool  # … or among the matches


def measure(engine: Engine, timer: SqlTimer, queries: list[Query]) -> list[Sample]:
    samples = []
    for query in queries:
        with Session(engine) as session:
            timer.take_request_total()
            calls = sum(len(durations) for durations in timer.by_statement.values())
            cpu = time.process_time()
            start = time.perf_counter()
            matches = search_names(session=session, query=query.text)
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu
            sql = timer.take_request_total()
            statements = sum(len(durations) for durations in timer.by_statement.values()) - calls
            names = [session.get_one(Researcher, m.researcher_id).name for m in matches]
        samples.append(
            Sample(query, elapsed, cpu, sql, statements, names[:1] == [query.target], query.target in names)
        )
    return samples


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(np.array(values) * 1000, q):.1f}"


def table(samples: list[Sample], title: str) -> Table:
    out = Table(title=title)
    out.add_column("query kind")
    for column in (
        "n",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "CPU p50",
        "SQL p50",
        "SQL p95",
        "SQL p99",
        "statements",
        "target first",
        "target found",
    ):
        out.add_column(column, justify="right")
    groups = [(kind, [s for s in samples if s.query.kind == kind]) for kind in KINDS]
    for label, group in [*groups, ("all", samples)]:
        if not group:
            continue
        seconds = [s.seconds for s in group]
        sql = [s.sql_seconds for s in group]
        out.add_row(
            label,
            str(len(group)),
            _ms(seconds, 50),
            _ms(seconds, 95),
            _ms(seconds, 99),
            f"{max(seconds) * 1000:.1f}",
            _ms([s.cpu_seconds for s in group], 50),
            _ms(sql, 50),
            _ms(sql, 95),
            _ms(sql, 99),
            f"{np.mean([s.statements for s in group]):.1f}",
            f"{sum(s.first for s in group) / len(group):.0%}",
            f"{sum(s.found for s in group) / len(group):.0%}",
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="search_names")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    queries = pick_queries(engine, args.requests + args.warmup, args.seed)
    timer = SqlTimer()
    timer.attach(engine)
    measure(engine, timer, queries[: args.warmup])
    gc.collect()
    gc.freeze()
    timer.enabled = True
    load = os.getloadavg()[0]
    samples = measure(engine, timer, queries[args.warmup :])
    console = Console(width=180)
    console.print(table(samples, f"{args.label} (load {load:.1f} → {os.getloadavg()[0]:.1f})"))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
