"""Crash safety harness, shared by tests/test_crash_safety.py and benchmarks/chaos.py: a pending
digest ledger, `bzpeer digest --now` processes to SIGKILL (one per run, or several delivering
at once, as schedulers do), a local Slack that can kill one while it answers a
chat.postMessage, and a tally of what reached Slack against what was pending."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.local.slack_server import LocalSlack, RecordedCall
from services.digests.queueing import queue_stored_works
from services.openalex.records import parse_work
from services.openalex.works import store_works
from services.store.engine import session_scope
from services.store.models import MEMBER_CHANNEL, MEMBER_USER, Follow, Member, Researcher, utcnow
from tests.openalex_works import work_json
from tests.slack_support import all_text

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-chaos-token"
_WORK = re.compile(r"Chaos work (W9\d{9})")


def seed_pending(
    engine: Engine,
    *,
    members: int,
    max_works: int,
    rng: random.Random,
    channels: bool = False,
    teams: int = 1,
    frequency: str = "daily",
) -> dict[str, int]:
    """Members (or, with `channels`, channel feeds C0C…) who follow one researcher each (for a
    month), and 1–max_works new works per researcher queued as the refresh job would; the members
    take turns among `teams` workspaces (one: T0CHAOS). Returns work id → member id."""
    now = utcnow()
    owner: dict[str, int] = {}
    works: list[dict[str, Any]] = []
    with session_scope(engine) as session:
        for n in range(1, members + 1):
            author = f"A9{n:09d}"
            researcher = Researcher(slug=f"chaos-{n}", openalex_id=author, name=f"Chaos Researcher {n}")
            team = "T0CHAOS" if teams == 1 else f"T0CHAOS{n % teams:04d}"
            member = Member(
                team_id=team,
                user_id=f"C0C{n:05d}" if channels else f"U0C{n:05d}",
                kind=MEMBER_CHANNEL if channels else MEMBER_USER,
                digest_frequency=frequency,
            )
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
                title = f"Chaos work {work_id}"
                works.append(
                    work_json(
                        work_id, title, [(author, "R")], published=now.date(), venue="Journal of Faults"
                    )
                )
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
    # Settings of every run beyond the store and Slack (BZPEER_…).
    settings: dict[str, str] = field(default_factory=dict)

    def start(self, token: str = TOKEN) -> subprocess.Popen[bytes]:
        """One delivery run; its Slack calls carry `token`, which tells them from other runs'."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BZPEER_", "DATABASE_URL"))}
        env.update(DATABASE_URL=self.database_url, SLACK_BOT_TOKEN=token, SLACK_API_URL=self.slack_url)
        env.update(self.settings, PYTHONPATH=str(ROOT))
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


def works_in(call: RecordedCall) -> set[str]:
    """The works a posted digest names (in its blocks)."""
    blocks = call.params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return set(_WORK.findall(all_text({"blocks": blocks})))


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
    processes: int = 1  # delivery runs at once, as that many schedulers deliver
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

    def start_runs(self) -> list[subprocess.Popen[bytes]]:
        """`processes` delivery runs at once, the n-th with token TOKEN-n (one: TOKEN)."""
        if self.processes == 1:
            return [self.worker.start()]
        return [self.worker.start(f"{TOKEN}-{n}") for n in range(1, self.processes + 1)]

    def kill_at_random(self, window: float = 3.0) -> list[Kill]:
        """Start the runs; once they talk to Slack, SIGKILL each at its own random 0–window s."""
        self._inject_slack_faults()
        before_calls, before_posts = len(self.slack.calls), len(_posts(self.slack))
        processes, started = self.start_runs(), time.monotonic()
        while len(self.slack.calls) == before_calls and any(p.poll() is None for p in processes):
            time.sleep(0.005)
        deadlines = sorted((self.rng.uniform(0, window), n) for n in range(len(processes)))
        begun, kills = time.monotonic(), []
        for after, n in deadlines:
            time.sleep(max(0.0, begun + after - time.monotonic()))
            kill = self.record_kill(processes[n], started, before_posts, "random", last_of_round=False)
            kills += [kill] if kill else []
        return self._end_round(kills)

    def kill_in_flight(self) -> list[Kill]:
        """Start the runs and SIGKILL one while Slack answers one of its chat.postMessage calls;
        the others run on to their end."""
        before_posts = len(_posts(self.slack))
        processes, started = self.start_runs(), time.monotonic()
        by_token = {TOKEN if self.processes == 1 else f"{TOKEN}-{n}": p for n, p in enumerate(processes, 1)}
        skip = self.rng.randint(0, 2)  # which post: the 1st, 2nd or 3rd
        victim: list[subprocess.Popen[bytes]] = []
        killed: list[tuple[float, int]] = []  # when, and the run's posts by then

        def hook(call: RecordedCall) -> None:
            nonlocal skip
            if skip:
                skip -= 1
                self.slack.on_post = hook
                return
            self.in_flight.add(frozenset(works_in(call)))
            process = by_token[call.token or TOKEN]
            victim.append(process)
            killed.append((time.monotonic(), len(_posts(self.slack)) + 1))
            process.send_signal(signal.SIGKILL)
            process.wait()  # the process is gone before Slack's answer is written

        self.slack.on_post = hook
        for process in processes:
            process.wait(timeout=900)
        self.slack.on_post = None
        kills = [self.record_kill(p, started, before_posts, "in flight", last_of_round=False) for p in victim]
        for kill, (at, posts) in zip(kills, killed, strict=True):
            if kill:  # the others ran on: the kill's own moment, not the round's end
                kill.after_seconds, kill.posts_in_run = at - started, posts - before_posts
        return self._end_round([kill for kill in kills if kill])

    def record_kill(
        self,
        process: subprocess.Popen[bytes],
        started: float,
        before_posts: int,
        mode: str,
        *,
        last_of_round: bool = True,
    ) -> Kill | None:
        """SIGKILL the run unless it ended; once the round's last run is gone, its leases run out."""
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
        if last_of_round:
            expire_leases(self.engine)
        return kill

    def _end_round(self, kills: list[Kill]) -> list[Kill]:
        # Runs still delivering hold live claims: only now, with every run of the round gone,
        # is what the killed ones left "sending" theirs alone, and their leases may run out.
        for kill in kills:
            kill.stranded = statuses(self.engine)["sending"]
        expire_leases(self.engine)
        return kills

    def finish(self, max_runs: int = 5) -> int:
        """Runs to completion until nothing is pending; returns how many it took."""
        for run in range(1, max_runs + 1):
            expire_leases(self.engine)
            for process in self.start_runs():
                process.wait(timeout=900)
            left = statuses(self.engine)
            if not (left["pending"] or left["sending"] or left["unconfirmed"]):
                return run
        return max_runs
