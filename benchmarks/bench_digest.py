"""Issue 4 at scale: OpenAlex requests per refresh cycle, and composing / delivering digests.

    # refresh: 10,000 followed researchers against a local /works stand-in (request counts)
    python -m benchmarks.bench_digest refresh --database-url URL --reset
    # digests: build 50,000 members × 10 follows of 5,000 researchers, let the refresh job queue
    # the ledger for 5,000 new works; then, each in a fresh process (clean memory figures):
    python -m benchmarks.bench_digest state --database-url URL --reset
    python -m benchmarks.bench_digest compose --database-url URL
    python -m benchmarks.bench_digest deliver --database-url URL

`refresh` and `state` EMPTY the store (hence --reset). Time is injected (`digest_state.NOW`);
nothing sleeps: the OpenAlex client gets a no-op sleep, delivery a no-op pause and no pacing.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

import services.digests.batch
import services.digests.refresh
from benchmarks.bench_profile import sql_table
from benchmarks.compose_timing import compose_every_due
from benchmarks.digest_state import NOW, load_follow_state, serve_new_works
from benchmarks.naive import memory_mib, reset_peak
from benchmarks.sqltiming import SqlTimer
from benchmarks.stopwatch import Stopwatches
from benchmarks.synthetic import prepare_store
from handlers.digests.digest_blocks import digest_message, fit_digest
from services.digests import ledger, queueing
from services.digests.compose import DigestView
from services.digests.delivery import DigestService
from services.digests.port import SentMessage
from services.digests.refresh import RefreshReport, RefreshService
from services.openalex.client import MAX_OR_VALUES, OpenAlexClient
from services.store.engine import make_engine, normalize_database_url
from tests.openalex_works import WorksStandIn


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def run_refresh(
    engine: Engine, standin: WorksStandIn, *, cycle: str, hours_later: float = 0
) -> tuple[RefreshReport, Stopwatches, float]:
    """One refresh cycle against the stand-in, with where its time went."""
    client = OpenAlexClient("https://openalex.standin", transport=standin.transport(), sleep=lambda _: None)
    service = RefreshService(engine, client)
    watches = Stopwatches()
    standin.reset_counts()
    targets = [
        (services.digests.refresh, "store_works", "store_works"),
        (queueing, "queue_stored_works", "ledger queue"),
        (Session, "commit", "commit"),
    ]
    with watches.patched(targets):
        cpu = time.process_time()
        started = time.perf_counter()
        report = service.refresh(now=NOW + timedelta(hours=hours_later))
        wall = time.perf_counter() - started
    watches.seconds["cpu"] = time.process_time() - cpu
    client.close()
    del cycle
    return report, watches, wall


def refresh_table(rows: list[tuple[str, RefreshReport, Stopwatches, float, WorksStandIn]]) -> Table:
    """Requests per cycle against ⌈followed / 100⌉ list requests plus paging."""
    table = Table(title="Refresh: OpenAlex /works requests per cycle (local stand-in, MockTransport)")
    for column in (
        "cycle",
        "followed",
        "list requests (target)",
        "paging requests",
        "requests",
        "max ids / request",
        "max per_page",
        "works seen / new",
        "items queued",
        "wall s",
        "CPU s",
        "stand-in s",
        "store_works s",
        "ledger queue s",
        "commit s",
    ):
        table.add_column(column, justify="left" if column == "cycle" else "right")
    for cycle, report, watches, wall, standin in rows:
        counts = standin.counts
        target = math.ceil(report.researchers / MAX_OR_VALUES)
        verdict = "✓" if counts.list_requests == target and counts.largest_batch <= MAX_OR_VALUES else "✗"
        table.add_row(
            cycle,
            f"{report.researchers:,}",
            f"{counts.list_requests} ({target}) {verdict}",
            str(counts.paging_requests),
            str(counts.requests),
            str(counts.largest_batch),
            str(counts.largest_per_page),
            f"{report.works_seen:,} / {report.works_new:,}",
            f"{report.items_queued:,}",
            f"{wall:.2f}",
            f"{watches.seconds['cpu']:.2f}",
            f"{counts.seconds:.2f}",
            f"{watches.seconds.get('store_works', 0):.2f}",
            f"{watches.seconds.get('ledger queue', 0):.2f}",
            f"{watches.seconds.get('commit', 0):.2f}",
        )
    return table


def refresh_part(args: argparse.Namespace, console: Console) -> None:
    """10,000 followed researchers: count the requests one cycle makes, twice."""
    url = normalize_database_url(args.database_url)
    prepare_store(url, reset=True).dispose()
    engine = make_engine(url)
    started = time.perf_counter()
    facts = load_follow_state(
        engine,
        researchers=args.researchers,
        members=args.members,
        per_member=args.follows,
        exponent=0,
        seed=args.seed,
    )
    console.print(f"state: {facts.describe()} ({time.perf_counter() - started:.1f} s, round-robin follows)")
    standin = WorksStandIn(latency=args.latency_ms / 1000)
    served = serve_new_works(
        standin,
        pool=range(1, args.researchers + 1),
        works=int(args.researchers * args.work_rate),
        seed=args.seed,
    )
    first = int(args.researchers * args.work_rate) + 1
    # A few prolific batches (sorted ids: batch b holds researchers 100b+1 … 100b+100) need pages.
    for i, batch in enumerate(b for b in (7, 42, 77) if (b + 1) * MAX_OR_VALUES <= args.researchers):
        count = 150 + 60 * i
        pool = range(batch * MAX_OR_VALUES + 1, (batch + 1) * MAX_OR_VALUES + 1)
        served += serve_new_works(standin, pool=pool, works=count, seed=args.seed + batch, first=first)
        first += count
    console.print(f"stand-in: {first - 1:,} works, {served:,} authorships; load {_load()}")
    rows = []
    for cycle, later in (("first (all new)", 0.0), ("second, 6 h later", 6.0)):
        report, watches, wall = run_refresh(engine, standin, cycle=cycle, hours_later=later)
        rows.append((cycle, report, watches, wall, standin))
        console.print(f"{cycle}: {report.summary()} load {_load()}")
    console.print(refresh_table(rows))


def ledger_facts(engine: Engine) -> str:
    """Pending rows per member, as the digests will hold them."""
    with engine.connect() as conn:
        per_member = np.array(
            conn.execute(text("SELECT count(*) FROM delivery WHERE status = 'pending' GROUP BY member_id"))
            .scalars()
            .all()
        )
        rows = conn.execute(text("SELECT status, count(*) FROM delivery GROUP BY status"))
        statuses = {str(status): int(count) for status, count in rows}
    if not len(per_member):
        return f"ledger: {statuses}"
    q = np.percentile(per_member, [50, 90, 99]).astype(int)
    return (
        f"ledger: {statuses}; {len(per_member):,} members with pending items, per member median {q[0]}, "
        f"p90 {q[1]}, p99 {q[2]}, max {per_member.max()}"
    )


def state_part(args: argparse.Namespace, console: Console) -> None:
    """Members, follows, and a refresh cycle that stores the new works and queues the ledger."""
    url = normalize_database_url(args.database_url)
    prepare_store(url, reset=True).dispose()
    engine = make_engine(url)
    started = time.perf_counter()
    facts = load_follow_state(
        engine,
        researchers=args.researchers,
        members=args.members,
        per_member=args.follows,
        exponent=args.zipf,
        seed=args.seed,
    )
    console.print(f"state: {facts.describe()}; bulk load {time.perf_counter() - started:.1f} s")
    standin = WorksStandIn()
    served = serve_new_works(standin, pool=range(1, args.researchers + 1), works=args.works, seed=args.seed)
    console.print(f"stand-in: {args.works:,} new works, {served:,} authorships; load {_load()}")
    report, watches, wall = run_refresh(engine, standin, cycle="state")
    console.print(f"{report.summary()} load {_load()}")
    console.print(refresh_table([("queues the ledger", report, watches, wall, standin)]))
    console.print(ledger_facts(engine))
    vacuum_if_postgres(engine, console)


def vacuum_if_postgres(engine: Engine, console: Console) -> None:
    """VACUUM (ANALYZE) on PostgreSQL: stands in for autovacuum, which a test server may have off."""
    if engine.dialect.name != "postgresql":
        return
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
    console.print(f"VACUUM (ANALYZE): {time.perf_counter() - started:.1f} s")


def _spread(values: list[int]) -> str:
    if not values:
        return ""
    q = np.percentile(values, [50, 99]).astype(int)
    return f"{q[0]:,} / {q[1]:,} / {max(values):,}"


def compose_part(args: argparse.Namespace, console: Console) -> None:
    """Compose every due member's digest at once (compose_views), then render each DM."""
    engine = make_engine(normalize_database_url(args.database_url))
    console.print(ledger_facts(engine))
    load = _load()
    composed = compose_every_due(engine)
    due, views = composed.due, composed.views
    cpu = time.process_time()
    render_s = 0.0
    blocks: list[int] = []
    sizes: list[int] = []
    for view in views.values():
        started = time.perf_counter()
        payload = digest_message(view, command="/peer").payload()
        render_s += time.perf_counter() - started
        blocks.append(len(payload["blocks"]))
        sizes.append(len(json.dumps(payload)))
    render_cpu = time.process_time() - cpu  # sizing included
    _, peak = memory_mib()
    items = [view.item_count for view in views.values()]
    groups = [len(view.groups) for view in views.values()]
    total = composed.due_s + composed.compose_s + render_s
    table = Table(title=f"Composing every due digest at once — {engine.url.get_backend_name()}")
    for column in ("", "value"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [
        ("members due (force: all but 'off')", f"{len(due):,}"),
        ("digests composed / empty", f"{len(views):,} / {sum(1 for v in views.values() if v.is_empty):,}"),
        ("items per digest p50 / p99 / max", _spread(items)),
        ("researchers per digest p50 / p99 / max", _spread(groups)),
        ("blocks per DM p50 / p99 / max (Slack: 50)", _spread(blocks)),
        ("payload bytes p50 / p99 / max", _spread(sizes)),
        ("due_members", f"{composed.due_s:.2f} s"),
        ("compose_views (all members, one call)", f"{composed.compose_s:.2f} s"),
        ("  CPU of this process for both", f"{composed.cpu_s:.2f} s"),
        ("digest_message + payload() for every view", f"{render_s:.2f} s"),
        ("  CPU of this process (json sizing included)", f"{render_cpu:.2f} s"),
        ("total wall (target ≤ 10 s)", f"{total:.2f} s " + ("✓" if total <= 10 else "✗ missed")),
        ("total CPU", f"{composed.cpu_s + render_cpu:.2f} s"),
        ("RSS before", f"{composed.rss_before:,.0f} MiB"),
        ("peak RSS after compose_views", f"{composed.peak:,.0f} MiB"),
        (
            "peak RSS after rendering (target ≤ 500 MB)",
            f"{peak:,.0f} MiB " + ("✓" if peak * 2**20 <= 500e6 else "✗"),
        ),
        ("load average before / after", f"{load} / {_load()}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


class NullSender:
    """A DigestSender that sends nothing: every DM 'succeeds' at once."""

    def __init__(self) -> None:
        self.sent = 0

    def fit(self, digest: DigestView) -> DigestView:
        return fit_digest(digest)  # the real split: one big digest may take several messages

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        self.sent += 1
        return SentMessage(channel=f"D{user_id[1:]}", ts=f"1764494000.{self.sent:06d}")

    def find(
        self, *, team_id: str, user_id: str, channel: str | None, key: str, after: datetime, before: datetime
    ) -> SentMessage | None:
        raise AssertionError("a null send is never unconfirmed")


def deliver_part(args: argparse.Namespace, console: Console) -> None:
    """deliver_due(force=True) over the whole ledger with a null sender and no pacing; then again."""
    engine = make_engine(normalize_database_url(args.database_url))
    console.print(ledger_facts(engine))
    sender = NullSender()
    service = DigestService(engine, sender, pause=lambda _: None, pace_seconds=0.0)
    timer = SqlTimer()
    timer.attach(engine)
    timer.enabled = True
    watches = Stopwatches()
    targets = [
        (ledger, "release_expired", "release_expired"),
        (ledger, "list_members_with_pending", "list_members_with_pending"),
        (ledger, "skip_unfollowed", "skip_unfollowed"),
        (ledger, "claim_pending", "claim_pending"),
        (services.digests.batch, "compose_views", "compose_views"),
        (ledger, "mark_sent", "mark_sent"),
        (Session, "commit", "commit"),
        (sender, "send", "sender (null)"),
    ]
    gc.collect()
    rss_before, _ = memory_mib()
    reset_peak()
    load = _load()
    with watches.patched(targets):
        cpu = time.process_time()
        started = time.perf_counter()
        report = service.deliver_due(now=NOW, force=True)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    _, peak = memory_mib()
    timer.enabled = False
    started = time.perf_counter()
    again = service.deliver_due(now=NOW + timedelta(minutes=5), force=True)
    again_s = time.perf_counter() - started
    console.print(f"first run: {report.summary()}")
    console.print(f"second run: {again.summary()} ({again_s:.2f} s)")
    table = Table(title=f"deliver_due(force=True), null sender, no pacing — {engine.url.get_backend_name()}")
    for column in ("step", "calls", "seconds", "share"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for label, _, _ in [(t[2], 0, 0) for t in targets]:
        seconds = watches.seconds.get(label, 0.0)
        table.add_row(label, f"{watches.calls.get(label, 0):,}", f"{seconds:.2f}", f"{seconds / wall:.0%}")
    table.add_row("[b]wall[/b]", "", f"[b]{wall:.2f}[/b]", "")
    table.add_row("CPU of this process", "", f"{cpu:.2f}", f"{cpu / wall:.0%}")
    console.print(table)
    per_message = wall / max(1, report.messages_sent) * 1000
    console.print(
        f"  {report.messages_sent:,} DMs, {report.items_sent:,} items: {per_message:.2f} ms per DM; "
        f"RSS {rss_before:,.0f} MiB before, peak {peak:,.0f} MiB; load {load} → {_load()}"
    )
    console.print(ledger_facts(engine))
    console.print(sql_table(timer, report.messages_sent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("refresh", "state", "compose", "deliver"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--reset", action="store_true", help="required by refresh and state: empties the store"
    )
    parser.add_argument("--researchers", type=int, help="followed (refresh 10,000; state 5,000)")
    parser.add_argument("--members", type=int, help="refresh 1,000; state 50,000")
    parser.add_argument("--follows", type=int, default=10, help="follows per member")
    parser.add_argument("--works", type=int, default=5_000, help="state: new works")
    parser.add_argument("--zipf", type=float, default=1.0, help="state: popularity exponent")
    parser.add_argument("--work-rate", type=float, default=0.03, help="refresh: new works per researcher")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="refresh: stand-in delay per request")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.part in ("refresh", "state") and not args.reset:
        parser.error(f"{args.part} empties the store first: pass --reset")
    refreshing = args.part == "refresh"
    args.researchers = args.researchers or (10_000 if refreshing else 5_000)
    args.members = args.members or (1_000 if refreshing else 50_000)
    console = Console(width=200)
    parts = {"refresh": refresh_part, "state": state_part, "compose": compose_part, "deliver": deliver_part}
    parts[args.part](args, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
