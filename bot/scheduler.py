"""The scheduler: the refresh job (every 6 h) and the delivery job (every 5 min).

APScheduler 3.x with an in-memory job store: its job stores must never be shared between
schedulers (no cross-process locking; shared stores run jobs twice). Instead, on PostgreSQL
every scheduler process contends for one session-level advisory lock on a dedicated
connection; the holder runs the jobs and the others stand by, retrying every few seconds. When
the holder dies its connection closes, PostgreSQL frees the lock, and a standby takes over.
SQLite is the one-box store: a single scheduler, no lock. Either way the ledger's unique keys
and compare-and-set claims make a second sender harmless, so a split-brain moment sends nothing
twice.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot.runtime import Runtime
from services.store.engine import is_postgres
from services.store.models import utcnow

log = logging.getLogger(__name__)

# pg_try_advisory_lock(bigint) key shared by every scheduler of this app: "bzpeer" in ASCII.
LOCK_KEY = int.from_bytes(b"bzpeer", "big")


@dataclass(frozen=True)
class JobPlan:
    """How often the jobs run and how late a run may still start (misfire_grace_time)."""

    refresh_every: timedelta = timedelta(hours=6)
    deliver_every: timedelta = timedelta(minutes=5)
    # APScheduler's default grace is 1 s: a run that starts 2 s late would be dropped.
    refresh_grace: timedelta = timedelta(minutes=30)
    deliver_grace: timedelta = timedelta(minutes=4)
    # Not at once on start: a crash-looping process must not spend the OpenAlex budget.
    first_refresh_after: timedelta = timedelta(minutes=1)
    first_delivery_after: timedelta = timedelta(seconds=10)
    # Invitation check-backs (7 days after the intro) and expiry: hourly is plenty.
    check_back_every: timedelta = timedelta(hours=1)
    check_back_grace: timedelta = timedelta(minutes=30)
    first_check_back_after: timedelta = timedelta(minutes=2)


def run_refresh(runtime: Runtime) -> None:
    """The refresh job: one cycle, one summary line."""
    report = runtime.services.refresh.refresh(now=utcnow())
    log.info("%s", report.summary())


def run_delivery(runtime: Runtime) -> None:
    """The delivery job: one cycle, one summary line (or why it cannot send); then the
    invitation intros Slack never confirmed, looked up within minutes rather than hourly."""
    digests, invitations = runtime.services.digests, runtime.services.invitations
    if not digests.can_send:
        log.warning("delivery job skipped: no SLACK_BOT_TOKEN to send digests with")
        return
    report = digests.deliver_due(now=utcnow())
    if not report.quiet:
        log.info("%s", report.summary())
    intros = invitations.confirm_intros(now=utcnow())
    if intros.confirmed or intros.resent or intros.dropped or intros.waiting:
        log.info("%s", intros.summary())


def run_check_backs(runtime: Runtime) -> None:
    """The invitation job: expire unanswered invitations, check back on quiet threads."""
    invitations = runtime.services.invitations
    if not invitations.can_send:
        return
    report = invitations.send_check_backs(now=utcnow())
    if report.due or report.expired:
        log.info("%s", report.summary())


def add_jobs(scheduler: BaseScheduler, runtime: Runtime, plan: JobPlan = JobPlan()) -> None:
    """The refresh and delivery jobs, coalesced, one instance each, with explicit grace times."""
    now = utcnow()
    scheduler.add_job(
        run_refresh,
        IntervalTrigger(seconds=plan.refresh_every.total_seconds()),
        args=[runtime],
        id="refresh",
        name="refresh: poll OpenAlex for followed researchers",
        misfire_grace_time=int(plan.refresh_grace.total_seconds()),
        coalesce=True,
        max_instances=1,
        next_run_time=now + plan.first_refresh_after,
    )
    scheduler.add_job(
        run_delivery,
        IntervalTrigger(seconds=plan.deliver_every.total_seconds()),
        args=[runtime],
        id="delivery",
        name="delivery: send due digests",
        misfire_grace_time=int(plan.deliver_grace.total_seconds()),
        coalesce=True,
        max_instances=1,
        next_run_time=now + plan.first_delivery_after,
    )
    scheduler.add_job(
        run_check_backs,
        IntervalTrigger(seconds=plan.check_back_every.total_seconds()),
        args=[runtime],
        id="check_backs",
        name="check-backs: nudge quiet invitation threads",
        misfire_grace_time=int(plan.check_back_grace.total_seconds()),
        coalesce=True,
        max_instances=1,
        next_run_time=now + plan.first_check_back_after,
    )


def new_scheduler() -> BackgroundScheduler:
    """A scheduler with an in-memory job store (never shared). Two workers: two of the three jobs
    can run at once, and each job runs once at a time (max_instances=1)."""
    return BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
        daemon=True,
    )


# ---------------------------------------------------------------------------------------------
# Who runs the jobs


class Election(Protocol):
    def acquire(self) -> bool:
        """Try to become the active scheduler, without waiting."""
        ...

    def held(self) -> bool:
        """Still the active scheduler?"""
        ...

    def release(self) -> None:
        """Step down (also fine when the lock is already gone)."""
        ...


class SingleProcess:
    """SQLite: the one-box store has one scheduler, so it always leads."""

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock held on a dedicated connection.

    Not from the application pool: a pooled connection is shared and recycled, and the lock
    must live exactly as long as this process keeps its own session open. Behind PgBouncer the
    URL must be a direct or session-mode one (transaction pooling breaks session locks).
    """

    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        self.key = key
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Connection | None = None
        self.backend_pid: int | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self.backend_pid = self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            return bool(got)
        except DBAPIError as error:
            log.warning("scheduler lock: PostgreSQL unreachable (%s); retrying", type(error.orig).__name__)
            self._drop()
            return False

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            # A bigint key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
            found = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF},
            ).scalar()
            return bool(found)
        except DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with suppress(DBAPIError):  # the session is gone, and the lock with it
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(DBAPIError):
                self._conn.close()
            self._conn = None
            self.backend_pid = None

    def dispose(self) -> None:
        self._drop()
        self._engine.dispose()


