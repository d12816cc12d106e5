"""Where the web process's CPU goes for one command: `/peer NAME` and `/peer collaborators`.

    python -m benchmarks.cpu_profile --database-url sqlite:////tmp/bzbench/store_200k.db
    python -m benchmarks.cpu_profile --database-url postgresql://postgres@127.0.0.1/bzpeer_bench_200k

Signed commands go through `app.dispatch` as in bench_profile (listeners inline; a reply that
does not come in the ack is POSTed to the local Slack's response_url), with the logging `bzpeer
serve` configures (JSON lines at INFO, written to /dev/null). Each command is built and signed
before its clock starts (that is Slack's work, not ours), and CPU is the dispatching thread's
(`time.thread_time`): the local Slack server answering a response_url POST runs in another
thread of this process and is not the web process's cost.

Two passes per command kind, alternating kinds: a plain one (wall and CPU per command, no
profiler), then one under cProfile with a CPU-time clock. Every function's own time goes to a
component by its module (below); time in the standard library, builtins and shared helpers
(json, hmac, pydantic, re…) goes to whichever component called it. The profiler inflates code
that makes many small calls, so the table gives each component's share of the profiled CPU and
that share of the plain pass's median CPU: estimates, to say where to cut, not exact costs.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import os
import pstats
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from slack_bolt.request import BoltRequest
from sqlalchemy import text

from benchmarks.bench_profile import bench_app, pick_queries
from bot.local.signed_requests import signed_headers
from bot.logs import configure_logging
from tests.slack_support import SlackDriver, show_command_ack

Func = tuple[str, int, str]  # pstats' key: file, line, function

# (component, test on the function's file and name), first match wins; None: the caller's.
SIGNATURE = "signature check"
BOLT = "Bolt dispatch + middleware"
LOGGING = "logging (request line)"
HANDLERS = "handlers: listener, parsing, context"
RENDER = "Block Kit: our renderers + slack_sdk models"
TO_DICT = "Block Kit: to_dict / payload"
SERVICES = "services (our Python)"
ORM = "SQLAlchemy ORM + sqlmodel"
CORE = "SQLAlchemy Core: compile, execute, rows"
DRIVER = "database driver (psycopg; on SQLite the engine itself)"
RESPOND = "respond(): response_url POST (urllib, json)"
OTHER = "other"
COMPONENTS = (
    SIGNATURE,
    BOLT,
    LOGGING,
    HANDLERS,
    RENDER,
    TO_DICT,
    SERVICES,
    ORM,
    CORE,
    DRIVER,
    RESPOND,
    OTHER,
)

_RULES: list[tuple[str, Callable[[str, str], bool]]] = [
    (SIGNATURE, lambda f, n: "slack_sdk/signature" in f or "request_verification" in f),
    (SIGNATURE, lambda f, n: f.endswith("/bot/app.py") and n in ("is_valid", "process", "verifier")),
    (LOGGING, lambda f, n: f.endswith("/bot/logs.py") or "/logging/" in f),
    (RESPOND, lambda f, n: "slack_sdk/webhook" in f or "context/respond" in f or "http_retry" in f),
    (RESPOND, lambda f, n: any(m in f for m in ("/urllib/request", "/http/client", "/socket.py", "/ssl.py"))),
    (RESPOND, lambda f, n: f == "~" and any(m in n for m in ("socket", "_ssl", "select"))),
    (
        TO_DICT,
        lambda f, n: "slack_sdk/models" in f and n in ("to_dict", "validate_json", "get_non_null_attributes"),
    ),
    (TO_DICT, lambda f, n: f.endswith("/handlers/blocks.py") and n == "payload"),
    (RENDER, lambda f, n: "slack_sdk/models" in f),
    (RENDER, lambda f, n: "/handlers/" in f and (f.endswith("_blocks.py") or f.endswith("blocks.py"))),
    (RENDER, lambda f, n: f.endswith("/handlers/messages.py") or f.endswith("/handlers/values.py")),
    (HANDLERS, lambda f, n: "/handlers/" in f),
    (BOLT, lambda f, n: "slack_bolt/" in f or "/bot/" in f),
    (SERVICES, lambda f, n: "/services/" in f),
    (ORM, lambda f, n: "sqlalchemy/orm/" in f or "/sqlmodel/" in f),
    (CORE, lambda f, n: "sqlalchemy/" in f),
    (DRIVER, lambda f, n: "psycopg" in f or "/sqlite3/" in f),
    (DRIVER, lambda f, n: f == "~" and ("sqlite3" in n or "psycopg" in n)),
]


def own_component(func: Func) -> str | None:
    """The component a function's own time belongs to, or None when it is its caller's."""
    file, _, name = func
    for component, test in _RULES:
        if test(file, name):
            return component
    return None


def attribute(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per component; shared code's time follows its callers'."""
    raw = stats.stats  # type: ignore[attr-defined]
    shares: dict[Func, dict[str, float]] = {}

    def share(func: Func, depth: int = 0) -> dict[str, float]:
        if func in shares:
            return shares[func]
        own = own_component(func)
        if own is not None:
            shares[func] = {own: 1.0}
            return shares[func]
        shares[func] = {OTHER: 1.0}  # a recursion lands here until resolved
        callers = raw.get(func, (0, 0, 0.0, 0.0, {}))[4]
        weights = {caller: edge[2] or edge[3] for caller, edge in callers.items()}
        total = sum(weights.values())
        if not callers or total <= 0 or depth > 60:
            return shares[func]
        mix: dict[str, float] = defaultdict(float)
        for caller, weight in weights.items():
            for component, part in share(caller, depth + 1).items():
                mix[component] += part * weight / total
        shares[func] = dict(mix)
        return shares[func]

    seconds: dict[str, float] = defaultdict(float)
    for func, (_, _, own_time, _, _) in raw.items():
        for component, part in share(func).items():
            seconds[component] += own_time * part
    return seconds


