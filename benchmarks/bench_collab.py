"""`/peer collaborators` and `/peer papers` latency through `app.dispatch`, papers paging through
signed button presses, and the naive whole-graph networkx approach side by side.

    python -m benchmarks.bench_collab --database-url sqlite:////tmp/bzbench/store_200k.db
    python -m benchmarks.bench_collab --database-url postgresql://postgres@127.0.0.1/bzpeer_bench_200k

Researchers are named by OpenAlex id (`/peer collaborators A9000012345`), so every request
reaches the feature instead of a pick list. Groups: typical (uniform among researchers with a
work), the top 1 % by works, and the top 1 % by co-authors on works with at most
MAX_AUTHORS_PER_WORK authors (the graph suggestions use; its degrees come from the naive run).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import os
import pstats
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import Engine

from benchmarks.bench_profile import bench_app, sql_table, store_size
from benchmarks.collab_samples import Run, Sample, ServiceSample, Subject
from benchmarks.collab_tables import (
    latency_table,
    naive_table,
    paging_table,
    search_table,
    slowest_table,
)
from benchmarks.naive import NaiveChild, NaiveRun
from benchmarks.sqltiming import SqlTimer
from bot.runtime import Runtime
from services.research.coauthor_graph import MAX_AUTHORS_PER_WORK
from tests.slack_support import SlackDriver, buttons, press

TYPICAL, HUB_WORKS, HUB_COAUTHORS = "typical", "top 1% by works", "top 1% by co-authors"
BIG_WORK = 100  # "member of a big collaboration": on a work with at least this many authors


def works_per_researcher(engine: Engine) -> tuple[dict[int, int], set[int]]:
    """Works of every researcher with one, and who is on a big-collaboration work."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT researcher_id, count(*) FROM authorship "
                "WHERE researcher_id IS NOT NULL GROUP BY researcher_id"
            )
        )
        counts = {int(rid): int(n) for rid, n in rows}
        big = set(
            conn.execute(
                text(
                    "SELECT DISTINCT a.researcher_id FROM authorship a JOIN work w ON w.id = a.work_id "
                    "WHERE w.author_count >= :n AND a.researcher_id IS NOT NULL"
                ),
                {"n": BIG_WORK},
            ).scalars()
        )
    return counts, big


def top_share(ranked: list[int], population: int, share: float = 0.01) -> list[int]:
    """The first `share` of `population` in `ranked` (highest first)."""
    return ranked[: max(1, int(population * share))]


def outcome_of(command: str, reply: dict[str, Any]) -> str:
    """What the user got, from the fallback text."""
    fallback = str(reply.get("text", ""))
    if command == "collaborators":
        if "first suggestion" in fallback:
            return "suggestions"
        return "nobody to suggest" if "nobody to suggest" in fallback else f"other: {fallback[:60]}"
    if "published item(s), page" in fallback:
        return "papers"
    return "no works" if "no works" in fallback else f"other: {fallback[:60]}"


class Bench:
    """Times requests through the app and keeps per-group SQL timings."""

    def __init__(self, runtime: Runtime, driver: SlackDriver, run: Run) -> None:
        self.runtime = runtime
        self.driver = driver
        self.run = run
        self.timer = SqlTimer()
        self.timer.attach(runtime.services.engine)
        if runtime.services.ack_engine is not runtime.services.engine:
            self.timer.attach(runtime.services.ack_engine)  # commands answered inside the ack

    def _timed(self, subject: Subject, label: str, send: Any) -> tuple[float, float, float, dict[str, Any]]:
        key = f"{label} · {subject.group}"
        self.timer.by_statement = self.run.sql.setdefault(key, defaultdict(list))
        self.run.requests[key] += 1
        self.driver.local.clear()
        self.timer.take_request_total()
        self.timer.enabled = True
        cpu = time.process_time()
        start = time.perf_counter()
        response = send()
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        self.timer.enabled = False
        sql = self.timer.take_request_total()
        if response.status != 200:
            raise SystemExit(f"{label} for {subject.openalex_id}: HTTP {response.status}")
        return seconds, cpu, sql, self.driver.last_reply()

    def command(self, subject: Subject, command: str) -> tuple[Sample, dict[str, Any]]:
        """`/peer COMMAND A9…`, timed to the reply's POST to the local Slack."""
        seconds, cpu, sql, reply = self._timed(
            subject, command, lambda: self.driver.command(f"{command} {subject.openalex_id}")
        )
        return Sample(subject, command, seconds, cpu, sql, outcome_of(command, reply)), reply

    def walk_pages(self, subject: Subject, backwards_from_end: bool = True) -> list[Sample]:
        """Open the papers list, press Next to the last page, then Previous back to the first."""
        _, reply = self.command(subject, "papers")
        samples: list[Sample] = []
        page = 1
        for label, step in (("Next →", 1), ("← Previous", -1)):
            if step < 0 and not backwards_from_end:
                break
            while label in (controls := buttons(reply)):
                pressed = functools.partial(press, self.driver, controls[label])
                seconds, cpu, sql, reply = self._timed(subject, "papers paging", pressed)
                page += step
                shown = f"Page {page} of"
                outcome = "page" if shown in str(reply.get("blocks")) else "wrong page"
                samples.append(Sample(subject, "page", seconds, cpu, sql, outcome, page))
        return samples


@dataclass(frozen=True)
class Population:
    """Researchers with at least one work: their works, big-collaboration members, ranking."""

    counts: dict[int, int]
    big: set[int]
    by_works: list[int]  # most works first

    def subject(self, researcher_id: int, group: str) -> Subject:
        return Subject(researcher_id, group, self.counts.get(researcher_id, 0), researcher_id in self.big)


