"""Load over HTTP: signed `/peer NAME` commands against `bzpeer serve` (gunicorn, gthread) and,
side by side in the same run, against Bolt's built-in development server; plus head-of-line
blocking behind a slow OpenAlex.

    python -m benchmarks.bench_load --database-url postgresql://postgres@127.0.0.1/bzpeer_bench_load
    python -m benchmarks.bench_load --database-url URL --configs 2x8,3x8,2x8:32@40,dev --rates 10,20

`--configs` names the servers: "2x8" is `bzpeer serve --workers 2 --threads 8`, "dev" is Bolt's
`App.start` (benchmarks/bolt_devserver.py); ":N" sets BZPEER_LISTENER_THREADS (Bolt's listener
pool) and "@P" sets DATABASE_POOL_SIZE. All servers are started first,
then every window below runs against each of them in turn, so they share the machine's weather.

1. **Load.** `--clients` threads, each with its own keep-alive `httpx.Client`, send `/peer NAME`
   for random researchers of the store (a fresh trigger_id and response_url every time) for
   `--duration` s, after `--warmup` s that are not counted. A command is *answered* when the
   POST got HTTP 200 (the ack) and its reply came, in the ack itself (a card from the store) or
   at the response_url on the local Slack this process runs. Closed loop: a client sends its
   next command once the last one was answered.
   `--rates R,…` adds open-loop runs at R commands/s (latency counted from the scheduled start).
2. **Head-of-line.** `--presses` clients press "Look up on OpenAlex" (block_actions
   `openalex_lookup`, value `{"q": NAME}`) at the same moment; OPENALEX_URL is a local stand-in
   that takes `--openalex-delay` s per request. Right after the presses were acknowledged,
   `--fast` clients send a `/peer NAME` each. Measured: the time until every press's final reply
   (the second post; the first is "Looking up…") reached the local Slack, how many look-ups the
   stand-in served at once, and how long the fast commands took meanwhile.
3. **Profile** (`--profile`): one more closed-loop window per server under py-spy.

CPU seconds are read from /proc for the server's processes, the PostgreSQL backends of the
store, this process (clients and the local Slack) and the whole machine (other = the rest).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from benchmarks.load_support import (
    CpuMeter,
    CpuUse,
    ReplyWaiter,
    Server,
    ServerConfig,
    TimedSlack,
    button_post,
    leaf_table,
    listen_overflows,
    load_average,
    profile_tables,
    py_spy,
    read_stacks,
    running_server,
    server_env,
    slash_post,
    slow_openalex,
)
from bot.local.signed_requests import SignedRequest
from services.store.engine import make_engine
from tests.fake_openalex import OpenAlexServer

SLACK_ACK_BUDGET = 3.0
REPLY_TIMEOUT = 15.0
EVENTS_PATH = "/slack/events"

# ---------------------------------------------------------------------------------------------
# One request


@dataclass
class Sample:
    """One command: when it was due and sent, its ack, its reply (seconds from `sent`)."""

    due: float
    sent: float
    ack: float = 0.0
    status: int = 0
    error: str | None = None
    reply: float | None = None
    outcome: str = "none"
    in_ack: str | None = None  # the fallback text of a reply that came in the ack itself

    @property
    def answered(self) -> bool:
        """HTTP 200 and a reply that is not the app's error message."""
        return self.status == 200 and self.reply is not None and self.outcome != "error"

    @property
    def latency(self) -> float | None:
        """Due time to reply (equals `reply` in closed loop; adds client queueing in open loop)."""
        return None if self.reply is None else self.sent - self.due + self.reply


JSON = "application/json"


def classify(text_: str) -> str:
    """What the reply was, from its fallback text (as benchmarks/bench_profile.py reads it)."""
    if text_.startswith("Several researchers match"):
        return "pick list"
    if text_.startswith("No researcher matching"):
        return "not found"
    if text_.startswith("Something went wrong"):
        return "error"
    if ": Trust " in text_:
        return "card"
    return "other"


