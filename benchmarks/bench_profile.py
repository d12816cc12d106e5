"""`/peer NAME` latency: signed slash commands through the real Bolt app's `app.dispatch`.

    python -m benchmarks.bench_profile --database-url sqlite:////tmp/bench.db --requests 300
    python -m benchmarks.bench_profile --demo            # the bundled demo store, fresh SQLite

Each request is timed end to end: signature check, listener, name search, profile card and the
reply (in the ack; the respond() POST to the local fake Slack's response_url before the card was
answered inside the ack). The app is built exactly as the
tests build it (`build_runtime` + `build_bolt_app(listener_executor=InlineExecutor())`).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from benchmarks.sqltiming import SqlTimer
from bot.app import InlineExecutor, build_bolt_app
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from services.openalex.client import OpenAlexClient
from services.store.models import Researcher
from tests.slack_support import SlackDriver, all_text

SIGNING_SECRET = "bench-signing-secret"
KINDS = ("exact", "typo", "surname", "unaccented")
# Bolt and Settings read these from the environment silently; a developer's shell must not leak.
_ENVIRONMENT = ("SLACK_", "DATABASE_URL", "OPENALEX_", "BZPEER_", "HTTP_PROXY", "HTTPS_PROXY")
_STRAGGLERS = str.maketrans(
    {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae",
     "œ": "oe", "þ": "th", "ı": "i"}
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    target: str  # the researcher's display name the query was made from


@dataclass(frozen=True)
class Sample:
    query: Query
    seconds: float
    cpu_seconds: float  # this process, all threads (the local Slack server's too)
    sql_seconds: float
    outcome: str  # card | pick list | not found | other
    shown: bool  # the target's name is on the reply


def strip_accents(name: str) -> str:
    """What someone types without the accent keys: "Łukasz Dvořák" → "Lukasz Dvorak"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_STRAGGLERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def with_typo(name: str, rng: random.Random) -> str:
    """One edit inside a word (substitute, delete, insert or swap), never the first letter."""
    spots = [i for i, ch in enumerate(name) if ch.isalpha() and i > 0 and name[i - 1].isalpha()]
    if not spots:
        return name + "e"
    i = rng.choice(spots)
    letter = rng.choice("aeiounrstlhcdm")
    edit = rng.choice(("substitute", "delete", "insert", "swap"))
    if edit == "substitute" and name[i].lower() != letter:
        return name[:i] + letter + name[i + 1 :]
    if edit == "delete" and len(name) > 4:
        return name[:i] + name[i + 1 :]
    if edit == "swap" and i + 1 < len(name) and name[i + 1].isalpha() and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + letter + name[i:]


def pick_queries(engine: Engine, count: int, seed: int) -> list[Query]:
    """`count` queries, the four kinds in turn, each made from a random researcher's name."""
    rng = random.Random(seed)
    with Session(engine) as session:
        ids: list[int] = list(session.execute(select(col(Researcher.id))).scalars())
        chosen = rng.sample(ids, 4 * count) if len(ids) > 4 * count else ids
        rows = session.execute(
            select(col(Researcher.id), col(Researcher.name)).where(col(Researcher.id).in_(chosen))
        )
        names: dict[int, str] = {rid: name for rid, name in rows}
    plain = [names[i] for i in chosen if i in names]
    accented = [name for name in plain if strip_accents(name) != name] or plain
    queries = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        name = rng.choice(accented if kind == "unaccented" else plain)
        if kind == "exact":
            text = name
        elif kind == "typo":
            text = with_typo(name, rng)
        elif kind == "surname":
            text = name.split()[-1]
        else:
            text = strip_accents(name)
        queries.append(Query(kind, text, name))
    return queries


def classify(reply: dict[str, Any], target: str) -> tuple[str, bool]:
    """What the user got, and whether the target's name is on it."""
    fallback = str(reply.get("text", ""))
    if fallback.startswith("Several researchers match"):
        outcome = "pick list"
    elif fallback.startswith("No researcher matching"):
        outcome = "not found"
    elif ": Trust " in fallback:
        outcome = "card"
    else:
        outcome = "other"
    return outcome, target in all_text(reply)


def run(driver: SlackDriver, timer: SqlTimer, queries: list[Query]) -> list[Sample]:
    """Send each query as a signed /peer command and time it, reply POST included."""
    samples = []
    for query in queries:
        timer.take_request_total()
        before = len(driver.local.calls)
        cpu = time.process_time()
        start = time.perf_counter()
        response = driver.command(query.text)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        sql = timer.take_request_total()
        calls = driver.local.calls[before:]
        replies = [call.params for call in calls if call.method == "response_url"]
        if response.status != 200 or not replies:
            raise SystemExit(f"/peer {query.text!r}: HTTP {response.status}, {len(replies)} replies")
        outcome, shown = classify(replies[-1], query.target)
        samples.append(Sample(query, elapsed, cpu, sql, outcome, shown))
    return samples


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(np.array(values) * 1000, q):.1f}"


def latency_table(samples: list[Sample], title: str) -> Table:
    """count, median, p95, p99, max per query kind and overall, with what the user saw."""
    table = Table(title=title)
    table.add_column("query kind")
    # CPU: this process, all threads; what a request costs even when the two cores are shared.
    for column in ("n", "median ms", "p95 ms", "p99 ms", "max ms", "CPU p50", "CPU p99", "SQL share"):
        table.add_column(column, justify="right")
    table.add_column("card / pick list / none", justify="right")
    table.add_column("name shown", justify="right")
    groups = [(kind, [s for s in samples if s.query.kind == kind]) for kind in KINDS]
    for label, group in [*groups, ("all", samples)]:
        if not group:
            continue
        seconds = [s.seconds for s in group]
        outcomes = [s.outcome for s in group]
        share = sum(s.sql_seconds for s in group) / sum(seconds)
        table.add_row(
            f"[b]{label}[/b]" if label == "all" else label,
            str(len(group)),
            _ms(seconds, 50),
            _ms(seconds, 95),
            _ms(seconds, 99),
            f"{max(seconds) * 1000:.1f}",
            _ms([s.cpu_seconds for s in group], 50),
            _ms([s.cpu_seconds for s in group], 99),
            f"{share:.0%}",
            " / ".join(f"{outcomes.count(o) / len(group):.0%}" for o in ("card", "pick list", "not found")),
            f"{sum(s.shown for s in group) / len(group):.0%}",
        )
    return table


