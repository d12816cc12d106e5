"""Crash safety: SIGKILL a digest delivery run again and again, then count what was lost or sent twice.

    python -m benchmarks.chaos                            # 200 members, 20 + 5 kills, scratch PostgreSQL
    python -m benchmarks.chaos --fuzz-examples 300        # also a long fuzz run, counted in the table
    python -m benchmarks.chaos --database-url sqlite:////tmp/chaos.db --members 40 --kills 4
    python -m benchmarks.chaos --processes 4 --members 800     # 4 runs delivering at once each time

A pending ledger (every member follows one researcher who has 1–3 new works) is delivered by
`bzpeer digest --now` processes against a local Slack that records every chat.postMessage.
`bzpeer scheduler` runs its first delivery 10 s after start and then every 5 minutes, too slow to
kill 20 times, so each run is the one-shot command (the same `DigestService.deliver_due`).

Two kinds of kill:
- random: once the run has started talking to Slack, wait a random 0–3 s, SIGKILL;
- in flight: SIGKILL while Slack is answering a chat.postMessage: Slack has the message, the
  process never learns its ts. The message carries its ledger key as metadata, so the next run
  finds it in the DM's history instead of sending it again; the table counts these separately.

A killed run leaves its claimed rows "sending" under a 15-minute lease. Between runs the lease
is expired in the store (the process holding it is dead: this is the 15 minutes passing, not a
shortcut past a live claim), so the next run takes those rows back at once: rows no message
carried yet go out again, rows of a message that may have been posted are looked up first.
The local Slack stamps messages with the real time, as Slack does, for the look-up's window.

With `--processes N` every run is N such processes delivering the same ledger at once, as N
schedulers do: a random kill SIGKILLs each at its own random moment; an in-flight kill SIGKILLs
the one whose post Slack is answering and lets the others run to their end. Leases are expired
only once every process of the run is gone.

Random Slack faults (500s, 429s with Retry-After 1) are injected between runs too. Works are
unique per member, so "a work delivered to the same member twice" is a work title seen in two
successful posts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.scratch_db import scratch_database
from services.store.engine import make_engine, upgrade
from tests.crash_support import Chaos, ChaosSlack, Outcome, Worker, seed_pending, tally

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# The fuzz run (its counts go into the same table)


def run_fuzz(examples: int) -> dict[str, dict[str, int]]:
    """tests/test_fuzz.py with more examples; inputs tried and requests sent per fuzz test."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as out:
        tally_path = out.name
    env = {**os.environ, "BZPEER_FUZZ_EXAMPLES": str(examples), "BZPEER_FUZZ_TALLY": tally_path}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:logging",
            "tests/test_fuzz.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    counts: dict[str, dict[str, int]] = {}
    for line in Path(tally_path).read_text().splitlines():
        entry = json.loads(line)
        counts[entry["test"]] = {"inputs": entry["inputs"], "requests": entry["requests"]}
    Path(tally_path).unlink(missing_ok=True)
    if result.returncode != 0:
        print(result.stdout[-4000:], file=sys.stderr)
        raise SystemExit("the fuzz run failed; see above")
    return counts


# ---------------------------------------------------------------------------------------------
# Main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="default: a scratch PostgreSQL bzpeer_chaos")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--max-works", type=int, default=3)
    parser.add_argument("--kills", type=int, default=20, help="random kills")
    parser.add_argument("--processes", type=int, default=1, help="delivery processes per run, at once")
    parser.add_argument("--in-flight-kills", type=int, default=5)
    parser.add_argument(
        "--fault-rate", type=float, default=0.5, help="chance of a Slack fault before each run"
    )
    parser.add_argument("--fuzz-examples", type=int, default=0, help="also run tests/test_fuzz.py this long")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.monotonic()
    fuzz = run_fuzz(args.fuzz_examples) if args.fuzz_examples else {}
    slack = ChaosSlack(team_id="T0CHAOS", clock=time.time)
    with scratch_database(args.database_url, keep=args.keep) as url, slack:
        engine = make_engine(url)
        upgrade(engine)
        owner = seed_pending(engine, members=args.members, max_works=args.max_works, rng=rng)
        with tempfile.TemporaryDirectory() as cwd:
            worker = Worker(url, slack.url, Path(cwd))
            chaos = Chaos(engine, slack, worker, rng, fault_rate=args.fault_rate, processes=args.processes)
            for _ in range(args.kills):
                chaos.kill_at_random()
            for _ in range(args.in_flight_kills):
                chaos.kill_in_flight()
            finishing_runs = chaos.finish()
        outcome = tally(slack, engine, owner, chaos.in_flight)
        backend = (
            f"PostgreSQL ({make_url(url).database})" if engine.dialect.name == "postgresql" else "SQLite"
        )
        engine.dispose()
    _print_report(args, chaos, outcome, fuzz, backend, finishing_runs, time.monotonic() - started)
    return 0 if not outcome.lost and not outcome.phantom else 1


