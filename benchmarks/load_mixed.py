"""Mixed load: 200 concurrent signed slash commands against a real `bzpeer serve` on PostgreSQL.

    python -m benchmarks.load_mixed                                # demo store, 1 warm-up + 5 rounds
    python -m benchmarks.load_mixed --synthetic-researchers 20000  # plus a synthetic store

Each round sends 200 commands at once (profile, papers, collaborators, follow, digest preview,
help; follow and preview from 200 different members, so they write) over HTTP to gunicorn
(2 workers × 8 threads, as `bzpeer serve` runs by default), each with its own response_url on a
local Slack. Measured per round: HTTP status and time to the acknowledgement (Slack's 3 s), time
until the reply reaches the response_url, PostgreSQL connections in use (sampled), pool errors in
the server's log, and the RSS of each gunicorn worker (from /proc) after the round.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from benchmarks.load_support import SECRET, ServerConfig, running_server, server_env
from benchmarks.scratch_db import ADMIN_URL, scratch_postgres
from bot.local.signed_requests import Actor, sign, slash_command_body
from bot.local.slack_server import LocalSlack
from services.store.engine import make_engine
from tests.process_support import free_port

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("profile", "papers", "collaborators", "follow", "digest preview", "help")
ACK_BUDGET = 3.0


@dataclass
class Sent:
    kind: str
    hook: str
    status: int = 0
    ack: float = 0.0
    error: str | None = None


@dataclass
class Round:
    number: int
    sent: list[Sent]
    replies: dict[str, float]  # response_url hook → seconds from the round's start
    started: float
    connections: int
    worker_rss_mb: list[float]
    wall: float
    worker_cpu: float  # CPU seconds the gunicorn workers spent in the round
    load: float  # the machine's 1-minute load average after the round (other processes share it)
    own_cpu: float  # CPU seconds of this process (200 client threads and the local Slack)

    def reply_seconds(self) -> list[float]:
        return [self.replies[s.hook] for s in self.sent if s.hook in self.replies]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path
    rss_samples: list[list[float]] = field(default_factory=list)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        return total

    def rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes


@contextmanager
def serve(env: dict[str, str], workers: int, threads: int) -> Iterator[Server]:
    """`bzpeer serve` with this many workers and threads, once it answers (SIGTERM at the end)."""
    with running_server(ServerConfig("gunicorn", workers, threads), env, timeout=60) as running:
        yield Server(running.process, running.base, running.log)


def _command_text(kind: str, name: str) -> str:
    return {
        "profile": name,
        "papers": f"papers {name}",
        "collaborators": f"collaborators {name}",
        "follow": f"follow {name}",
        "digest preview": "digest preview",
        "help": "help",
    }[kind]


def _send(
    client: httpx.Client,
    base: str,
    slack: LocalSlack,
    kind: str,
    name: str,
    user: str,
    gate: threading.Barrier,
) -> Sent:
    response_url = slack.response_url()
    actor = Actor(team_id="T0LOAD", user_id=user, channel_id="C0LOAD")
    signed = sign(SECRET, slash_command_body(actor, "/peer", _command_text(kind, name), response_url))
    sent = Sent(kind, response_url.rsplit("/", 1)[-1])
    gate.wait()  # every request is ready: they leave together
    started = time.perf_counter()
    try:
        response = client.post(
            f"{base}/slack/events", content=signed.body, headers=signed.headers, timeout=30
        )
        sent.status = response.status_code
        if response.status_code == 200:  # a command answered inside its ack: Slack shows that
            slack.show_ack(response_url, response.content)
    except httpx.HTTPError as error:
        sent.error = type(error).__name__
    sent.ack = time.perf_counter() - started
    return sent


def _pg_connections(database: str) -> int:
    engine = make_engine(ADMIN_URL)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": database}
                ).scalar()
                or 0
            )
    finally:
        engine.dispose()


def run_round(
    number: int,
    server: Server,
    slack: LocalSlack,
    names: list[str],
    size: int,
    rng: random.Random,
    database: str,
) -> Round:
    jobs = [(KINDS[i % len(KINDS)], rng.choice(names), f"U0L{number:02d}{i:04d}") for i in range(size)]
    gate = threading.Barrier(size)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _pg_connections(database))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=0)
    cpu_before, own_before = server.cpu_seconds(), time.process_time()
    started_wall = time.time()
    started = time.perf_counter()
    with httpx.Client(limits=limits) as client, ThreadPoolExecutor(max_workers=size) as pool:
        futures = [
            pool.submit(_send, client, server.base, slack, kind, name, user, gate)
            for kind, name, user in jobs
        ]
        sent = [f.result() for f in futures]
    hooks = {s.hook for s in sent}
    deadline = time.monotonic() + 30
    replies: dict[str, float] = {}
    while time.monotonic() < deadline:
        replies = {
            call.path.rsplit("/", 1)[-1]: call.at - started_wall
            for call in slack.calls_to("response_url")
            if call.path.rsplit("/", 1)[-1] in hooks
        }
        if len(replies) >= len(hooks):
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    cpu, own = server.cpu_seconds() - cpu_before, time.process_time() - own_before
    load = float(Path("/proc/loadavg").read_text().split()[0])
    return Round(
        number, sent, replies, started, peak[0], server.rss_mb(), wall, worker_cpu=cpu, own_cpu=own, load=load
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load_mixed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds, after one warm-up")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--synthetic-researchers", type=int, default=0, help="add a synthetic store of N")
    parser.add_argument("--database", default="bzpeer_load", help="scratch PostgreSQL database name")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", action="store_true", help="use the kept database as it is (no loading)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    slack = LocalSlack(team_id="T0LOAD")
    with scratch_postgres(args.database, args.keep or args.reuse, args.reuse) as url, slack:
        # Nothing in the mix calls OpenAlex; a dead port makes any call fail loudly.
        env = server_env(url, slack, f"http://127.0.0.1:{free_port()}")
        if args.synthetic_researchers and not args.reuse:
            synthetic = [
                "--database-url",
                url,
                "--researchers",
                str(args.synthetic_researchers),
                "--seed",
                "42",
            ]
            subprocess.run(
                [sys.executable, "-m", "benchmarks.synthetic", *synthetic],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        if not args.reuse:
            demo = [sys.executable, "-m", "bot", "demo"]
            subprocess.run(demo, env=env, cwd=tempfile.gettempdir(), check=True, stdout=subprocess.DEVNULL)
        engine = make_engine(url)
        with engine.connect() as conn:
            researchers = int(conn.execute(text("SELECT count(*) FROM researcher")).scalar() or 0)
            works = int(conn.execute(text("SELECT count(*) FROM work")).scalar() or 0)
            sample = [
                str(n)
                for n in conn.execute(
                    text("SELECT name FROM researcher ORDER BY random() LIMIT 40")
                ).scalars()
            ]
            max_connections = int(conn.execute(text("SHOW max_connections")).scalar() or 0)
        engine.dispose()
        names = ["Samyadeep Basu", "Tom Goldstein", "Soheil Feizi", *sample]
        with serve(env, args.workers, args.threads) as server:
            rounds = [run_round(0, server, slack, names, args.concurrency, rng, args.database)]
            for number in range(1, args.rounds + 1):
                rounds.append(run_round(number, server, slack, names, args.concurrency, rng, args.database))
            server_log = server.log.read_text(errors="replace")
        pool_errors = sum(
            1 for line in server_log.splitlines() if "QueuePool limit" in line or "TimeoutError" in line
        )
        error_lines = sum(1 for line in server_log.splitlines() if '"level": "ERROR"' in line)
    _report(args, rounds, (researchers, works, max_connections), pool_errors, error_lines, server.log)
    slow = [s for r in rounds for s in r.sent if s.ack > ACK_BUDGET or s.status != 200]
    return 1 if slow or pool_errors else 0


def _report(
    args: argparse.Namespace,
    rounds: list[Round],
    store: tuple[int, int, int],
    pool_errors: int,
    error_lines: int,
    log: Path,
) -> None:
    researchers, works, max_connections = store
    print(
        f"\nLoad: `bzpeer serve` ({args.workers} workers × {args.threads} threads) on PostgreSQL, "
        f"{researchers:,} researchers / {works:,} works; {args.concurrency} concurrent commands per round "
        f"({', '.join(KINDS)} in turn); server log {log}\n"
    )
    head = ["round", "statuses", "ack p50", "ack p99", "ack max", "reply p50", "reply p99", "reply max"]
    head += ["replies", "PG conns (peak)", "worker CPU s", "client CPU s", "load avg", "worker RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|---|---|" + "---:|" * (len(head) - 3) + "---|")
    for r in rounds:
        acks, replies = [s.ack for s in r.sent], r.reply_seconds()
        statuses = dict(Counter(str(s.status or s.error) for s in r.sent))
        cells = [
            "warm-up" if r.number == 0 else str(r.number),
            str(statuses),
            *(f"{value:.2f} s" for value in (_pct(acks, 0.5), _pct(acks, 0.99), max(acks))),
            *(
                f"{value:.2f} s"
                for value in (_pct(replies, 0.5), _pct(replies, 0.99), max(replies, default=0))
            ),
            f"{len(replies)}/{len(r.sent)}",
            str(r.connections),
            f"{r.worker_cpu:.1f}",
            f"{r.own_cpu:.1f}",
            f"{r.load:.1f}",
            ", ".join(f"{mb:.0f}" for mb in r.worker_rss_mb),
        ]
        print("| " + " | ".join(cells) + " |")
    measured = rounds[1:]
    by_kind: dict[str, list[float]] = {}
    for r in measured:
        for s in r.sent:
            if s.hook in r.replies:
                by_kind.setdefault(s.kind, []).append(r.replies[s.hook])
    print("\n| kind | replies | reply p50 | reply p99 |\n|---|---:|---:|---:|")
    for kind in KINDS:
        values = by_kind.get(kind, [])
        print(f"| {kind} | {len(values)} | {_pct(values, 0.5):.2f} s | {_pct(values, 0.99):.2f} s |")
    acks = [s.ack for r in measured for s in r.sent]
    growth = [b - a for a, b in zip(measured[0].worker_rss_mb, measured[-1].worker_rss_mb, strict=False)]
    print(
        f"\nMeasured rounds: acknowledged within {ACK_BUDGET:.0f} s: "
        f"{sum(1 for a in acks if a <= ACK_BUDGET)} of {len(acks)}; "
        f"non-200: {sum(1 for r in measured for s in r.sent if s.status != 200)}; "
        f"pool errors in the server log: {pool_errors}; ERROR lines: {error_lines}; "
        f"PostgreSQL max_connections {max_connections}; worker RSS round 1 → {len(measured)}: "
        + ", ".join(f"{g:+.1f} MB" for g in growth)
    )


if __name__ == "__main__":
    raise SystemExit(main())