@dataclass
class Pass:
    """Per-command figures of one kind of command."""

    wall: list[float]
    cpu: list[float]
    profiled: dict[str, float]  # own CPU seconds per component, all commands of the profiled pass
    profiled_commands: int


class Dispatcher:
    """Signs each command before the clock starts, then times `app.dispatch` alone."""

    def __init__(self, driver: SlackDriver) -> None:
        self.driver = driver

    def one(self, command_text: str, profiler: cProfile.Profile | None = None) -> tuple[float, float]:
        body = self.driver.command_body(command_text)
        headers = dict(signed_headers(self.driver.secret, body))
        before = len(self.driver.local.calls)
        if profiler:
            profiler.enable()
        cpu, start = time.thread_time(), time.perf_counter()
        # Building the request is the web process's: the WSGI adapter does it from the HTTP body.
        response = self.driver.app.dispatch(BoltRequest(body=body, headers=headers))
        wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
        if profiler:
            profiler.disable()
        show_command_ack(self.driver.local, body, response)  # a reply inside the ack counts too
        replies = [c for c in self.driver.local.calls[before:] if c.method == "response_url"]
        if response.status != 200 or not replies:
            raise SystemExit(f"/peer {command_text!r}: HTTP {response.status}, {len(replies)} replies")
        return wall, cpu


def collaborator_commands(driver: SlackDriver, count: int, seed: int) -> list[str]:
    """`collaborators A9…` for researchers drawn uniformly among those with a work (bench_collab's
    typical group)."""
    engine = driver.app_engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        ids = sorted(
            conn.execute(
                text("SELECT DISTINCT researcher_id FROM authorship WHERE researcher_id IS NOT NULL")
            )
            .scalars()
            .all()
        )
    rng = random.Random(seed)
    # benchmarks.rows gives every synthetic researcher this OpenAlex id.
    return [f"collaborators A9{rid:09d}" for rid in rng.sample(ids, min(count, len(ids)))]


