"""The scheduler: job options, graceful shutdown, SIGTERM, and one active scheduler per PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.leader_lock import AdvisoryLock, SingleProcess, election_for
from bot.runtime import Runtime
from bot.scheduler import SchedulerRunner, add_delivery_job, add_leader_jobs, new_scheduler, on_the_mark
from services.digests.compose import DigestView
from services.digests.delivery import DigestService
from services.digests.port import SentMessage
from services.store.engine import is_postgres
from tests.digest_support import T0, RecordingSender, add_member, author_id, follow
from tests.openalex_works import work_json
from tests.store_support import add_researcher
from tests.test_digests import _queue

WAIT = 30  # seconds: an upper bound for events that normally take milliseconds


def test_jobs_run_every_6_hours_and_5_minutes_with_explicit_options(runtime: Runtime) -> None:
    leader, everyone = new_scheduler(), new_scheduler(1)
    add_leader_jobs(leader, runtime)
    add_delivery_job(everyone, runtime)
    assert {job.id for job in leader.get_jobs()} == {"refresh", "look_ups", "check_backs"}
    assert [job.id for job in everyone.get_jobs()] == ["delivery"]  # on every scheduler
    jobs = {job.id: job for scheduler in (leader, everyone) for job in scheduler.get_jobs()}
    for job_id, every, grace in (
        ("refresh", timedelta(hours=6), 1800),
        ("delivery", timedelta(minutes=5), 240),
        ("look_ups", timedelta(minutes=5), 240),
        ("check_backs", timedelta(hours=1), 1800),
    ):
        job = jobs[job_id]
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval == every
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (grace, True, 1)
    for scheduler in (leader, everyone):
        assert isinstance(scheduler._lookup_jobstore("default"), MemoryJobStore)  # never a shared store


def test_every_scheduler_delivers_on_the_same_five_minute_marks(runtime: Runtime) -> None:
    five, nine_oh_five = timedelta(minutes=5), datetime(2026, 12, 4, 9, 5, tzinfo=UTC)
    assert on_the_mark(datetime(2026, 12, 4, 9, 0, 10, tzinfo=UTC), five) == nine_oh_five
    assert on_the_mark(nine_oh_five, five) == nine_oh_five
    # The trigger counts from the epoch: after the first run, every process runs at :x0 and :x5.
    everyone = new_scheduler(1)
    add_delivery_job(everyone, runtime)
    [job] = everyone.get_jobs()
    after = job.trigger.get_next_fire_time(None, datetime(2026, 12, 4, 9, 1, 7, tzinfo=UTC))
    assert after == nine_oh_five


def test_sqlite_has_a_single_scheduler_and_no_lock(runtime: Runtime) -> None:
    expected = AdvisoryLock if is_postgres(runtime.services.engine) else SingleProcess
    election = election_for(runtime)
    assert isinstance(election, expected)
    if isinstance(election, AdvisoryLock):
        election.dispose()


def test_stopping_lets_the_running_job_finish(runtime: Runtime) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_job() -> None:
        started.set()
        release.wait(WAIT)
        finished.set()

    def install(scheduler: BaseScheduler) -> None:
        scheduler.add_job(slow_job, "interval", hours=1, id="slow", next_run_time=_now())

    runner = SchedulerRunner(
        runtime, election=SingleProcess(), leader_jobs=install, delivery_jobs=lambda _: None, watch_every=0.01
    )
    thread = threading.Thread(target=runner.run)
    thread.start()
    assert started.wait(WAIT)
    runner.stop()
    thread.join(timeout=0.2)
    assert thread.is_alive() and not finished.is_set()  # waiting for the job, not killing it
    release.set()
    thread.join(timeout=WAIT)
    assert not thread.is_alive() and finished.is_set()


def test_the_scheduler_process_stops_gracefully_on_sigterm(database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "OPENALEX_"))}
    env.update(DATABASE_URL=database_url, OPENALEX_URL="http://127.0.0.1:9")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    active = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "scheduler active" in line:
                active.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert active.wait(WAIT), "".join(lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=WAIT)
    log = "".join(lines)
    assert "got SIGTERM" in log and "scheduler stopped" in log and "Traceback" not in log


# -- two schedulers, one PostgreSQL ----------------------------------------------------------------


@pytest.fixture
def pg_engine(engine: Engine) -> Engine:
    if not is_postgres(engine):
        pytest.skip("advisory locks are PostgreSQL's; set TEST_DATABASE_URL (CI does) to run this")
    return engine


class _Counting(RecordingSender):
    """Signals when the n-th digest went out. The first send of each of the first two
    delivering threads waits for the other's: both schedulers deliver, side by side."""

    def __init__(self) -> None:
        super().__init__()
        self.reached: dict[int, threading.Event] = {}
        self.both = threading.Barrier(2, timeout=WAIT)
        self.by_thread: Counter[int] = Counter()

    def expect(self, count: int) -> threading.Event:
        self.reached[count] = event = threading.Event()
        return event

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        me = threading.get_ident()
        if not self.by_thread[me] and len(self.by_thread) < 2:
            self.by_thread[me] = 0
            self.both.wait()
        sent = super().send(team_id=team_id, user_id=user_id, digest=digest, key=key)
        self.by_thread[me] += 1
        for count, event in self.reached.items():
            if len(self.sent) >= count:
                event.set()
        return sent


