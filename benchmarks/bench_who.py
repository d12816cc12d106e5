"""`/peer who WORDS` latency: signed slash commands through the real Bolt app's `app.dispatch`.

    python -m benchmarks.bench_who --database-url sqlite:////tmp/bzbench/store_200k_who.db
    python -m benchmarks.bench_who --baseline 3c95343 --rounds 8 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bzpeer_bench_200k_who \\
        --baseline-database-url postgresql://postgres@127.0.0.1:5432/bzpeer_bench_200k

Each request is timed end to end (signature check, listener, full-text search, ranking, the
reply POST to the local fake Slack), wall and this process's CPU, for 2–3-word domain phrases
and single very common words. With --baseline REF, services/research/expertise.py as of git
REF answers every query too, alternating with today's code request by request (A B, then B A),
so before and after share the store, the hour and the load; the tables say how often both
gave the same first page. The app is built as bench_profile builds it (`bench_app`), and only
on a store already at this code's head (the app would migrate it otherwise): benchmark a copy of
a shared store (cp for SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL) if this branch adds
migrations.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Engine

from benchmarks.bench_profile import bench_app
from benchmarks.sqltiming import SqlTimer
from bot.runtime import Runtime
from services.research.expertise import query_words
from services.store.engine import alembic_config, make_engine, normalize_database_url
from tests.slack_support import SlackDriver, all_text

# Domain phrases of the synthetic abstracts, topic fields and title objects: 2–3 words each.
PHRASES = (
    "diffusion models",
    "influence functions",
    "graph neural networks",
    "large language models",
    "protein structure prediction",
    "neural radiance fields",
    "data attribution",
    "optimal transport",
    "gut microbiome",
    "federated learning",
    "causal inference",
    "dark matter",
    "noisy labels",
    "supply chains",
    "soil microbiology",
    "climate modeling",
)
# Single words in a large share of the abstracts.
COMMON = ("model", "data", "learning", "results", "method", "analysis")
KINDS = {"2–3 words": PHRASES, "1 common word": COMMON}
TARGET_MS = {"2–3 words": 50.0, "1 common word": 150.0}
_NAME = re.compile(r"^\*([^*\n]+)\*", re.MULTILINE)


@dataclass(frozen=True)
class Sample:
    kind: str
    query: str
    code: str  # "today" or the baseline ref
    seconds: float
    cpu_seconds: float  # this process, all threads; PostgreSQL's own work is not in it
    sql_seconds: float
    names: tuple[str, ...]  # the researchers on the first page, in order
    header: str  # "Page 1 of N · researchers 1–10 of T", or what the user got instead


def load_baseline(ref: str) -> ModuleType:
    """services/research/expertise.py as of git `ref`, imported under a module name of its own."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{ref}:services/research/expertise.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "bench_baseline_expertise_" + re.sub(r"\W", "_", ref)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    exec(compile(source, f"{ref}:services/research/expertise.py", "exec"), module.__dict__)
    return module


def _header(reply: dict[str, Any]) -> str:
    text = all_text(reply)
    found = re.search(r"Page \d+ of \d+ · researchers [^\n*_]+", text)
    if found:
        return found.group(0)
    return "one page" if "Who works on" in text else str(reply.get("text", ""))[:60]


def run(
    runtime: Runtime,
    driver: SlackDriver,
    timer: SqlTimer,
    plan: list[tuple[str, str, str]],
    baseline: Any | None,
) -> list[Sample]:
    """Send each (kind, query, code) as a signed `/peer who` and time it, reply POST included."""
    service = runtime.services.expertise
    samples = []
    for kind, query, code in plan:
        if code == "today":
            service.__dict__.pop("search", None)
        else:
            service.search = baseline.search  # type: ignore[method-assign,union-attr]
        timer.take_request_total()
        before = len(driver.local.calls)
        cpu = time.process_time()
        start = time.perf_counter()
        response = driver.command(f"who {query}")
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        sql = timer.take_request_total()
        replies = [call.params for call in driver.local.calls[before:] if call.method == "response_url"]
        if response.status != 200 or not replies:
            raise SystemExit(f"/peer who {query!r}: HTTP {response.status}, {len(replies)} replies")
        names = tuple(_NAME.findall(all_text(replies[-1]))[1:])
        samples.append(Sample(kind, query, code, elapsed, cpu, sql, names, _header(replies[-1])))
    service.__dict__.pop("search", None)
    return samples


def make_plan(codes: list[str], rounds: int, seed: int) -> list[tuple[str, str, str]]:
    """Every query `rounds` times in a shuffled order, each code in turn, the order alternating."""
    rng = random.Random(seed)
    queries = [(kind, query) for kind, words in KINDS.items() for query in words]
    plan: list[tuple[str, str, str]] = []
    for round_ in range(rounds):
        rng.shuffle(queries)
        for i, (kind, query) in enumerate(queries):
            order = codes if (round_ + i) % 2 == 0 else codes[::-1]
            plan.extend((kind, query, code) for code in order)
    return plan


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(np.array(values) * 1000, q):.1f}"


