"""Digest delivery: one DM per due member with what their followed researchers published.

The ledger (ledger.py) holds one row per member and work. `DigestService.deliver_due` first
settles messages whose post Slack never answered (unconfirmed.py: looked up by key in the
member's DM), then claims each due member's pending rows (compare-and-set, with a lease) and
sends them through the `DigestSender` port, a batch of members at a time (batch.py): as many
messages as it takes (up to MAX_MESSAGES a digest; the rest wait for the next digest), each
stamped with its own key before it is posted and settled with its Slack channel and ts after. A
crash between claim and settle leaves the rows "sending" until the lease runs out; rows never
posted then go back to pending, rows that may have been posted are looked up first, so nothing
is lost and nothing is sent twice.

Every scheduler process delivers at once: each walks the same due members in batches, and a
batch another process is claiming, or has claimed, comes back empty (SKIP LOCKED, then the
compare-and-set), so the processes spread over the batches. Slack's waits are per workspace
(workspace_gate.py): a 429 sets that workspace's members aside, the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import select as sa_select  # Core: plain columns
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.digests import ledger
from services.digests.batch import BatchDelivery
from services.digests.compose import DigestView, compose_views
from services.digests.port import DeliveryReport, DigestSender
from services.digests.schedule import DigestPrefs, as_utc, is_due
from services.digests.unconfirmed import look_up_unconfirmed
from services.digests.workspace_gate import DueMember, DueQueue, WorkspaceGate
from services.store.engine import session_scope
from services.store.models import Member

log = logging.getLogger(__name__)

# Long enough to send a claimed batch, pacing included; short enough that a crashed
# scheduler's claim comes back within a few delivery cycles.
LEASE = timedelta(minutes=15)
# Slack's guidance is about one message per second per channel, with a workspace-wide cap of
# "several hundred per minute": every DM is its own channel, so a short pause between two posts
# to one workspace keeps a scheduler well inside the cap without making a big workspace wait an
# hour. Other workspaces' posts do not wait for it. (Several schedulers on one workspace may
# reach the cap together; its 429 then sets that workspace aside.)
PACE_SECONDS = 0.25
# Members claimed per transaction: big enough to amortise the claim, small enough to send well
# within one lease.
CLAIM_BATCH = 25
# Near a wave's end a batch is only this share of the members still ahead, down to CLAIM_FLOOR:
# with full batches the wave waited for whoever held the last one (650 members, 4 schedulers:
# two ran out of work 3 s before the others, 6% of the wave idle). A share for up to 8
# schedulers; the smaller batches cost one more claim per batch, a few ms each, at the end only.
TAIL_SHARES = 8
CLAIM_FLOOR = 1
# A row that failed this many messages (Slack kept refusing them) is parked rather than retried
# forever; at one attempt per due digest this is weeks for a daily digest.
MAX_ATTEMPTS = 30
# Messages one digest may take when it is too big for one; the rest waits for the next digest,
# so a member back from a long break is not flooded.
MAX_MESSAGES = 3


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
        claim_floor: int = CLAIM_FLOOR,
        max_attempts: int = MAX_ATTEMPTS,
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._pause = pause
        self._monotonic = monotonic
        self._lease = lease
        self._claim_batch = max(1, claim_batch)
        self._claim_floor = min(max(1, claim_floor), self._claim_batch)
        # Kept for the service's life (the scheduler process's): a Retry-After outlives a cycle.
        self._gate = WorkspaceGate()
        self._batches = (
            BatchDelivery(
                engine,
                sender,
                self._gate,
                pause,
                pace_seconds=pace_seconds,
                lease=lease,
                max_attempts=max_attempts,
                max_messages=max(1, max_messages),
            )
            if sender is not None
            else None
        )

    def queue_depth(self) -> int:
        """Pending digest items, all members together (the /metrics gauge)."""
        return ledger.count_pending(self._engine)

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

    def due_members(self, *, now: datetime, force: bool = False) -> list[DueMember]:
        """Members with pending rows whose digest is due at `now` (force: all but "off")."""
        now = as_utc(now)
        due: list[DueMember] = []
        after = 0
        with session_scope(self._engine) as session:
            while True:
                page = ledger.list_members_with_pending(session=session, after_member_id=after)
                if not page:
                    return due
                after = page[-1]
                # Plain columns: a cycle reads every member with something pending.
                query = (
                    sa_select(
                        col(Member.id),
                        col(Member.team_id),
                        col(Member.digest_frequency),
                        col(Member.digest_time),
                        col(Member.digest_weekday),
                        col(Member.tz),
                        col(Member.last_digest_at),
                    )
                    .where(col(Member.id).in_(page))
                    .order_by(col(Member.id))
                )
                for member_id, team_id, frequency, at, weekday, tz, last in session.execute(query):
                    if frequency == ledger.FREQUENCY_OFF:
                        continue
                    prefs = DigestPrefs(frequency=frequency, time=at, weekday=weekday, tz=tz)
                    if force or is_due(prefs, last_digest_at=last, now=now):
                        due.append(DueMember(member_id, team_id, last and as_utc(last)))

    def deliver_due(self, *, now: datetime, force: bool = False, look_up: bool = True) -> DeliveryReport:
        """Send every due member their digest; idempotent and restart-safe, exactly once, also
        with other processes delivering at the same time. `look_up=False` leaves the posts Slack
        never answered to `look_up_unconfirmed` (the scheduler leader's job)."""
        if self._batches is None:
            raise RuntimeError("DigestService has no sender: configure SLACK_BOT_TOKEN")
        now = as_utc(now)
        started = self._monotonic()

        def clock() -> datetime:
            return now + timedelta(seconds=self._monotonic() - started)

        report = self.look_up_unconfirmed(now=now) if look_up else self._release_expired(now)
        due = self.due_members(now=now, force=force)
        report.members_due = len(due)
        queue = DueQueue(due, self._gate, clock=clock, pause=self._pause)
        while (batch := queue.next_batch(self._claim_size(queue.left))) is not None:
            self._batches.deliver(batch, queue, clock=clock, now=now, report=report)
        report.held_back = queue.held_back
        return report

    def _claim_size(self, left: int) -> int:
        """Members to claim next with `left` still ahead: a full batch while plenty are, then a
        share of them, so that the schedulers walking the same members run out together."""
        return max(self._claim_floor, min(self._claim_batch, ceil(left / TAIL_SHARES)))

    def look_up_unconfirmed(self, *, now: datetime) -> DeliveryReport:
        """Hand back claims whose lease ran out, then look up the posts Slack never answered."""
        if self._sender is None:
            raise RuntimeError("DigestService has no sender: configure SLACK_BOT_TOKEN")
        now = as_utc(now)
        report = self._release_expired(now)
        # Before deliver_due claims: a message found not posted goes out in the same cycle.
        look_up_unconfirmed(self._engine, self._sender, lease=self._lease, now=now, report=report)
        return report

    def _release_expired(self, now: datetime) -> DeliveryReport:
        report = DeliveryReport()
        with session_scope(self._engine) as session:
            released, unconfirmed = ledger.release_expired(session=session, now=now)
        report.expired_claims = released + unconfirmed
        if report.expired_claims:
            log.info(
                "expired digest claims: %d rows back to pending, %d rows that may have been posted "
                "wait for a look-up",
                released,
                unconfirmed,
            )
        return report