def election_for(runtime: Runtime) -> Election:
    """An advisory lock on PostgreSQL; on SQLite the single process simply leads."""
    engine = runtime.services.engine
    if is_postgres(engine):
        return AdvisoryLock(engine.url.render_as_string(hide_password=False))
    return SingleProcess()


# ---------------------------------------------------------------------------------------------
# The process


JobInstaller = Callable[[BaseScheduler], None]


class SchedulerRunner:
    """Stands by until it holds the lock, then runs the jobs until it loses it or is stopped."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        plan: JobPlan = JobPlan(),
        election: Election | None = None,
        install_jobs: JobInstaller | None = None,
        standby_poll: float = 5.0,
        watch_every: float = 5.0,
        listener: Callable[[JobExecutionEvent], None] | None = None,
    ) -> None:
        self._election = election or election_for(runtime)
        self._install_jobs = install_jobs or (lambda scheduler: add_jobs(scheduler, runtime, plan))
        self._standby_poll = standby_poll
        self._watch_every = watch_every
        self._listener = listener
        self._stop = threading.Event()
        self.leading = threading.Event()
        self.standby_polls = 0

    @property
    def election(self) -> Election:
        return self._election

    def stop(self) -> None:
        """Ask run() to return; a job already running finishes first."""
        self._stop.set()

    def run(self) -> None:
        """Block until stop(): standby ↔ active, as the lock comes and goes."""
        announced = False
        try:
            while not self._stop.is_set():
                if not self._election.acquire():
                    if not announced:
                        log.info(
                            "scheduler standing by: another scheduler is active; retrying every %gs",
                            self._standby_poll,
                        )
                        announced = True
                    self.standby_polls += 1
                    self._stop.wait(self._standby_poll)
                    continue
                announced = False
                self._lead()
        finally:
            self._election.release()
        log.info("scheduler stopped")

    def _lead(self) -> None:
        scheduler = new_scheduler()
        self._install_jobs(scheduler)
        if self._listener is not None:
            scheduler.add_listener(self._listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        self.leading.set()
        log.info("scheduler active: %s", ", ".join(job.name for job in scheduler.get_jobs()))
        try:
            while not self._stop.wait(self._watch_every):
                if not self._election.held():
                    log.warning("scheduler lost its lock; stopping its jobs and standing by")
                    break
        finally:
            self.leading.clear()
            scheduler.shutdown(wait=True)  # graceful: the running job finishes
            self._election.release()


def _quiet_job_runs() -> None:
    # APScheduler logs two INFO lines per run (every 5 minutes); our jobs log a summary line
    # when they did something, and APScheduler still logs failures at ERROR.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


def run_until_signalled(runner: SchedulerRunner) -> None:
    """`bzpeer scheduler`: run in the foreground; SIGTERM / SIGINT stop it gracefully."""
    _quiet_job_runs()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("scheduler got %s; finishing the running job", signal.Signals(signum).name)
        runner.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.run()


@contextmanager
def scheduler_in_background(runtime: Runtime) -> Iterator[SchedulerRunner]:
    """`bzpeer start` on one box: the scheduler in a thread beside the web server / Socket Mode."""
    _quiet_job_runs()
    runner = SchedulerRunner(runtime)
    engines = [runtime.services.engine]
    if isinstance(runner.election, AdvisoryLock):
        engines.append(runner.election.engine)
    # gunicorn forks its workers from this process: a child must never use (or close) the
    # parent's pooled connections, or the lock's session.
    for engine in engines:
        os.register_at_fork(after_in_child=lambda e=engine: e.dispose(close=False))
    thread = threading.Thread(target=runner.run, name="bzpeer-scheduler", daemon=True)
    thread.start()
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is threading.main_thread():
        # Socket Mode has no SIGTERM handling of its own: turn it into a clean exit so the
        # `finally` below lets a running job finish. (gunicorn installs its own handler.)
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(timeout=600)
        if threading.current_thread() is threading.main_thread() and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)
