"""Delivery on every scheduler (issue 18): one digest wave delivered by 1, 2 and 4 scheduler
processes against a local Slack that answers every call in 50 ms; throughput, CPU per message,
duplicates and losses.

    python -m benchmarks.bench_delivery --database-url postgresql://postgres@127.0.0.1:5432/bzpeer_bench_delivery
    python -m benchmarks.bench_delivery --members 300 --processes 1 4 --code-dir /tmp/main-export   # before

Each run: a fresh store with `--members` instant-digest members in `--workspaces` workspaces
(taking turns, as installs interleave), each with 1–3 new works queued; then N real scheduler
processes (`SchedulerRunner` with the production jobs and pacing; only the delivery interval
is cut to 5 s so that all N start the wave on the same mark instead of waiting for the next
5-minute one). Throughput is messages over the time from the first Slack call to the last
post. CPU over the wave (from half a second before its mark): the scheduler processes' own
(from /proc), the PostgreSQL backends of the store (sampled), this process (the local Slack),
and the whole machine's (busy share of its cores: is the box the limit?).

Per scheduler process (its Slack calls carry its own token): its first Slack call and last post,
from the wave's first call, its posts and CPU. The tail is the wave's last post minus the first
process's last (the wave running short-handed), idle the processes' share of the wave spent with
nothing left to do: work split unevenly. A process's own rate (posts over its first-to-last
span) below the 1-process rate is per-message contention instead (CPU, locks).

`--code-dir` runs the scheduler processes from another checkout (an export of an older
commit, with this file copied into its benchmarks/): the "before" figures.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.local.slack_server import RecordedCall

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-bench-delivery"
# Every scheduler's delivery job runs on these marks (seconds since the epoch).
MARK = 5


def run_scheduler(start_at: float) -> int:
    """One scheduler process (the worker side): production jobs, delivery every MARK s from
    `start_at`; SIGTERM stops it. Imports only what older checkouts have too."""
    from bot.runtime import build_runtime
    from bot.scheduler import JobPlan, SchedulerRunner, run_until_signalled
    from bot.settings import Settings

    runtime = build_runtime(Settings())
    later = timedelta(hours=1)  # refresh and the invitation job stay out of the measurement
    plan = JobPlan(
        deliver_every=timedelta(seconds=MARK),
        first_delivery_after=timedelta(seconds=max(start_at - time.time(), 0)),
        first_refresh_after=later,
        first_check_back_after=later,
    )
    try:
        run_until_signalled(SchedulerRunner(runtime, plan=plan))
    finally:
        runtime.close()
    return 0


@dataclass
class Share:
    """One scheduler process's part of a wave; times in seconds from the wave's first Slack call."""

    first: float
    last: float
    posts: int
    cpu: float

    @property
    def per_second(self) -> float:
        return self.posts / (self.last - self.first) if self.last > self.first else 0.0


@dataclass
class Run:
    processes: int
    messages: int
    items: int
    seconds: float
    scheduler_cpu: float
    postgres_cpu: float
    slack_cpu: float
    duplicates: int
    lost: int
    load: float
    machine_busy: float
    shares: list[Share]
    slack_calls: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def tail(self) -> float:
        """The last post minus the first process's last: how long the wave ran short-handed."""
        ends = [share.last for share in self.shares]
        return max(ends) - min(ends) if ends else 0.0

    @property
    def idle(self) -> float:
        """The processes' share of the wave spent with no work left while others still had some."""
        end = max((share.last for share in self.shares), default=0.0)
        return sum(end - share.last for share in self.shares) / (end * len(self.shares)) if end else 0.0


class BackendCpu:
    """CPU seconds of the store's PostgreSQL backends, sampled every 0.2 s (connections come and go)."""

    def __init__(self, database: str) -> None:
        from benchmarks.load_support import backend_pids

        self._pids = backend_pids
        self._database = database
        self._base = backend_pids(database)
        self._last = dict(self._base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self._last.update(self._pids(self._database))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._last.update(self._pids(self._database))
        return sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self._last.items())


