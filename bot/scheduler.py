"""The scheduler: digest delivery on every scheduler process (every 5 min), and the jobs that
need one runner on the leader: refresh (every 6 h), look-ups of posts Slack never answered
(every 5 min) and invitation check-backs (hourly).

APScheduler 3.x with in-memory job stores: its job stores must never be shared between
schedulers (no cross-process locking; shared stores run jobs twice). Instead, on PostgreSQL
every scheduler process contends for one session-level advisory lock on a dedicated
connection; the holder runs the leader's jobs and the others stand by for them, retrying every
few seconds. When the holder dies its connection closes, PostgreSQL frees the lock, and a
standby takes over. SQLite is the one-box store: a single scheduler, no lock.

Why each job runs where it does:
- delivery, on every scheduler: the ledger's claims (a lease, SKIP LOCKED, compare-and-set) let
  several processes send at once, each digest once; Slack's 50-odd ms per post, not CPU, is what
  limits one process, so more schedulers deliver a 09:00 wave sooner. Its runs fall on the same
  5-minute marks in every process, so they share a wave from its start.
- refresh, on the leader: a second refresher would ask OpenAlex the same questions and spend the
  same daily budget twice (the ledger's unique keys would keep its answers harmless).
- look-ups, on the leader: conversations.history is Tier 1, about one read a minute per
  workspace; a second reader of the same DM finds nothing new and spends that budget twice.
- check-backs, on the leader: a few threads an hour, each read (conversations.replies) before
  a nudge; their compare-and-set keeps a second runner harmless, and it would only add reads.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.leader_lock import AdvisoryLock, Election, election_for
from bot.runtime import Runtime
from services.store.models import utcnow

log = logging.getLogger(__name__)


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
    # Posts Slack never answered: looked up within minutes, as often as delivery runs.
    look_up_every: timedelta = timedelta(minutes=5)
    look_up_grace: timedelta = timedelta(minutes=4)
    first_look_up_after: timedelta = timedelta(seconds=20)
    # Invitation check-backs (7 days after the intro) and expiry: hourly is plenty.
    check_back_every: timedelta = timedelta(hours=1)
    check_back_grace: timedelta = timedelta(minutes=30)
    first_check_back_after: timedelta = timedelta(minutes=2)


def run_refresh(runtime: Runtime) -> None:
    """The refresh job: one cycle, one summary line."""
    report = runtime.services.refresh.refresh(now=utcnow())
    log.info("%s", report.summary())


def run_delivery(runtime: Runtime) -> None:
    """The delivery job: one cycle, one summary line (or why it cannot send). The posts Slack
    never answered are the look-up job's, on the leader."""
    digests = runtime.services.digests
    if not digests.can_send:
        log.warning("delivery job skipped: no SLACK_BOT_TOKEN to send digests with")
        return
    report = digests.deliver_due(now=utcnow(), look_up=False)
    if not report.quiet:
        log.info("%s", report.summary())


def run_look_ups(runtime: Runtime) -> None:
    """The look-up job: digest messages and invitation intros Slack never confirmed, looked up
    within minutes rather than hourly."""
    digests, invitations = runtime.services.digests, runtime.services.invitations
    if digests.can_send:
        report = digests.look_up_unconfirmed(now=utcnow())
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


def on_the_mark(moment: datetime, every: timedelta) -> datetime:
    """The first multiple of `every` since the epoch at or after `moment` (UTC)."""
    step = every.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, UTC)


def add_delivery_job(scheduler: BaseScheduler, runtime: Runtime, plan: JobPlan = JobPlan()) -> None:
    """Every scheduler's job: delivery, on the same 5-minute marks in every process."""
    every = plan.deliver_every
    scheduler.add_job(
        run_delivery,
        IntervalTrigger(seconds=every.total_seconds(), start_date=datetime.fromtimestamp(0, UTC)),
        args=[runtime],
        id="delivery",
        name="delivery: send due digests",
        misfire_grace_time=int(plan.deliver_grace.total_seconds()),
        coalesce=True,
        max_instances=1,
        next_run_time=on_the_mark(utcnow() + plan.first_delivery_after, every),
    )


