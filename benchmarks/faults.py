"""Issue 14's fault list, replayed against real processes: prints fault | expected | seen | holds.

    python -m benchmarks.faults                          # SQLite, then PostgreSQL
    python -m benchmarks.faults --database sqlite --only 1,5
    python -m benchmarks.faults --database postgresql --only 2

Each numbered finding of the issue becomes one or more rows, run one after another (they share
the local Slack's fault queue and the OpenAlex stand-in) against:
- `bzpeer serve` (2 workers × 8 threads, its own port) with SLACK_API_URL on a local Slack
  (bot/local/slack_server.py: a real HTTP server that can answer late or fail), OPENALEX_URL on a local
  OpenAlex (tests/fake_openalex.py: delays, requests that never answer, raw bodies),
  DATABASE_URL on a scratch store (a SQLite file, or a new PostgreSQL database reached through a
  TCP proxy the replay can close);
- `bzpeer refresh`, `bzpeer import`, `bzpeer digest --now` subprocesses on the same store.

"expected" is what the issue calls fixed; "seen" is what happened, with latencies. A row holds
only when everything its expectation names was seen. The exit status is 1 when any row fails.
Times: about 3–4 minutes per database against the unfixed code (it waits out a 30 s SQLite
lock, a 12 s Slack post twice, a 30 s shutdown grace and look-ups that never answer).
"""

from __future__ import annotations

import argparse
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from benchmarks.fault_replay import Replay, scratch_workdir
from benchmarks.fault_support import Row
from benchmarks.faults_http import FINDINGS as HTTP_FINDINGS
from benchmarks.faults_slack import FINDINGS as SLACK_FINDINGS
from benchmarks.faults_store import FINDINGS as STORE_FINDINGS
from benchmarks.scratch_db import scratch_postgres
from bot.local.slack_server import LocalSlack
from tests.fake_openalex import FakeOpenAlex, OpenAlexServer
from tests.openalex_works import WorksStandIn
from tests.outage_support import TcpProxy

FINDINGS: dict[int, Callable[[Replay], list[Row]]] = dict(
    sorted({**STORE_FINDINGS, **SLACK_FINDINGS, **HTTP_FINDINGS}.items())
)


@contextmanager
def replay_world(backend: str, stack: ExitStack) -> Iterator[Replay]:
    """A scratch store of `backend` with the local Slack and OpenAlex around it."""
    # Message timestamps on the wall clock, as Slack's are: finding 4's look-up searches a DM's
    # history around the time of the unanswered post.
    slack = stack.enter_context(LocalSlack(clock=time.time))
    routes, works = FakeOpenAlex(), WorksStandIn()
    routes.add_callable("/works", works)
    routes.add("/autocomplete/authors", {"meta": {"count": 0}, "results": []})
    openalex = stack.enter_context(OpenAlexServer(routes.handle))
    workdir = scratch_workdir()
    stack.callback(shutil.rmtree, workdir, True)
    if backend == "sqlite":
        url = f"sqlite:///{workdir}/faults.db"
        yield Replay(backend, url, url, slack, openalex, routes, works, None, workdir, stack)
        return
    direct = stack.enter_context(scratch_postgres(f"bzpeer_faults_{int(time.time())}", keep=False))
    proxy = TcpProxy("127.0.0.1", 5432)
    proxy.accept()
    stack.callback(proxy.refuse)
    served = direct.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    yield Replay(backend, direct, served, slack, openalex, routes, works, proxy, workdir, stack)


def run_backend(backend: str, only: set[int]) -> tuple[list[Row], float]:
    """Every selected finding against one database; a harness error becomes a failed row."""
    started = time.monotonic()
    rows: list[Row] = []
    with ExitStack() as stack, replay_world(backend, stack) as replay:
        for number, finding in FINDINGS.items():
            if only and number not in only:
                continue
            began = time.monotonic()
            try:
                found = finding(replay)
            except Exception as error:  # the replay goes on; the row says what broke
                traceback.print_exc()
                found = [Row(str(number), "(harness)", "the finding runs", f"harness error: {error!r}"[:200])]
            rows.extend(found)
            print(f"  finding {number}: {time.monotonic() - began:.0f} s", flush=True)
    return rows, time.monotonic() - started


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| # | fault | expected | seen | holds |", "|---|---|---|---|:-:|"]
    for row in rows:
        cells = [row.number, row.fault, row.expected, row.seen, "✓" if row.holds else "✗"]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--only", default="", help="comma-separated finding numbers, e.g. 1,5")
    args = parser.parse_args(argv)
    only = {int(n) for n in args.only.split(",") if n.strip()}
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    failed = 0
    for backend in backends:
        print(f"\n== {backend}", flush=True)
        rows, seconds = run_backend(backend, only)
        held = sum(row.holds for row in rows)
        failed += len(rows) - held
        print(f"\nFault replay, {backend}: {held} of {len(rows)} rows hold ({seconds:.0f} s)\n")
        print(table(rows), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