def post(http: httpx.Client, server: Server, signed: SignedRequest, sample: Sample) -> None:
    """POST one signed request and note its ack (status, seconds since `sample.sent`)."""
    try:
        response = http.post(server.base + EVENTS_PATH, content=signed.body, headers=signed.headers)
        sample.status = response.status_code
        if response.status_code == 200 and response.headers.get("content-type", "").startswith(JSON):
            sample.in_ack = str(response.json().get("text", ""))
    except httpx.HTTPError as error:
        sample.error = type(error).__name__
    sample.ack = time.perf_counter() - sample.sent


def await_reply(waiter: ReplyWaiter, sample: Sample, timeout: float = REPLY_TIMEOUT) -> None:
    """Wait for the reply that answers `sample` and classify it."""
    if sample.status != 200:
        return
    if sample.in_ack is not None:  # a command answered inside its ack: that is the reply
        sample.reply, sample.outcome = sample.ack, classify(sample.in_ack)
        return
    arrived = waiter.wait(timeout)
    if arrived is None:
        sample.error = sample.error or "no reply"
        return
    sample.reply = arrived - sample.sent
    sample.outcome = classify(waiter.texts[waiter.count - 1])


# ---------------------------------------------------------------------------------------------
# Load


class Schedule:
    """Start times for the clients: as soon as a client is free (rate 0), or every 1/rate s."""

    def __init__(self, start: float, end: float, rate: float) -> None:
        self._start, self._end, self._rate = start, end, rate
        self._next = 0
        self._lock = threading.Lock()

    def next_due(self) -> float | None:
        """When the next command is due, or None once the window is over."""
        with self._lock:
            if self._rate <= 0:
                now = time.perf_counter()
                return now if now < self._end else None
            due = self._start + self._next / self._rate
            self._next += 1
            return due if due < self._end else None


@dataclass
class LoadRun:
    """One load window against one server."""

    server: str
    mode: str
    clients: int
    duration: float
    samples: list[Sample]
    cpu: CpuUse
    openalex_requests: int
    load_start: float
    server_seconds: list[float] = field(default_factory=list)  # inside the server, per request

    def summary(self) -> dict[str, Any]:
        """The figures the tables show."""
        answered = [s for s in self.samples if s.answered]
        acks = [s.ack for s in self.samples if s.status == 200]
        replies = [s.latency for s in answered if s.latency is not None]
        errors = Counter(s.error or s.outcome for s in self.samples if not s.answered)
        return {
            "server": self.server,
            "mode": self.mode,
            "clients": self.clients,
            "sent": len(self.samples),
            "answered": len(answered),
            "throughput": len(answered) / self.duration,
            "ack_p50": pct(acks, 0.50),
            "ack_p99": pct(acks, 0.99),
            "ack_max": max(acks, default=float("nan")),
            "reply_p50": pct(replies, 0.50),
            "reply_p90": pct(replies, 0.90),
            "reply_p99": pct(replies, 0.99),
            "reply_max": max(replies, default=float("nan")),
            # Where a slow reply spent its time: sent late by the load generator (its threads
            # share the cores), or inside the server (dispatch to answer, from its request log).
            "late_p99": pct([s.sent - s.due for s in self.samples], 0.99),
            "server_p99": pct(self.server_seconds, 0.99),
            "over_3s": sum(1 for s in self.samples if s.ack > SLACK_ACK_BUDGET or (s.latency or 0) > 3.0),
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "outcomes": dict(Counter(s.outcome for s in answered)),
            "cpu": asdict(self.cpu),
            "cpu_other": self.cpu.other,
            "openalex_requests": self.openalex_requests,
            "load_start": self.load_start,
        }


