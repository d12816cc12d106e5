"""Digest delivery: one DM per due member with what their followed researchers published.

The ledger (services/ledger.py) holds one row per member and work. `DigestService.deliver_due`
claims a due member's pending rows (compare-and-set, with a lease), sends them as ONE message
through the `DigestSender` port, then marks them sent with the Slack channel and ts in one commit.
A crash between claim and settle leaves the rows "sending" until the lease runs out; they then go
back to pending, so nothing is lost, and nothing settled is ever sent again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from services import ledger
from services.db import chunks, session_scope
from services.digest_views import DigestGroup, DigestItem, DigestView, compose_views, prefs_of
from services.models import Member
from services.schedule import as_utc, is_due

# The view types live with their composition; services.digests is where callers import them.
__all__ = [
    "DeliveryReport",
    "DigestGroup",
    "DigestItem",
    "DigestSender",
    "DigestService",
    "DigestView",
    "RecipientGone",
    "SentMessage",
    "TemporaryFailure",
    "compose_views",
]

log = logging.getLogger(__name__)

# Long enough for one send with slack_sdk's Retry-After waits; short enough that a crashed
# scheduler's claim comes back within a few delivery cycles.
LEASE = timedelta(minutes=15)
# Slack's guidance is about one message per second per channel, with a workspace-wide cap of
# "several hundred per minute": every DM is its own channel, so a short pause keeps us well
# inside the workspace cap without making a big workspace wait an hour.
PACE_SECONDS = 0.25
# Members claimed per transaction: big enough to amortise the claim, small enough to send well
# within one lease.
CLAIM_BATCH = 25
# A row that failed this many claims (Slack kept refusing the message) is parked rather than
# retried forever; at one attempt per due digest this is weeks for a daily digest.
MAX_ATTEMPTS = 30


# ---------------------------------------------------------------------------------------------
# The sending port


@dataclass(frozen=True)
class SentMessage:
    channel: str
    ts: str


class RecipientGone(Exception):
    """The member cannot be reached (left the workspace, deactivated, blocked the bot)."""


class TemporaryFailure(Exception):
    """The send failed for now (rate limit after retries, 5xx, timeout); try next cycle."""

    def __init__(self, message: str, *, rate_limited: bool = False) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited


class DigestSender(Protocol):
    def send(self, *, team_id: str, user_id: str, digest: DigestView) -> SentMessage:
        """Deliver one digest as a DM; raise RecipientGone or TemporaryFailure on failure."""
        ...


@dataclass
class DeliveryReport:
    """What one delivery cycle did."""

    members_due: int = 0
    messages_sent: int = 0
    items_sent: int = 0
    members_parked: int = 0
    items_parked: int = 0
    failures: int = 0
    rate_limited: bool = False
    expired_claims: int = 0
    parked_member_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs and the command line."""
        line = (
            f"Digest: {self.messages_sent} message{'s' if self.messages_sent != 1 else ''} sent "
            f"({self.items_sent} item{'s' if self.items_sent != 1 else ''}) to {self.members_due} due "
            f"member{'s' if self.members_due != 1 else ''}; {self.members_parked} parked, "
            f"{self.failures} failed (retried next cycle)"
        )
        if self.rate_limited:
            line += "; stopped early: Slack rate limit"
        return line + "."


# ---------------------------------------------------------------------------------------------
# The service