def latency_table(samples: list[Sample], codes: list[str], title: str) -> Table:
    """Wall p50/p95/p99/max and CPU p50 per query kind and code, against the targets."""
    table = Table(title=title)
    table.add_column("queries")
    table.add_column("code")
    for column in ("n", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU p50 ms", "SQL share", "target p95"):
        table.add_column(column, justify="right")
    for kind in KINDS:
        for code in codes:
            group = [s for s in samples if s.kind == kind and s.code == code]
            seconds = [s.seconds for s in group]
            p95 = float(np.percentile(np.array(seconds) * 1000, 95))
            met = "met" if p95 <= TARGET_MS[kind] else "MISSED"
            table.add_row(
                kind,
                code,
                str(len(group)),
                _ms(seconds, 50),
                f"{p95:.1f}",
                _ms(seconds, 99),
                f"{max(seconds) * 1000:.1f}",
                _ms([s.cpu_seconds for s in group], 50),
                f"{sum(s.sql_seconds for s in group) / sum(seconds):.0%}",
                f"≤ {TARGET_MS[kind]:.0f} ms {met}",
            )
    return table


def per_query_table(samples: list[Sample], codes: list[str], matches: dict[str, int]) -> Table:
    """Per query: matching works, p50 wall per code, what the user saw, and whether codes agree."""
    table = Table(title="Per query (p50 wall ms; the first page as today's code shows it)")
    today = codes[-1]
    table.add_column("query")
    table.add_column("works matching", justify="right")
    for code in codes:
        table.add_column(f"{code} p50", justify="right")
    table.add_column("first page")
    if len(codes) > 1:
        table.add_column("same first page", justify="right")
    for words in KINDS.values():
        for query in words:
            by_code = {code: [s for s in samples if s.query == query and s.code == code] for code in codes}
            row = [query, f"{matches[query]:,}"]
            row += [_ms([s.seconds for s in by_code[code]], 50) for code in codes]
            row.append(by_code[today][-1].header)
            if len(codes) > 1:
                first = {s.names for s in by_code[codes[0]]}
                other = {s.names for s in by_code[codes[1]]}
                row.append("yes" if first == other else "no")
            table.add_row(*row)
    return table


def matching_works(engine: Engine, query: str) -> int:
    """Works whose title or abstract has every word of `query` (the same full-text indexes)."""
    words = query_words(query)
    if engine.dialect.name == "postgresql":
        sql = text("SELECT count(*) FROM work WHERE fulltext @@ plainto_tsquery('english', :q)")
        values = {"q": " ".join(words)}
    else:
        sql = text("SELECT count(*) FROM work_fts WHERE work_fts MATCH :q")
        values = {"q": " ".join(f'"{word}"' for word in words)}
    with engine.connect() as conn:
        return int(conn.execute(sql, values).scalar_one())


def refuse_to_migrate(url: str) -> None:
    """Stop unless the store is at this code's head: the app would migrate it, and the shared
    benchmark stores must stay as built (copy one and benchmark the copy instead)."""
    engine = make_engine(normalize_database_url(url))
    try:
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        with engine.connect() as conn:
            stored = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if stored != head:
        raise SystemExit(f"{url} is at revision {stored}, this code at {head}: benchmark a copy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=10, help="times each query is sent (per code)")
    parser.add_argument("--baseline", help="git ref of services/research/expertise.py to alternate with")
    parser.add_argument(
        "--baseline-database-url",
        help="the store the baseline reads (read-only, never migrated): the same data at the "
        "baseline's revision when this branch changed the schema; default: --database-url",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", help="title of the latency table")
    args = parser.parse_args(argv)
    console = Console(width=180)
    codes = ["today"] if not args.baseline else [args.baseline, "today"]
    refuse_to_migrate(args.database_url)
    with bench_app(args.database_url, demo=False) as (runtime, driver):
        engine = runtime.services.engine
        baseline_engine = make_engine(args.baseline_database_url) if args.baseline_database_url else engine
        baseline = load_baseline(args.baseline).ExpertiseService(baseline_engine) if args.baseline else None
        matches = {q: matching_works(engine, q) for words in KINDS.values() for q in words}
        timer = SqlTimer()
        timer.attach(engine)
        if runtime.services.ack_engine is not engine:
            timer.attach(runtime.services.ack_engine)  # `who` is answered inside the ack
        if baseline_engine is not engine:
            timer.attach(baseline_engine)
        run(runtime, driver, timer, make_plan(codes, 1, args.seed + 1), baseline)  # warm-up
        load_before = os.getloadavg()
        timer.enabled = True
        samples = run(runtime, driver, timer, make_plan(codes, args.rounds, args.seed), baseline)
    label = args.label or args.database_url.split("@")[-1]
    console.print(latency_table(samples, codes, f"/peer who through app.dispatch — {label}"))
    console.print(
        f"  {args.rounds} rounds of {sum(map(len, KINDS.values()))} queries per code after one warm-up "
        f"round; load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (2 cores shared)"
    )
    console.print(per_query_table(samples, codes, matches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
