"""Crash safety: SIGKILL a digest delivery run again and again, then count what was lost or sent twice.

    python -m benchmarks.chaos                            # 200 members, 20 + 5 kills, scratch PostgreSQL
    python -m benchmarks.chaos --fuzz-examples 300        # also a long fuzz run, counted in the table
    python -m benchmarks.chaos --database-url sqlite:////tmp/chaos.db --members 40 --kills 4

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

Random Slack faults (500s, 429s with Retry-After 1) are injected between runs too. Works are
unique per member, so "a work delivered to the same member twice" is a work title seen in two
successful posts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from bot.local.slack_server import LocalSlack, RecordedCall
from services.db import make_engine, normalize_database_url, session_scope, upgrade
from services.importer import store_works
from services.ledger import queue_stored_works
from services.models import Follow, Member, Researcher, utcnow
from services.openalex import parse_work

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN = "xoxb-chaos-token"
_WORK = re.compile(r"Chaos work (W9\d{9})")


# ---------------------------------------------------------------------------------------------
# The store


def _work_json(openalex_id: str, author: str, today: str) -> dict[str, Any]:
    return {
        "id": f"https://openalex.org/{openalex_id}",
        "doi": f"https://doi.org/10.5555/{openalex_id.lower()}",
        "title": f"Chaos work {openalex_id}",
        "publication_year": int(today[:4]),
        "publication_date": today,
        "type": "article",
        "primary_location": {"landing_page_url": None, "source": {"display_name": "Journal of Faults"}},
        "authorships": [{"author": {"id": f"https://openalex.org/{author}", "display_name": "R"}}],
    }


def seed_pending(engine: Engine, *, members: int, max_works: int, rng: random.Random) -> dict[str, int]:
    """Members who follow one researcher each (for a month), and 1–max_works new works per
    researcher queued as the refresh job would. Returns work id → member id."""
    now = utcnow()
    owner: dict[str, int] = {}
    works: list[dict[str, Any]] = []
    with session_scope(engine) as session:
        for n in range(1, members + 1):
            author = f"A9{n:09d}"
            researcher = Researcher(slug=f"chaos-{n}", openalex_id=author, name=f"Chaos Researcher {n}")
            member = Member(team_id="T0CHAOS", user_id=f"U0C{n:05d}", digest_frequency="daily")
            session.add_all([researcher, member])
            session.flush()
            session.add(
                Follow(
                    member_id=member.id or 0,
                    researcher_id=researcher.id or 0,
                    created_at=now - timedelta(days=30),
                )
            )
            for k in range(rng.randint(1, max_works)):
                work_id = f"W9{n:06d}{k:03d}"
                works.append(_work_json(work_id, author, now.date().isoformat()))
                owner[work_id] = member.id or 0
    with session_scope(engine) as session:
        stored = store_works(session=session, works=[parse_work(w) for w in works], now=now)
        queued = queue_stored_works(session=session, stored=stored, now=now)
    if queued != len(works):
        raise RuntimeError(f"queued {queued} ledger rows for {len(works)} works")
    return owner


def statuses(engine: Engine) -> Counter[str]:
    """Ledger rows by status."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM delivery GROUP BY status"))
        return Counter({str(status): int(count) for status, count in rows})


def expire_leases(engine: Engine) -> int:
    """The dead process's lease runs out: its "sending" rows become claimable again."""
    with engine.begin() as conn:
        result = conn.execute(
            text("UPDATE delivery SET claimed_until = :past WHERE status = 'sending'"),
            {"past": utcnow() - timedelta(seconds=1)},
        )
        return int(result.rowcount or 0)


@contextmanager
def scratch_database(url: str | None, *, keep: bool = False) -> Iterator[str]:
    """A fresh store: the given SQLite file (deleted first), or a new PostgreSQL database."""
    if url and make_url(normalize_database_url(url)).get_backend_name() == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield url
        return
    name = make_url(normalize_database_url(url)).database if url else "bzpeer_chaos"
    with scratch_postgres(name or "bzpeer_chaos", keep) as scratch:
        yield scratch