def run_load(
    server: Server,
    slack: TimedSlack,
    openalex: OpenAlexServer,
    names: list[str],
    *,
    clients: int,
    duration: float,
    rate: float,
    seed: int,
    database: str,
) -> LoadRun:
    """`clients` threads sending `/peer NAME` for `duration` s (closed loop, or `rate` per s)."""
    slack.forget()
    openalex.reset()
    samples: list[Sample] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    schedule = Schedule(start, start + duration, rate)

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        mine: list[Sample] = []
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(timeout=REPLY_TIMEOUT, limits=limits) as http:
            while (due := schedule.next_due()) is not None:
                signed = slash_post(slack, rng.choice(names))
                waiter = slack.expect(signed.response_url)
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                sample = Sample(due=due, sent=time.perf_counter())
                post(http, server, signed, sample)
                await_reply(waiter, sample)
                mine.append(sample)
        with lock:
            samples.extend(mine)

    threads = [
        threading.Thread(target=client, args=(n,), name=f"client-{n}", daemon=True) for n in range(clients)
    ]
    load_start = load_average()
    log_from = server.log.stat().st_size
    with CpuMeter(server.pids(), database) as meter:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    mode = "closed loop" if rate <= 0 else f"open loop {rate:g}/s"
    return LoadRun(
        server.label,
        mode,
        clients,
        duration,
        samples,
        meter.result,
        len(openalex.requests),
        load_start,
        server_latencies(server.log, log_from),
    )


def server_latencies(log: Path, offset: int) -> list[float]:
    """Seconds each request took inside the server (its request line's latency_ms, logged from
    Bolt's dispatch to the answer), for the lines written after `offset`."""
    seconds = []
    with log.open("rb") as lines:
        lines.seek(offset)
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "latency_ms" in entry:
                seconds.append(float(entry["latency_ms"]) / 1000)
    return seconds


# ---------------------------------------------------------------------------------------------
# Head-of-line


@dataclass
class HolRun:
    """Slow look-ups pressed at once, and fast commands sent while they wait."""

    server: str
    presses: list[Sample]
    fast: list[Sample]
    all_replied: float  # first press sent → last final reply arrived
    openalex_peak: int
    openalex_requests: int
    load: float
    overflows: int

    def summary(self) -> dict[str, Any]:
        """The figures the tables show."""
        press_replies = [s.reply for s in self.presses if s.reply is not None]
        fast_replies = [s.reply for s in self.fast if s.reply is not None]
        return {
            "server": self.server,
            "presses": len(self.presses),
            "all_replied": self.all_replied,
            "press_ack_max": max(s.ack for s in self.presses),
            "press_reply_min": min(press_replies, default=float("nan")),
            "press_reply_p50": pct(press_replies, 0.5),
            "press_reply_max": max(press_replies, default=float("nan")),
            "press_errors": sum(1 for s in self.presses if s.status != 200 or s.reply is None),
            "openalex_peak": self.openalex_peak,
            "openalex_requests": self.openalex_requests,
            "fast": len(self.fast),
            "fast_reply_p50": pct(fast_replies, 0.5),
            "fast_reply_max": max(fast_replies, default=float("nan")),
            "fast_errors": sum(1 for s in self.fast if not s.answered),
            "listen_overflows": self.overflows,
            "load": self.load,
        }