def _print_report(
    args: argparse.Namespace,
    chaos: Chaos,
    outcome: Outcome,
    fuzz: dict[str, dict[str, int]],
    backend: str,
    finishing_runs: int,
    seconds: float,
) -> None:
    random_kills = [k for k in chaos.kills if k.mode == "random"]
    in_flight = [k for k in chaos.kills if k.mode == "in flight"]
    print("\nKills (a run that finished before its kill is not counted):\n")
    print("| # | kind | killed after | posts in that run | rows left sending |")
    print("|---:|---|---:|---:|---:|")
    for k in chaos.kills:
        print(f"| {k.number} | {k.mode} | {k.after_seconds:.1f} s | {k.posts_in_run} | {k.stranded} |")
    inputs = sum(entry["inputs"] for entry in fuzz.values())
    fuzz_requests = sum(entry["requests"] for entry in fuzz.values())
    fuzz_detail = (
        ", ".join(f"{name}: {e['inputs']} inputs, {e['requests']} requests" for name, e in fuzz.items())
        if fuzz
        else "no fuzz run (--fuzz-examples)"
    )
    # Faults that hit a request (one injected just before a kill waits for the next run).
    hits = outcome.slack_faults
    slack_faults = sum(hits.values())
    fault_detail = ", ".join(f"{count} × {kind}" for kind, count in sorted(hits.items())) or "none"
    random_duplicates = outcome.duplicate_messages - outcome.duplicates_after_in_flight_kills
    rows = [
        ("inputs tried", f"{inputs + outcome.expected:,} ({fuzz_detail}; {outcome.expected} digest items)"),
        (
            "faults injected",
            f"{len(chaos.kills) + slack_faults} ({len(random_kills)} SIGKILL at a random point, "
            f"{len(in_flight)} SIGKILL with a post in flight, {slack_faults} Slack faults: {fault_detail})",
        ),
        (
            "requests sent",
            f"{outcome.requests + fuzz_requests:,} ({outcome.requests:,} Slack Web API calls by the delivery "
            f"runs, {outcome.posts} successful chat.postMessage; "
            f"{fuzz_requests:,} signed requests by the fuzz run)",
        ),
        ("items delivered", f"{outcome.delivered} of {outcome.expected} ({finishing_runs} run(s) to finish)"),
        ("items lost", f"{len(outcome.lost)}{' ' + str(outcome.lost[:5]) if outcome.lost else ''}"),
        (
            "duplicates",
            f"{outcome.duplicate_messages} messages ({outcome.duplicate_items} items) sent twice: "
            f"{random_duplicates} after the {len(random_kills)} random kills, "
            f"{outcome.duplicates_after_in_flight_kills} after the {len(in_flight)} in-flight kills "
            "(target: 0; each message is looked up by its key before it is sent again)",
        ),
        (
            "look-ups",
            f"{outcome.lookups} `conversations.history` reads, each for a message whose sender died "
            "or never heard back, before anything was sent again",
        ),
        (
            "ledger at the end",
            f"{dict(sorted(outcome.statuses.items()))}; marked sent but never posted: {outcome.phantom}",
        ),
    ]
    runs = f"{chaos.worker.runs} delivery runs"
    if args.processes > 1:
        runs += f", {args.processes} at once"
    print(f"\nChaos: {backend}, seed {args.seed}, {runs}, {seconds:.0f} s\n")
    print("| | |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    raise SystemExit(main())