class DigestService:
    """Previews and delivers digests; the only writer of ledger rows after they are queued."""

    def __init__(
        self,
        engine: Engine,
        sender: DigestSender | None = None,
        *,
        pause: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pace_seconds: float = PACE_SECONDS,
        lease: timedelta = LEASE,
        claim_batch: int = CLAIM_BATCH,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._pause = pause
        self._monotonic = monotonic
        self._pace_seconds = pace_seconds
        self._lease = lease
        self._claim_batch = max(1, claim_batch)
        self._max_attempts = max_attempts

    @property
    def can_send(self) -> bool:
        """False when no sender was configured (e.g. no Slack bot token)."""
        return self._sender is not None

    def preview(self, member_id: int, *, now: datetime) -> DigestView:
        """What the member's next digest would hold right now; nothing is marked."""
        del now  # the ledger already holds what is due; kept for a stable, time-injected API
        with session_scope(self._engine) as session:
            member = session.get(Member, member_id)
            if member is None:
                raise LookupError(f"no member {member_id}")
            views = compose_views(session=session, member_ids=[member_id])
        return views[member_id]

    def due_member_ids(self, *, now: datetime, force: bool = False) -> list[int]:
        """Members with pending rows whose digest is due at `now` (force: all but "off")."""
        now = as_utc(now)
        due: list[int] = []
        after = 0
        with session_scope(self._engine) as session:
            while True:
                page = ledger.list_members_with_pending(session=session, after_member_id=after)
                if not page:
                    return due
                after = page[-1]
                query = select(Member).where(col(Member.id).in_(page)).order_by(col(Member.id))
                members = session.exec(query)
                for member in members:
                    prefs = prefs_of(member)
                    if prefs.frequency == ledger.FREQUENCY_OFF:
                        continue
                    if force or is_due(prefs, last_digest_at=member.last_digest_at, now=now):
                        due.append(member.id or 0)

    def deliver_due(self, *, now: datetime, force: bool = False) -> DeliveryReport:
        """Send one DM to every due member with pending items; idempotent and restart-safe."""
        if self._sender is None:
            raise RuntimeError("DigestService has no sender: configure SLACK_BOT_TOKEN")
        now = as_utc(now)
        started = self._monotonic()
        report = DeliveryReport()
        with session_scope(self._engine) as session:
            report.expired_claims = ledger.release_expired(session=session, now=now)
        if report.expired_claims:
            log.info("returned %d digest rows with an expired lease to pending", report.expired_claims)
        due = self.due_member_ids(now=now, force=force)
        report.members_due = len(due)
        first = True
        for batch in chunks(due, self._claim_batch):
            # A long cycle's later batches lease from the time they are claimed, not from the
            # cycle's start, or their lease could be over before they are even sent.
            lease_until = now + timedelta(seconds=self._monotonic() - started) + self._lease
            with session_scope(self._engine) as session:
                ledger.skip_unfollowed(session=session, member_ids=batch)
                claimed = ledger.claim_pending(session=session, member_ids=batch, lease_until=lease_until)
                views = compose_views(
                    session=session,
                    member_ids=[m for m in batch if m in claimed],
                    row_ids=[r for rows in claimed.values() for r in rows],
                )
            unsettled = dict(claimed)
            try:
                for member_id in batch:
                    rows = claimed.get(member_id)
                    if not rows:
                        continue  # nothing left, or another scheduler has this member right now
                    if not first:
                        self._pause(self._pace_seconds)
                    first = False
                    self._deliver_one(views[member_id], rows, lease_until, now, report)
                    del unsettled[member_id]
                    if report.rate_limited:
                        return report
            finally:
                # A crash (or the rate-limit stop) must not strand claimed rows until the lease.
                leftover = [r for rows in unsettled.values() for r in rows]
                if leftover:
                    with session_scope(self._engine) as session:
                        ledger.release(session=session, row_ids=leftover, lease_until=lease_until)
        return report

    def _deliver_one(
        self,
        view: DigestView,
        rows: list[int],
        lease_until: datetime,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        assert self._sender is not None
        try:
            sent = self._sender.send(team_id=view.team_id, user_id=view.user_id, digest=view)
        except RecipientGone as gone:
            with session_scope(self._engine) as session:
                parked = ledger.mark_parked(session=session, row_ids=rows, lease_until=lease_until)
            log.warning(
                "digest for member %s (%s/%s) parked, %d items: recipient unreachable (%s)",
                view.member_id,
                view.team_id,
                view.user_id,
                parked,
                gone,
            )
            report.members_parked += 1
            report.items_parked += parked
            report.parked_member_ids.append(view.member_id)
            return
        except TemporaryFailure as failure:
            self._after_failure(view, rows, lease_until, failure)
            report.failures += 1
            report.rate_limited = report.rate_limited or failure.rate_limited
            return
        with session_scope(self._engine) as session:
            settled = ledger.mark_sent(
                session=session,
                row_ids=rows,
                lease_until=lease_until,
                channel=sent.channel,
                ts=sent.ts,
                now=now,
            )
            member = session.get(Member, view.member_id)
            if member is not None:
                member.last_digest_at = now
        if settled != len(rows):
            # Another process reclaimed some rows after our lease ran out; they may go out twice.
            log.warning(
                "digest for member %s: %d of %d rows were reclaimed before we settled them",
                view.member_id,
                len(rows) - settled,
                len(rows),
            )
        report.messages_sent += 1
        report.items_sent += settled

    def _after_failure(
        self, view: DigestView, rows: list[int], lease_until: datetime, failure: TemporaryFailure
    ) -> None:
        with session_scope(self._engine) as session:
            worn = ledger.list_rows_over_attempts(
                session=session, row_ids=rows, max_attempts=self._max_attempts
            )
            ledger.mark_parked(session=session, row_ids=worn, lease_until=lease_until)
            ledger.release(
                session=session, row_ids=[r for r in rows if r not in set(worn)], lease_until=lease_until
            )
        log.warning(
            "digest for member %s (%s/%s) not sent, kept pending for the next cycle: %s",
            view.member_id,
            view.team_id,
            view.user_id,
            failure,
        )
        if worn:
            log.warning(
                "digest for member %s: parked %d items after %d failed attempts",
                view.member_id,
                len(worn),
                self._max_attempts,
            )