def run_head_of_line(
    server: Server,
    slack: TimedSlack,
    openalex: OpenAlexServer,
    names: list[str],
    *,
    presses: int,
    fast: int,
    seed: int,
) -> HolRun:
    """`presses` look-up presses at once, then `fast` `/peer NAME` while those wait."""
    slack.forget()
    openalex.reset()
    rng = random.Random(seed)
    # One press per member: a member may have only 2 look-ups in flight
    # (services/openalex/lookup_slots.py), so 16 presses by one person would measure that limit.
    press_posts = [
        button_post(
            slack,
            "openalex_lookup",
            json.dumps({"q": f"Nobody Here {rng.randrange(10**6)}"}),
            user_id=f"U0BENCH{i:03d}",
        )
        for i in range(presses)
    ]
    press_waiters = [slack.expect(p.response_url, count=2) for p in press_posts]
    fast_posts = [slash_post(slack, rng.choice(names)) for _ in range(fast)]
    fast_waiters = [slack.expect(p.response_url) for p in fast_posts]
    press_samples = [Sample(0.0, 0.0) for _ in press_posts]
    fast_samples = [Sample(0.0, 0.0) for _ in fast_posts]
    gate = threading.Barrier(presses + fast)
    acked = threading.Barrier(presses + fast)

    def press(i: int) -> None:
        with httpx.Client(timeout=REPLY_TIMEOUT + 30) as http:
            gate.wait()
            sample = press_samples[i]
            sample.due = sample.sent = time.perf_counter()
            post(http, server, press_posts[i], sample)
            acked.wait()
            await_reply(press_waiters[i], sample, timeout=REPLY_TIMEOUT + 30)

    def command(i: int) -> None:
        with httpx.Client(timeout=REPLY_TIMEOUT + 30) as http:
            gate.wait()
            acked.wait()  # every press has been acknowledged: their look-ups are under way
            sample = fast_samples[i]
            sample.due = sample.sent = time.perf_counter()
            post(http, server, fast_posts[i], sample)
            await_reply(fast_waiters[i], sample, timeout=REPLY_TIMEOUT + 30)

    overflows = listen_overflows()
    threads = [threading.Thread(target=press, args=(i,), daemon=True) for i in range(presses)]
    threads += [threading.Thread(target=command, args=(i,), daemon=True) for i in range(fast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first = min(s.sent for s in press_samples)
    finals = [w.times[1] for w in press_waiters if len(w.times) >= 2]
    all_replied = (max(finals) - first) if len(finals) == presses else float("inf")
    return HolRun(
        server.label,
        press_samples,
        fast_samples,
        all_replied,
        openalex.peak,
        len(openalex.requests),
        load_average(),
        listen_overflows() - overflows,
    )


# ---------------------------------------------------------------------------------------------
# The store


def sample_names(engine: Engine, count: int, seed: int) -> tuple[list[str], dict[str, int]]:
    """Names of `count` random researchers (seeded), and the store's row counts."""
    with engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM researcher")).scalar() or 0)
        ids = random.Random(seed).sample(range(1, top + 1), min(count, top))
        names = [
            str(name)
            for name in conn.execute(
                text("SELECT name FROM researcher WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}
            ).scalars()
        ]
        sizes = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)
            for table in ("researcher", "work", "authorship")
        }
    return names, sizes


# ---------------------------------------------------------------------------------------------
# Report


def pct(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    """Seconds as milliseconds for a table cell."""
    value = float(seconds)
    return "—" if value != value else f"{value * 1000:,.0f}"


def load_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of load runs."""
    head = [
        "server",
        "mode",
        "answered",
        "cmd/s",
        "ack p50 ms",
        "ack p99",
        "ack max",
        "reply p50 ms",
        "reply p90",
        "reply p99",
        "reply max",
        "sent late p99",
        "in server p99",
        "> 3 s",
        "errors",
        "card / pick / none",
        "CPU s: server / PG / client / other",
        "PG conns opened",
        "listen overflows",
        "load avg",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for r in rows:
        cpu, outcomes = r["cpu"], r["outcomes"]
        errors = f"{r['errors']}" + (f" {r['error_kinds']}" if r["errors"] else "")
        cells = [
            str(r["server"]),
            str(r["mode"]),
            f"{r['answered']:,}/{r['sent']:,}",
            f"{float(r['throughput']):.1f}",
            *(ms(r[k]) for k in ("ack_p50", "ack_p99", "ack_max")),
            *(ms(r[k]) for k in ("reply_p50", "reply_p90", "reply_p99", "reply_max")),
            ms(r.get("late_p99", float("nan"))),
            ms(r.get("server_p99", float("nan"))),
            str(r["over_3s"]),
            errors,
            " / ".join(str(outcomes.get(k, 0)) for k in ("card", "pick list", "not found")),
            f"{cpu['server']:.0f} / {cpu['postgres']:.0f} / {cpu['client']:.0f} / {r['cpu_other']:.0f}",
            str(cpu["pg_connections_opened"]),
            str(cpu["listen_overflows"]),
            f"{r['load_start']:.1f} → {cpu['load_max']:.1f} max",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def hol_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of head-of-line runs."""
    head = [
        "server",
        "presses",
        "all final replies in",
        "per press: reply min / p50 / max ms",
        "press ack max ms",
        "look-ups at once (stand-in peak)",
        "fast `/peer NAME` meanwhile: reply p50 / max ms",
        "errors",
        "listen overflows",
        "load avg",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [
            str(r["server"]),
            str(r["presses"]),
            f"{float(r['all_replied']):.2f} s",
            " / ".join(ms(r[k]) for k in ("press_reply_min", "press_reply_p50", "press_reply_max")),
            ms(r["press_ack_max"]),
            str(r["openalex_peak"]),
            f"{ms(r['fast_reply_p50'])} / {ms(r['fast_reply_max'])} ({r['fast']})",
            f"{r['press_errors']} + {r['fast_errors']}",
            str(r["listen_overflows"]),
            f"{float(r['load']):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main


@dataclass
class Plan:
    """What to run, from the command line."""

    configs: list[ServerConfig]
    duration: float
    warmup: float
    clients: int
    rates: list[float]
    hol_rounds: int
    presses: int
    fast: int
    seed: int
    profile: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    hol: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Bench:
    """Everything a run needs besides the server under test."""

    plan: Plan
    slack: TimedSlack
    openalex: OpenAlexServer
    names: list[str]
    database: str

    def load(self, server: Server, duration: float, rate: float) -> LoadRun:
        """One load window against `server`."""
        return run_load(
            server,
            self.slack,
            self.openalex,
            self.names,
            clients=self.plan.clients,
            duration=duration,
            rate=rate,
            seed=self.plan.seed,
            database=self.database,
        )

    def record(self, run: LoadRun, suffix: str = "") -> None:
        """Keep and print one load window's summary."""
        summary = run.summary()
        summary["mode"] += suffix
        self.plan.results.append(summary)
        print(load_table([summary]).splitlines()[-1], flush=True)

    def profile(self, server: Server, kind: str) -> None:
        """A closed-loop window with py-spy sampling every process of the server."""
        prefix = f"bzpeer-benchload-pyspy-{kind}-{os.getpid()}"
        with py_spy(server.pids(), self.plan.duration, prefix) as profiles:
            run = self.load(server, self.plan.duration, 0.0)
        self.record(run, ", under py-spy")
        files = " ".join(map(str, profiles.gil + profiles.active))
        print(f"\n{server.label}, py-spy raw stacks: {files}\n")
        print(profile_tables(read_stacks(profiles.gil)) + "\n", flush=True)
        print(leaf_table(read_stacks(profiles.active)) + "\n", flush=True)

    def head_of_line(self, server: Server, round_: int) -> None:
        """One head-of-line round against `server`, kept and printed."""
        hol = run_head_of_line(
            server,
            self.slack,
            self.openalex,
            self.names,
            presses=self.plan.presses,
            fast=self.plan.fast,
            seed=self.plan.seed + round_,
        )
        summary = hol.summary()
        self.plan.hol.append(summary)
        print(hol_table([summary]).splitlines()[-1], flush=True)


def run_plan(bench: Bench, env: dict[str, str]) -> None:
    """Start every server, then take turns: each window (closed loop, each rate, each head-of-line
    round) runs against every server in a row, so that all of them see the same machine."""
    plan = bench.plan
    with ExitStack() as stack:
        servers = [(config, stack.enter_context(running_server(config, env))) for config in plan.configs]
        if plan.warmup > 0:
            for _, server in servers:
                bench.load(server, plan.warmup, 0.0)
        if plan.profile:
            for config, server in servers:
                bench.profile(server, config.kind)
        for rate in [0.0, *plan.rates]:
            for _, server in servers:
                bench.record(bench.load(server, plan.duration, rate))
        for round_ in range(plan.hol_rounds):
            for _, server in servers:
                bench.head_of_line(server, round_)
        for _, server in servers:
            lines = server.log.read_text(errors="replace").splitlines()
            errors = sum(1 for line in lines if '"ERROR"' in line)
            print(f"{server.label}: {errors} ERROR lines in {server.log}", flush=True)


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the plan; print markdown tables; exit 1 if a target was missed."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", required=True, help="a PostgreSQL store (benchmarks.synthetic)")
    parser.add_argument(
        "--configs",
        default="2x8,dev",
        help='servers in turn: "2x8" (bzpeer serve workers×threads), "dev" (Bolt\'s dev server); '
        '":N" sets BZPEER_LISTENER_THREADS, "@P" sets DATABASE_POOL_SIZE, e.g. "2x8:5@5" (the old defaults)',
    )
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rates", default="", help="open-loop rates (commands/s), comma-separated")
    parser.add_argument("--hol-rounds", type=int, default=3, help="head-of-line rounds per server")
    parser.add_argument("--presses", type=int, default=16)
    parser.add_argument("--fast", type=int, default=16, help="/peer NAME sent while the presses wait")
    parser.add_argument("--openalex-delay", type=float, default=1.0)
    parser.add_argument("--names", type=int, default=5000, help="random researchers to draw names from")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="one more closed-loop run under py-spy")
    parser.add_argument("--json", type=Path, default=None, help="write every summary here")
    args = parser.parse_args(argv)
    # SIGTERM (or SIGINT where a shell ignores it for background jobs) still stops the servers.
    signal.signal(signal.SIGTERM, _stop)
    plan = Plan(
        configs=[ServerConfig.parse(v) for v in args.configs.split(",") if v.strip()],
        duration=args.duration,
        warmup=args.warmup,
        clients=args.clients,
        rates=[float(v) for v in args.rates.split(",") if v],
        hol_rounds=args.hol_rounds,
        presses=args.presses,
        fast=args.fast,
        seed=args.seed,
        profile=args.profile,
    )
    engine = make_engine(args.database_url, pool_size=1, max_overflow=1)
    names, sizes = sample_names(engine, args.names, args.seed)
    database = str(make_url(args.database_url).database)
    print(
        f"store: {sizes['researcher']:,} researchers, {sizes['work']:,} works, "
        f"{sizes['authorship']:,} authorships; {len(names):,} names drawn; load avg {load_average():.2f}",
        flush=True,
    )
    started = time.time()
    with TimedSlack(team_id="T0TEAM1") as slack, slow_openalex(args.openalex_delay) as openalex:
        env = server_env(args.database_url, slack, openalex.url)
        run_plan(Bench(plan, slack, openalex, names, database), env)
    engine.dispose()
    print(f"\n{time.strftime('%H:%M', time.localtime(started))}–{time.strftime('%H:%M')}\n")
    print(load_table(plan.results) + "\n\n" + hol_table(plan.hol))
    closed = [r for r in plan.results if r["mode"] == "closed loop"]
    dev = [r for r in closed if str(r["server"]).startswith("Bolt")]
    if dev:
        for r in closed:
            if r is dev[0]:
                continue
            ratio_t = float(r["throughput"]) / max(float(dev[0]["throughput"]), 1e-9)
            ratio_p = float(dev[0]["reply_p99"]) / float(r["reply_p99"])
            print(f"\n{r['server']} vs dev server: throughput ×{ratio_t:.2f}, reply p99 ÷{ratio_p:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"load": plan.results, "head_of_line": plan.hol}, indent=1))
    gunicorn = [r for r in closed if not str(r["server"]).startswith("Bolt")]
    missed = [r for r in gunicorn if float(r["reply_p99"]) >= 0.1 or r["errors"]]
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
