"""Issue 17: OpenAlex requests per refresh cycle for F followed researchers and T followed topics:
⌈F/100⌉ + ⌈T/100⌉ list requests plus paging, through an OpenAlex /works stand-in on
httpx.MockTransport (tests/openalex_works.py) that serves pages by author id and by topic id.

    python -m benchmarks.bench_refresh_topics --database-url sqlite:////tmp/bzbench/topics.db
    python -m benchmarks.bench_refresh_topics --database-url postgresql://postgres@127.0.0.1:5432/bzpeer_topics

The store is EMPTIED first (a SQLite file is recreated; a PostgreSQL database is created and
dropped afterwards unless --keep). Time is injected; nothing sleeps.
"""

from __future__ import annotations

import argparse
import math
import os
import random
from datetime import date, timedelta

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from benchmarks.bench_digest import run_refresh
from benchmarks.digest_state import FOLLOWED_SINCE, load_follow_state, serve_new_works
from benchmarks.scratch_db import scratch_database
from benchmarks.synthetic import prepare_store
from services.digests.refresh import RefreshReport
from services.openalex.client import MAX_OR_VALUES
from services.store.engine import make_engine, normalize_database_url
from services.store.models import Topic, TopicFollow
from tests.openalex_works import WorksStandIn, work_json


def topic_id(n: int) -> str:
    """OpenAlex id of followed topic n (1-based)."""
    return f"T9{n:05d}"


def load_topic_follows(engine: Engine, *, topics: int, members: int) -> None:
    """`topics` topics, each followed by one member (round robin over the members). Row ids come
    from the store's own sequence, so the refresh job's topic upserts never collide with them."""
    with engine.begin() as conn:
        ids = conn.execute(
            insert(Topic).returning(Topic.id, Topic.openalex_id),  # type: ignore[arg-type]
            [{"openalex_id": topic_id(n), "name": f"Benchmark topic {n}"} for n in range(1, topics + 1)],
        ).all()
        by_openalex = {openalex_id: row_id for row_id, openalex_id in ids}
        conn.execute(
            insert(TopicFollow),
            [
                {
                    "member_id": (n - 1) % members + 1,
                    "topic_id": by_openalex[topic_id(n)],
                    "muted": False,
                    "parked": False,
                    "created_at": FOLLOWED_SINCE,
                }
                for n in range(1, topics + 1)
            ],
        )


def serve_topic_works(standin: WorksStandIn, *, topics: int, works: int, seed: int, first: int) -> int:
    """`works` recent works on followed topics (uniform), and three prolific topic batches that
    need paging; returns the number of works served."""
    rng = random.Random(seed)
    served = 0

    def add(n: int, topic: int) -> None:
        standin.add(
            work_json(
                f"W9{n:09d}",
                f"Benchmark work {n} on topic {topic}",
                [(f"A6{n:09d}", f"Author {n}")],
                published=date(2026, 11, 29) - timedelta(days=rng.randrange(21)),
                topic=(topic_id(topic), f"Benchmark topic {topic}"),
                cited_by_count=rng.randrange(50),
            )
        )

    for n in range(first, first + works):
        add(n, rng.randrange(1, topics + 1))
        served += 1
    n = first + works
    for i, batch in enumerate(b for b in (2, 5, 8) if (b + 1) * MAX_OR_VALUES <= topics):
        for _ in range(150 + 60 * i):
            add(n, batch * MAX_OR_VALUES + rng.randrange(1, MAX_OR_VALUES + 1))
            n += 1
            served += 1
    return served


def table(rows: list[tuple[str, RefreshReport, float, float, WorksStandIn]]) -> Table:
    out = Table(title="Refresh: researchers + topics, OpenAlex /works requests per cycle (MockTransport)")
    for column in (
        "cycle",
        "followed researchers",
        "followed topics",
        "list requests (target)",
        "paging requests",
        "requests = pages",
        "max ids / request",
        "works seen / new",
        "items queued",
        "wall s",
        "CPU s",
    ):
        out.add_column(column, justify="left" if column == "cycle" else "right")
    for cycle, report, wall, cpu, standin in rows:
        counts = standin.counts
        target = math.ceil(report.researchers / MAX_OR_VALUES) + math.ceil(report.topics / MAX_OR_VALUES)
        ok = "✓" if counts.list_requests == target and counts.largest_batch <= MAX_OR_VALUES else "✗"
        out.add_row(
            cycle,
            f"{report.researchers:,}",
            f"{report.topics:,}",
            f"{counts.list_requests} ({target}) {ok}",
            str(counts.paging_requests),
            str(counts.requests),
            str(counts.largest_batch),
            f"{report.works_seen:,} / {report.works_new:,}",
            f"{report.items_queued:,}",
            f"{wall:.2f}",
            f"{cpu:.2f}",
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--researchers", type=int, default=10_000)
    parser.add_argument("--topics", type=int, default=1_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--follows", type=int, default=10, help="researchers per member")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", action="store_true", help="keep a PostgreSQL scratch database")
    args = parser.parse_args()
    console = Console(width=200)
    with scratch_database(normalize_database_url(args.database_url), keep=args.keep) as url:
        prepare_store(url, reset=True).dispose()
        engine = make_engine(url)
        facts = load_follow_state(
            engine,
            researchers=args.researchers,
            members=args.members,
            per_member=args.follows,
            exponent=0,
            seed=args.seed,
        )
        load_topic_follows(engine, topics=args.topics, members=args.members)
        console.print(
            f"state: {facts.describe()}; {args.topics:,} followed topics; load {os.getloadavg()[0]:.2f}"
        )
        standin = WorksStandIn()
        new_by_researchers = int(args.researchers * 0.03)
        serve_new_works(
            standin, pool=range(1, args.researchers + 1), works=new_by_researchers, seed=args.seed
        )
        on_topics = serve_topic_works(
            standin, topics=args.topics, works=args.topics * 2, seed=args.seed, first=1
        )
        console.print(
            f"stand-in: {new_by_researchers:,} works by followed researchers, "
            f"{on_topics:,} on followed topics"
        )
        rows = []
        for cycle, later in (("first (all new)", 0.0), ("second, 6 h later", 6.0)):
            report, watches, wall = run_refresh(engine, standin, cycle=cycle, hours_later=later)
            rows.append((cycle, report, wall, watches.seconds["cpu"], standin))
            console.print(f"{cycle}: {report.summary()}")
        console.print(table(rows))
        engine.dispose()


if __name__ == "__main__":
    main()