def choose(engine: Engine, args: argparse.Namespace, rng: random.Random) -> tuple[list[Subject], Population]:
    """Typical researchers and top-1 %-by-works hubs (the co-author hubs come from the naive run)."""
    counts, big = works_per_researcher(engine)
    people = Population(counts, big, sorted(counts, key=lambda rid: (-counts[rid], rid)))
    typical = rng.sample(sorted(counts), args.typical)
    hubs = rng.sample(top_share(people.by_works, len(counts)), args.hubs)
    return [people.subject(r, TYPICAL) for r in typical] + [
        people.subject(r, HUB_WORKS) for r in hubs
    ], people


def measure(runtime: Runtime, driver: SlackDriver, args: argparse.Namespace, console: Console) -> Run:
    """Every phase in order: choose, naive (child process), warm-up, dispatch, service, paging."""
    engine = runtime.services.engine
    rng = random.Random(args.seed)
    run = Run()
    subjects, people = choose(engine, args, rng)
    if not args.skip_naive:
        console.print("naive: building the whole graph in a child process …")
        child = NaiveChild(args.database_url, MAX_AUTHORS_PER_WORK)
        stats, ranking = child.built()
        # Top 1 % of the researchers with a work, by degree in the small-works graph.
        top = top_share([rid for rid, _ in ranking], len(people.counts))
        subjects += [people.subject(r, HUB_COAUTHORS) for r in rng.sample(top, args.hubs)]
        run.loads.append(("naive scoring", os.getloadavg()[0]))
        scores, peak = child.score(sorted({s.researcher_id for s in subjects}))
        run.naive = NaiveRun(stats, ranking[:10], scores, peak)
    # As `bzpeer serve` does after start-up: the 200,000-entry population tables live as long as
    # the run, and full collections walking them paused requests for 150-300 ms of CPU.
    gc.freeze()
    bench = Bench(runtime, driver, run)
    ids = {s.researcher_id for s in subjects}
    spare = [rid for rid in people.by_works[: len(people.by_works) // 2] if rid not in ids]
    for rid in rng.sample(spare, args.warmup):
        warm = people.subject(rid, "warm-up")
        bench.command(warm, "collaborators")
        bench.command(warm, "papers")
    run.sql.clear()
    run.requests.clear()
    tasks = [(s, c) for s in subjects for c in ("collaborators", "papers")]
    rng.shuffle(tasks)
    run.loads.append(("dispatch", os.getloadavg()[0]))
    console.print(f"dispatch: {len(tasks)} requests …")
    for subject, command in tasks:
        run.samples.append(bench.command(subject, command)[0])
    run.loads.append(("service", os.getloadavg()[0]))
    profiler = cProfile.Profile() if args.profile else None
    for subject in subjects:
        if profiler and subject.group != TYPICAL:
            profiler.enable()
        start = time.perf_counter()
        found = runtime.services.collaborators.collaborators(subject.researcher_id)
        seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()
        assert found is not None
        run.service.append(ServiceSample(subject, seconds, found))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        console.print(out.getvalue(), markup=False, highlight=False)
    heaviest = sorted(run.service, key=lambda s: -s.found.stats.pairs_loaded)[: args.memory]
    for sample in heaviest:
        tracemalloc.start()
        runtime.services.collaborators.collaborators(sample.subject.researcher_id)
        run.memory_peaks[sample.subject.researcher_id] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    run.loads.append(("paging", os.getloadavg()[0]))
    for rid in people.by_works[: args.paging_hubs]:
        console.print(f"paging: researcher {rid}, {people.counts[rid]} works …")
        run.paging += bench.walk_pages(people.subject(rid, "paging"))
    run.loads.append(("end", os.getloadavg()[0]))
    return run


def warn_if_never_vacuumed(engine: Engine, console: Console) -> None:
    """Without VACUUM no index-only scan is possible; bulk-loaded stores on a server with
    autovacuum off (this one) stay that way, and the pair queries read 5–10× more heap pages."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        visible = conn.execute(
            text("SELECT relallvisible FROM pg_class WHERE relname = 'authorship'")
        ).scalar()
    if not visible:
        console.print(
            "[b]warning:[/b] authorship was never vacuumed (no index-only scans): run VACUUM (ANALYZE)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--typical", type=int, default=200, help="typical researchers")
    parser.add_argument("--hubs", type=int, default=100, help="researchers per hub group")
    parser.add_argument("--paging-hubs", type=int, default=2, help="walk every page of the N biggest")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--memory", type=int, default=20, help="tracemalloc the N heaviest searches")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the hubs' service calls")
    parser.add_argument("--label")
    args = parser.parse_args(argv)
    console = Console(width=200)
    label = args.label or args.database_url.split("@")[-1]
    with bench_app(args.database_url, demo=False) as (runtime, driver):
        console.print(f"store: {store_size(runtime.services.engine)}")
        warn_if_never_vacuumed(runtime.services.engine, console)
        run = measure(runtime, driver, args, console)
    console.print(latency_table(run.samples, f"/peer collaborators and /peer papers — {label}"))
    console.print("  load average: " + ", ".join(f"{name} {load:.2f}" for name, load in run.loads))
    console.print(search_table(run.service, run.memory_peaks))
    if run.naive:
        console.print(naive_table(run.naive, run.service))
    console.print(paging_table(run.paging))
    console.print(slowest_table(run.samples + run.paging))
    for group, statements in run.sql.items():
        if group.startswith("warm-up"):
            continue
        table = sql_table(SqlTimer(by_statement=statements), run.requests[group])
        table.title = f"SQL by total time — {group}"
        console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