@contextmanager
def scratch_postgres(name: str, keep: bool, reuse: bool = False) -> Iterator[str]:
    """A new PostgreSQL database `name` next to ADMIN_URL (or the existing one, with `reuse`),
    dropped afterwards unless `keep`."""
    admin = make_engine(ADMIN_URL)
    if not reuse:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalize_database_url(ADMIN_URL))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        if not keep:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------------------------
# Slack and the worker processes


class ChaosSlack(LocalSlack):
    """LocalSlack that can run a hook while it answers a chat.postMessage: after Slack has taken
    the message, before the sender hears back."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_post: Callable[[RecordedCall], None] | None = None

    def _api_reply(self, call: RecordedCall) -> Any:
        reply = super()._api_reply(call)
        hook = self.on_post
        if hook is not None and call.method == "chat.postMessage" and call.error is None:
            self.on_post = None
            hook(call)
        return reply


@dataclass
class Worker:
    """`bzpeer digest --now` processes against one store and one Slack."""

    database_url: str
    slack_url: str
    cwd: Path
    runs: int = 0

    def start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BZPEER_", "DATABASE_URL"))}
        env.update(DATABASE_URL=self.database_url, SLACK_BOT_TOKEN=TOKEN, SLACK_API_URL=self.slack_url)
        env["PYTHONPATH"] = str(ROOT)
        self.runs += 1
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "digest", "--now"],
            env=env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def run_to_end(self, timeout: float = 900) -> int:
        return self.start().wait(timeout=timeout)


def _posts(slack: LocalSlack) -> list[RecordedCall]:
    return [c for c in slack.calls_to("chat.postMessage") if c.error is None]


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def works_in(call: RecordedCall) -> set[str]:
    """The works a posted digest names (in its blocks)."""
    blocks = call.params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {m for text in _texts(blocks) for m in _WORK.findall(text)}


@dataclass
class Kill:
    number: int
    mode: str
    after_seconds: float
    posts_in_run: int
    stranded: int  # rows left "sending" by the killed run


@dataclass
class Outcome:
    """What reached Slack, against what was pending."""

    expected: int
    delivered: int
    lost: list[str]
    duplicate_items: int
    duplicate_messages: int
    duplicates_after_in_flight_kills: int  # of duplicate_messages: a resend of a message killed in flight
    slack_faults: Counter[str]
    posts: int
    requests: int
    statuses: Counter[str]
    phantom: int  # rows marked sent whose work never reached Slack
    lookups: int  # conversations.history reads for messages whose post was never answered


def tally(
    slack: LocalSlack,
    engine: Engine,
    owner: dict[str, int],
    in_flight: set[frozenset[str]] = frozenset(),  # type: ignore[assignment]
) -> Outcome:
    seen: Counter[str] = Counter()
    messages: Counter[frozenset[str]] = Counter()
    for call in _posts(slack):
        named = works_in(call)
        seen.update(named)
        messages[frozenset(named)] += 1
    with engine.connect() as conn:
        sent_rows = conn.execute(
            text(
                "SELECT w.openalex_id FROM delivery d JOIN work w ON w.id = d.work_id WHERE d.status = 'sent'"
            )
        ).scalars()
        phantom = sum(1 for work in sent_rows if work not in seen)
    return Outcome(
        expected=len(owner),
        delivered=len(set(seen) & set(owner)),
        lost=sorted(set(owner) - set(seen)),
        duplicate_items=sum(count - 1 for count in seen.values() if count > 1),
        duplicate_messages=sum(count - 1 for count in messages.values() if count > 1),
        duplicates_after_in_flight_kills=sum(
            count - 1 for named, count in messages.items() if count > 1 and named in in_flight
        ),
        slack_faults=Counter(
            f"{c.method} {c.error}" for c in slack.calls if c.error in ("fatal_error", "ratelimited")
        ),
        posts=len(_posts(slack)),
        requests=len([c for c in slack.calls if c.method != "response_url"]),
        statuses=statuses(engine),
        phantom=phantom,
        lookups=len(slack.calls_to("conversations.history")),
    )


@dataclass
class Chaos:
    """Kills delivery runs, then lets one finish."""

    engine: Engine
    slack: ChaosSlack
    worker: Worker
    rng: random.Random
    fault_rate: float = 0.5
    kills: list[Kill] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    # The works of each message that was in flight when its sender was killed.
    in_flight: set[frozenset[str]] = field(default_factory=set)

    def _inject_slack_faults(self) -> None:
        if self.rng.random() >= self.fault_rate:
            return
        kind = self.rng.choice(["postMessage 500", "postMessage 429", "open 500"])
        if kind == "postMessage 500":
            self.slack.fail_next("chat.postMessage", status=500)
        elif kind == "postMessage 429":
            self.slack.fail_next("chat.postMessage", status=429, retry_after=1)
        else:
            self.slack.fail_next("conversations.open", status=500)
        self.faults[kind] += 1

    def kill_at_random(self, window: float = 3.0) -> Kill | None:
        """Start a run; once it talks to Slack, wait 0–window s and SIGKILL it."""
        self._inject_slack_faults()
        before_calls, before_posts = len(self.slack.calls), len(_posts(self.slack))
        process, started = self.worker.start(), time.monotonic()
        while len(self.slack.calls) == before_calls and process.poll() is None:
            time.sleep(0.005)
        time.sleep(self.rng.uniform(0, window))
        return self.record_kill(process, started, before_posts, "random")

    def kill_in_flight(self) -> Kill | None:
        """Start a run and SIGKILL it while Slack answers one of its chat.postMessage calls."""
        before_posts = len(_posts(self.slack))
        process, started = self.worker.start(), time.monotonic()
        skip = self.rng.randint(0, 2)  # which post of the run: the 1st, 2nd or 3rd

        def hook(call: RecordedCall) -> None:
            nonlocal skip
            if skip:
                skip -= 1
                self.slack.on_post = hook
                return
            self.in_flight.add(frozenset(works_in(call)))
            process.send_signal(signal.SIGKILL)
            process.wait()  # the process is gone before Slack's answer is written

        self.slack.on_post = hook
        process.wait(timeout=900)
        self.slack.on_post = None
        return self.record_kill(process, started, before_posts, "in flight")

    def record_kill(
        self, process: subprocess.Popen[bytes], started: float, before_posts: int, mode: str
    ) -> Kill | None:
        finished = process.poll() is not None and process.returncode == 0
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        if finished:
            return None  # the run ended before the kill: nothing to count
        kill = Kill(
            number=len(self.kills) + 1,
            mode=mode,
            after_seconds=time.monotonic() - started,
            posts_in_run=len(_posts(self.slack)) - before_posts,
            stranded=statuses(self.engine)["sending"],
        )
        self.kills.append(kill)
        expire_leases(self.engine)
        return kill

    def finish(self, max_runs: int = 5) -> int:
        """Runs to completion until nothing is pending; returns how many it took."""
        for run in range(1, max_runs + 1):
            expire_leases(self.engine)
            self.worker.run_to_end()
            left = statuses(self.engine)
            if not (left["pending"] or left["sending"] or left["unconfirmed"]):
                return run
        return max_runs


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
            chaos = Chaos(engine, slack, Worker(url, slack.url, Path(cwd)), rng, fault_rate=args.fault_rate)
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
    print(f"\nChaos: {backend}, seed {args.seed}, {chaos.worker.runs} delivery runs, {seconds:.0f} s\n")
    print("| | |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    raise SystemExit(main())