def sql_table(timer: SqlTimer, requests: int, top: int = 8) -> Table:
    """The statements that cost the most in total, with their tail."""
    table = Table(title=f"SQL by total time over {requests} requests (time to first row on SQLite)")
    table.add_column("statement", no_wrap=True, overflow="ellipsis", max_width=110)
    for column in ("calls", "total ms", "mean ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    ranked = sorted(timer.by_statement.items(), key=lambda item: -sum(item[1]))
    for statement, durations in ranked[:top]:
        table.add_row(
            statement,
            str(len(durations)),
            f"{sum(durations) * 1000:.0f}",
            f"{np.mean(durations) * 1000:.2f}",
            _ms(durations, 99),
            f"{max(durations) * 1000:.1f}",
        )
    return table


def slowest(samples: list[Sample], count: int = 8) -> Table:
    table = Table(title="Slowest requests")
    for column in ("ms", "CPU ms", "SQL ms", "kind", "query", "outcome"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    for sample in sorted(samples, key=lambda s: -s.seconds)[:count]:
        table.add_row(
            f"{sample.seconds * 1000:.1f}",
            f"{sample.cpu_seconds * 1000:.1f}",
            f"{sample.sql_seconds * 1000:.1f}",
            sample.query.kind,
            sample.query.text,
            sample.outcome,
        )
    return table


class GcPauses:
    """Times every garbage collection while alive: gen-2 pauses explain lone slow requests."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        full = [seconds * 1000 for generation, seconds in self.pauses if generation == 2]
        young = [seconds * 1000 for generation, seconds in self.pauses if generation < 2]
        text = f"{len(young)} young collections (max {max(young, default=0):.1f} ms)"
        if full:
            text += f", {len(full)} gen-2 collections of {', '.join(f'{p:.0f}' for p in full)} ms"
        return text + f"; {len(gc.get_objects()):,} tracked objects"


def store_size(engine: Engine) -> str:
    """Row counts of the tables the command reads most."""
    with engine.connect() as conn:
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("researcher", "researcher_name", "work", "authorship")
        }
    return ", ".join(f"{count:,} {table}" for table, count in counts.items())


def _refuse_openalex(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the benchmark must not reach OpenAlex: {request.url}")


@contextmanager
def bench_app(database_url: str, *, demo: bool) -> Iterator[tuple[Runtime, SlackDriver]]:
    """The runtime and a signed-request driver, wired like tests/conftest.py wires them."""
    for name in list(os.environ):
        if name.startswith(_ENVIRONMENT):
            del os.environ[name]
    with LocalSlack(team_id="T0TEAM1") as local:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-bench-token",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=local.url,
            OPENALEX_URL="https://openalex.invalid",
        )
        openalex = OpenAlexClient(
            settings.openalex_url, transport=httpx.MockTransport(_refuse_openalex), max_retries=0
        )
        runtime = build_runtime(settings, migrate=True, openalex=openalex)
        try:
            if demo:
                runtime.services.demo.load()
            app = build_bolt_app(settings, runtime.services, listener_executor=InlineExecutor())
            yield runtime, SlackDriver(app=app, local=local, secret=SIGNING_SECRET, user_id="U0BENCH")
        finally:
            runtime.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url")
    target.add_argument("--demo", action="store_true", help="load the demo into a fresh SQLite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", help="title of the latency table")
    parser.add_argument("--profile", action="store_true", help="cProfile the measured requests")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() after the warm-up, so gen-2 collections skip the start-up objects",
    )
    args = parser.parse_args(argv)
    console = Console(width=180)
    with tempfile.TemporaryDirectory(prefix="bzpeer-bench-") as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'demo.db'}"
        with bench_app(url, demo=args.demo) as (runtime, driver):
            engine = runtime.services.engine
            size = store_size(engine)
            queries = pick_queries(engine, args.requests + args.warmup, args.seed)
            load_before = os.getloadavg()
            timer = SqlTimer()
            timer.attach(engine)
            if runtime.services.ack_engine is not engine:
                timer.attach(runtime.services.ack_engine)  # cards are read inside the ack
            run(driver, timer, queries[: args.warmup])
            if args.gc_freeze:
                gc.collect()
                gc.freeze()
            pauses = GcPauses()
            timer.enabled = True
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            samples = run(driver, timer, queries[args.warmup :])
            pauses.stop()
            if profiler:
                profiler.disable()
    label = args.label or ("demo store (SQLite)" if args.demo else url.split("@")[-1])
    console.print(latency_table(samples, f"/peer NAME through app.dispatch — {label}"))
    console.print(
        f"  store: {size}; warm-up {args.warmup} requests; load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (2 cores shared)"
    )
    console.print(f"  garbage collector: {pauses.summary()}")
    if not any(strip_accents(q.target) != q.target for q in queries if q.kind == "unaccented"):
        console.print("  no accented names in this store: 'unaccented' queries are the names as is")
    console.print(sql_table(timer, len(samples)))
    console.print(slowest(samples))
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        console.print(out.getvalue(), markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