class _WatchedLock(AdvisoryLock):
    """The real advisory lock, signalling once it has been refused three times."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.refusals = 0
        self.refused_thrice = threading.Event()

    def acquire(self) -> bool:
        got = super().acquire()
        if not got:
            self.refusals += 1
            if self.refusals >= 3:
                self.refused_thrice.set()
        return got


_Runners = tuple[SchedulerRunner, SchedulerRunner, _Counting, list[str]]


@pytest.fixture
def runners(runtime: Runtime, pg_engine: Engine) -> Iterator[_Runners]:
    sender = _Counting()
    leader_runs: list[str] = []  # which scheduler ran the leader's job, run after run
    url = pg_engine.url.render_as_string(hide_password=False)
    made: list[SchedulerRunner] = []

    def make(name: str) -> SchedulerRunner:
        # Each scheduler process has its own service, engine pool and lock session.
        digests = DigestService(pg_engine, sender, pause=lambda _: None, claim_batch=1)

        def deliver(scheduler: BaseScheduler) -> None:
            job = lambda: digests.deliver_due(now=T0)  # noqa: E731
            scheduler.add_job(job, "interval", seconds=0.2, id="delivery", next_run_time=_now())

        def lead(scheduler: BaseScheduler) -> None:
            job = lambda: leader_runs.append(name)  # noqa: E731
            scheduler.add_job(job, "interval", seconds=0.05, id="refresh", next_run_time=_now())

        runner = SchedulerRunner(
            runtime,
            election=_WatchedLock(url),
            leader_jobs=lead,
            delivery_jobs=deliver,
            standby_poll=0.05,
            watch_every=0.05,
        )
        made.append(runner)
        return runner

    yield make("a"), make("b"), sender, leader_runs
    for runner in made:
        runner.stop()
        lock = runner.election
        assert isinstance(lock, AdvisoryLock)
        lock.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _start(runner: SchedulerRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    return thread


def test_both_schedulers_deliver_one_leads_the_other_takes_over_and_nothing_goes_twice(
    runners: _Runners, pg_engine: Engine
) -> None:
    a, b, sender, leader_runs = runners
    researcher = add_researcher(pg_engine, "Ada", openalex_id=author_id(1))
    for n in range(10):
        member = add_member(pg_engine, f"U0M{n:04d}", frequency="instant")
        follow(pg_engine, member, researcher, at=T0 - timedelta(days=9))
    ten = sender.expect(10)
    _queue(pg_engine, [_paper(1)])

    thread_a = _start(a)
    assert a.leading.wait(WAIT)
    thread_b = _start(b)
    lock_b = b.election
    assert isinstance(lock_b, _WatchedLock)
    assert lock_b.refused_thrice.wait(WAIT)  # b keeps asking, and keeps being told no
    assert b.delivering.is_set() and not b.leading.is_set()
    assert ten.wait(WAIT)
    assert not sender.both.broken and len(sender.by_thread) == 2  # a and b both delivered
    assert leader_runs and set(leader_runs) == {"a"}  # the leader's job: a alone

    # a dies: its session goes (as when the process is killed) and PostgreSQL frees the lock.
    lock_a = a.election
    assert isinstance(lock_a, AdvisoryLock) and lock_a.backend_pid is not None
    with pg_engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lock_a.backend_pid})
    a.stop()
    thread_a.join(timeout=WAIT)
    assert b.leading.wait(WAIT)
    taken_over = len(leader_runs)

    twenty = sender.expect(20)
    _queue(pg_engine, [_paper(2)], at=T0 + timedelta(hours=1))
    assert twenty.wait(WAIT)
    b.stop()
    thread_b.join(timeout=WAIT)
    assert set(leader_runs[taken_over:]) == {"b"} and "b" not in leader_runs[: taken_over - 1]

    sent = Counter(
        (view.user_id, item.work_id) for view in sender.sent for g in view.groups for item in g.items
    )
    assert len(sent) == 20 and set(sent.values()) == {1}  # 10 members × 2 works, each once


def _paper(n: int) -> dict[str, object]:
    return work_json(f"W20000000{n}", f"Paper {n}", [(author_id(1), "Ada")])