def add_leader_jobs(scheduler: BaseScheduler, runtime: Runtime, plan: JobPlan = JobPlan()) -> None:
    """The leader's jobs (refresh, look-ups, check-backs): coalesced, one instance each, with
    explicit grace times."""
    now = utcnow()
    jobs = (
        (run_refresh, "refresh", "refresh: poll OpenAlex for followed researchers",
         plan.refresh_every, plan.refresh_grace, plan.first_refresh_after),
        (run_look_ups, "look_ups", "look-ups: posts Slack never answered",
         plan.look_up_every, plan.look_up_grace, plan.first_look_up_after),
        (run_check_backs, "check_backs", "check-backs: nudge quiet invitation threads",
         plan.check_back_every, plan.check_back_grace, plan.first_check_back_after),
    )  # fmt: skip
    for job, job_id, name, every, grace, first_after in jobs:
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=every.total_seconds()),
            args=[runtime],
            id=job_id,
            name=name,
            misfire_grace_time=int(grace.total_seconds()),
            coalesce=True,
            max_instances=1,
            next_run_time=now + first_after,
        )


def new_scheduler(workers: int = 2) -> BackgroundScheduler:
    """A scheduler with an in-memory job store (never shared). The leader's has two workers: two
    of its three jobs can run at once, and each job runs once at a time (max_instances=1)."""
    return BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone="UTC",
        daemon=True,
    )


# ---------------------------------------------------------------------------------------------
# The process


JobInstaller = Callable[[BaseScheduler], None]


class SchedulerRunner:
    """Delivers from start to stop; runs the leader's jobs while it holds the lock, and stands
    by for them otherwise."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        plan: JobPlan = JobPlan(),
        election: Election | None = None,
        leader_jobs: JobInstaller | None = None,
        delivery_jobs: JobInstaller | None = None,
        standby_poll: float = 5.0,
        watch_every: float = 5.0,
        listener: Callable[[JobExecutionEvent], None] | None = None,
    ) -> None:
        self._election = election or election_for(runtime)
        self._leader_jobs = leader_jobs or (lambda scheduler: add_leader_jobs(scheduler, runtime, plan))
        self._delivery_jobs = delivery_jobs or (lambda scheduler: add_delivery_job(scheduler, runtime, plan))
        self._standby_poll = standby_poll
        self._watch_every = watch_every
        self._listener = listener
        self._stop = threading.Event()
        self.leading = threading.Event()
        self.delivering = threading.Event()
        self.standby_polls = 0

    @property
    def election(self) -> Election:
        return self._election

    def stop(self) -> None:
        """Ask run() to return; jobs already running finish first."""
        self._stop.set()

    def run(self) -> None:
        """Block until stop(): delivering throughout, leading or standing by as the lock comes
        and goes."""
        delivery = self._start(self._delivery_jobs, workers=1)
        self.delivering.set()
        log.info("scheduler delivering: %s", ", ".join(job.name for job in delivery.get_jobs()))
        announced = False
        try:
            while not self._stop.is_set():
                if not self._election.acquire():
                    if not announced:
                        log.info(
                            "scheduler standing by for refresh and look-ups: another scheduler "
                            "leads; retrying every %gs",
                            self._standby_poll,
                        )
                        announced = True
                    self.standby_polls += 1
                    self._stop.wait(self._standby_poll)
                    continue
                announced = False
                self._lead()
        finally:
            self.delivering.clear()
            delivery.shutdown(wait=True)  # graceful: a running delivery cycle finishes
            self._election.release()
        log.info("scheduler stopped")

    def _start(self, install: JobInstaller, *, workers: int) -> BackgroundScheduler:
        scheduler = new_scheduler(workers)
        install(scheduler)
        if self._listener is not None:
            scheduler.add_listener(self._listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start()
        return scheduler

    def _lead(self) -> None:
        scheduler = self._start(self._leader_jobs, workers=2)
        self.leading.set()
        log.info("scheduler active: %s", ", ".join(job.name for job in scheduler.get_jobs()))
        try:
            while not self._stop.wait(self._watch_every):
                if not self._election.held():
                    log.warning("scheduler lost its lock; stopping the leader's jobs and standing by")
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