def serve_logging() -> None:
    """The logging `bzpeer serve` sets up (bot/cli.py), its lines thrown away."""
    handler = configure_logging(json_lines=True, level=logging.INFO)
    handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
    logging.getLogger("alembic").setLevel(logging.WARNING)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def component_table(label: str, run: Pass) -> Table:
    median_cpu = statistics.median(run.cpu)
    total = sum(run.profiled.values())
    table = Table(title=f"{label}: web-process CPU by component ({run.profiled_commands} profiled commands)")
    table.add_column("component")
    table.add_column("CPU ms per command", justify="right")
    table.add_column("share", justify="right")
    table.add_column("profiled ms per command", justify="right")
    for component in COMPONENTS:
        seconds = run.profiled.get(component, 0.0)
        if seconds <= 0:
            continue
        share = seconds / total
        table.add_row(component, ms(share * median_cpu), f"{share:.0%}", ms(seconds / run.profiled_commands))
    table.add_row(
        "[b]total[/b] (plain pass: median CPU)", ms(median_cpu), "100%", ms(total / run.profiled_commands)
    )
    return table


def summary_table(runs: dict[str, Pass]) -> Table:
    table = Table(title="Plain pass (no profiler): per command")
    table.add_column("command")
    for column in ("n", "wall p50 ms", "wall p95 ms", "CPU p50 ms", "CPU p95 ms"):
        table.add_column(column, justify="right")
    for label, run in runs.items():
        wall, cpu = sorted(run.wall), sorted(run.cpu)
        table.add_row(
            label,
            str(len(wall)),
            ms(statistics.median(wall)),
            ms(wall[int(0.95 * (len(wall) - 1))]),
            ms(statistics.median(cpu)),
            ms(cpu[int(0.95 * (len(cpu) - 1))]),
        )
    return table


def top_functions(stats: pstats.Stats, count: int) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(count)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300, help="per command kind and pass")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--commands", default="profile,collaborators")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with most own time")
    parser.add_argument("--no-logging", action="store_true", help="no serve-like logging")
    args = parser.parse_args(argv)
    console = Console(width=160)
    kinds = args.commands.split(",")
    with bench_app(args.database_url, demo=False) as (runtime, driver):
        if not args.no_logging:
            serve_logging()
        driver.app_engine = runtime.services.engine  # type: ignore[attr-defined]
        need = 2 * args.requests + args.warmup
        commands: dict[str, list[str]] = {}
        if "profile" in kinds:
            commands["/peer NAME"] = [q.text for q in pick_queries(runtime.services.engine, need, args.seed)]
        if "collaborators" in kinds:
            commands["/peer collaborators"] = collaborator_commands(driver, need, args.seed)
        dispatcher = Dispatcher(driver)
        for texts in commands.values():
            for command_text in texts[: args.warmup]:
                dispatcher.one(command_text)
        gc.collect()
        gc.freeze()  # as `bzpeer serve` does after start-up
        runs = {label: Pass([], [], defaultdict(float), 0) for label in commands}
        profiles: dict[str, pstats.Stats] = {}
        for label, texts in commands.items():
            plain = texts[args.warmup : args.warmup + args.requests]
            profiled = texts[args.warmup + args.requests :]
            for command_text in plain:
                wall, cpu = dispatcher.one(command_text)
                runs[label].wall.append(wall)
                runs[label].cpu.append(cpu)
            profiler = cProfile.Profile(time.thread_time)
            for command_text in profiled:
                dispatcher.one(command_text, profiler)
            stats = pstats.Stats(profiler)
            profiles[label] = stats
            runs[label].profiled = attribute(stats)
            runs[label].profiled_commands = len(profiled)
    console.print(f"store: {args.database_url.split('@')[-1]}; load average {os.getloadavg()[0]:.2f}")
    console.print(summary_table(runs))
    for label, run in runs.items():
        console.print(component_table(label, run))
        if args.top:
            console.print(top_functions(profiles[label], args.top), markup=False, highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