def one_run(args: argparse.Namespace, processes: int) -> Run:
    """A fresh store, one wave, `processes` schedulers."""
    from sqlalchemy.engine import make_url

    from benchmarks.load_support import load_average, machine_busy, process_cpu
    from benchmarks.scratch_db import scratch_database
    from services.store.engine import make_engine, upgrade
    from tests.crash_support import ChaosSlack, seed_pending, statuses, tally

    slack = ChaosSlack(team_id="T0CHAOS", clock=time.time)
    with scratch_database(args.database_url, keep=True) as url, slack:
        engine = make_engine(url)
        upgrade(engine)
        owner = seed_pending(
            engine,
            members=args.members,
            max_works=3,
            rng=random.Random(args.seed),
            teams=args.workspaces,
            frequency="instant",
        )
        for method in ("conversations.open", "chat.postMessage", "conversations.history"):
            slack.slow_next(method, args.latency, times=10**9)
        code = Path(args.code_dir).resolve() if args.code_dir else ROOT
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BZPEER_", "OPENALEX_"))}
        env.update(DATABASE_URL=url, SLACK_API_URL=slack.url, OPENALEX_URL="http://127.0.0.1:9")
        env["PYTHONPATH"] = str(code)
        start_at = (int(time.time()) // MARK + 3) * MARK  # 10–15 s: every process is up by then
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bench_delivery", "scheduler", "--start-at", str(start_at)],
                env={**env, "SLACK_BOT_TOKEN": f"{TOKEN}-{n}"},
                cwd=code,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for n in range(1, processes + 1)
        ]
        # CPU from just before the wave: not the processes' start (imports, migrations).
        time.sleep(max(start_at - 0.5 - time.time(), 0))
        backends = BackendCpu(make_url(url).database or "")
        idle = {p.pid: process_cpu(p.pid) for p in started}
        own, busy, wave_start = time.process_time(), machine_busy(), time.monotonic()
        deadline = time.monotonic() + args.timeout
        while True:
            left = statuses(engine)
            if not (left["pending"] or left["sending"] or left["unconfirmed"]):
                break
            if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                break
            time.sleep(0.2)
        cpu = {n: process_cpu(p.pid) - idle[p.pid] for n, p in enumerate(started, 1)}
        load = load_average()
        busy_share = (machine_busy() - busy) / ((time.monotonic() - wave_start) * (os.cpu_count() or 1))
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(timeout=120)
        slack_cpu = time.process_time() - own
        postgres_cpu = backends.stop()
        outcome = tally(slack, engine, owner)
        posts = [c for c in slack.calls_to("chat.postMessage") if c.error is None]
        first = min(c.at for c in slack.calls if c.method != "response_url")
        shares = [share_of(slack.calls, posts, f"{TOKEN}-{n}", since=first, cpu=cpu[n]) for n in cpu]
        engine.dispose()
    return Run(
        processes=processes,
        messages=len(posts),
        items=outcome.delivered,
        seconds=max(c.at for c in posts) - first,
        scheduler_cpu=sum(cpu.values()),
        postgres_cpu=postgres_cpu,
        slack_cpu=slack_cpu,
        duplicates=outcome.duplicate_items,
        lost=len(outcome.lost),
        load=load,
        machine_busy=busy_share,
        shares=shares,
        slack_calls=sum(1 for c in slack.calls if c.method != "response_url"),
    )


def share_of(
    calls: list[RecordedCall], posts: list[RecordedCall], token: str, *, since: float, cpu: float
) -> Share:
    """One process's part of the wave, from the Slack calls that carry its token."""
    own = [c.at for c in calls if c.token == token]
    sent = [c.at for c in posts if c.token == token]
    return Share(
        first=min(own, default=since) - since, last=max(sent, default=since) - since, posts=len(sent), cpu=cpu
    )


def print_table(args: argparse.Namespace, runs: list[Run]) -> None:
    base = runs[0].per_second if runs else 0.0
    where = f"code {args.code_dir}" if args.code_dir else "this checkout"
    print(
        f"\nDelivery: {args.members} members in {args.workspaces} workspaces, Slack answering every call in "
        f"{args.latency * 1000:.0f} ms, PostgreSQL, {where}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(
        "| schedulers | messages | items | wall s | messages/s | × 1 scheduler | scheduler CPU ms/message "
        "| PostgreSQL CPU ms/message | local Slack CPU ms/message | duplicates | lost | load (1 min) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        per = 1000 / run.messages if run.messages else 0.0
        print(
            f"| {run.processes} | {run.messages} | {run.items} | {run.seconds:.1f} | {run.per_second:.1f} "
            f"| {run.per_second / base if base else 0:.2f} | {run.scheduler_cpu * per:.1f} "
            f"| {run.postgres_cpu * per:.1f} | {run.slack_cpu * per:.1f} | {run.duplicates} | {run.lost} "
            f"| {run.load:.2f} |"
        )
    for run in runs:
        if run.processes == 1 and run.messages:
            # One scheduler works serially: each message waits for its Slack calls, then its own work.
            each, calls = 1000 * run.seconds / run.messages, run.slack_calls / run.messages
            print(
                f"\n1 scheduler: {each:.0f} ms a message = {calls:.2f} Slack calls × "
                f"{args.latency * 1000:.0f} ms + {each - calls * args.latency * 1000:.0f} ms of its own "
                f"(its CPU {run.scheduler_cpu * 1000 / run.messages:.1f} ms, PostgreSQL's "
                f"{run.postgres_cpu * 1000 / run.messages:.1f} ms; the rest is waiting)"
            )
    print(
        "\n| schedulers | process | first call s | last post s | posts | own messages/s "
        "| CPU ms/message | tail s | idle | machine busy |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        for n, share in enumerate(run.shares, 1):
            per = 1000 / share.posts if share.posts else 0.0
            print(
                f"| {run.processes} | {n} | {share.first:.1f} | {share.last:.1f} | {share.posts} "
                f"| {share.per_second:.1f} | {share.cpu * per:.1f} | {run.tail:.1f} | {run.idle:.0%} "
                f"| {run.machine_busy:.0%} |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_delivery", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command")
    worker = sub.add_parser("scheduler", help="(internal) one scheduler process of a run")
    worker.add_argument("--start-at", type=float, required=True)
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/bzpeer_bench_delivery",
        help="a PostgreSQL database this benchmark may drop and re-create",
    )
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--workspaces", type=int, default=60)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the local Slack takes per call")
    parser.add_argument("--code-dir", default=None, help="run the schedulers from this checkout")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if args.command == "scheduler":
        return run_scheduler(args.start_at)
    runs = []
    for processes in args.processes:
        runs.append(one_run(args, processes))
        print(f"{processes} scheduler(s): {runs[-1].per_second:.1f} messages/s", file=sys.stderr)
    print_table(args, runs)
    return 0 if all(r.duplicates == 0 and r.lost == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
