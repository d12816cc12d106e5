"""Digest delivery: one DM per due member with what their followed researchers published.

The ledger (ledger.py) holds one row per member and work. `DigestService.deliver_due` first
settles messages whose post Slack never answered (unconfirmed.py: looked up by key in the
member's DM), then claims each due member's pending rows (compare-and-set, with a lease) and
sends them through the `DigestSender` port: as many messages as it takes (up to MAX_MESSAGES a
digest; the rest wait for the next digest), each stamped with its own key before it is posted
and settled with its Slack channel and ts after. A crash between claim and settle leaves the
rows "sending" until the lease runs out; rows never posted then go back to pending, rows that
may have been posted are looked up first, so nothing is lost and nothing is sent twice.

Every scheduler process delivers at once: each walks the same due members in batches, and a
batch another process is claiming, or has claimed, comes back empty (SKIP LOCKED, then the
compare-and-set), so the processes spread over the batches. Slack's waits are per workspace
(workspace_gate.py): a 429 sets that workspace's members aside, the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select  # Core: plain columns
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.digests import ledger
from services.digests.compose import DigestView, compose_views, remaining_after
from services.digests.port import (
    DeliveryReport,
    DigestSender,
    RecipientGone,
    SentMessage,
    TemporaryFailure,
    new_key,
)
from services.digests.schedule import DigestPrefs, as_utc, is_due
from services.digests.unconfirmed import look_up_unconfirmed
from services.digests.workspace_gate import DueMember, DueQueue, WorkspaceGate
from services.slack_requests.sending import OutcomeUnknown
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
# A row that failed this many messages (Slack kept refusing them) is parked rather than retried
# forever; at one attempt per due digest this is weeks for a daily digest.
MAX_ATTEMPTS = 30
# Messages one digest may take when it is too big for one; the rest waits for the next digest,
# so a member back from a long break is not flooded.
MAX_MESSAGES = 3
# Between two messages to the same DM: Slack's guidance is one message a second per channel.
NEXT_MESSAGE_PAUSE = 1.0


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
        max_messages: int = MAX_MESSAGES,
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._pause = pause
        self._monotonic = monotonic
        self._pace_seconds = pace_seconds
        self._lease = lease
        self._claim_batch = max(1, claim_batch)
        self._max_attempts = max_attempts
        self._max_messages = max(1, max_messages)
        # Kept for the service's life (the scheduler process's): a Retry-After outlives a cycle.
        self._gate = WorkspaceGate()

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
        if self._sender is None:
            raise RuntimeError("DigestService has no sender: configure SLACK_BOT_TOKEN")
        now = as_utc(now)
        started = self._monotonic()

        def clock() -> datetime:
            return now + timedelta(seconds=self._monotonic() - started)

        report = self.look_up_unconfirmed(now=now) if look_up else self._release_expired(now)
        due = self.due_members(now=now, force=force)
        report.members_due = len(due)
        queue = DueQueue(due, self._gate, clock=clock, pause=self._pause)
        while (batch := queue.next_batch(self._claim_batch)) is not None:
            self._deliver_batch(batch, queue, clock=clock, now=now, report=report)
        report.held_back = queue.held_back
        return report

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

    def _deliver_batch(
        self,
        batch: list[DueMember],
        queue: DueQueue,
        *,
        clock: Callable[[], datetime],
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        """Claim the batch's members, then send each its digest, a waiting workspace's aside."""
        # A long cycle's later batches lease from the time they are claimed, not from the
        # cycle's start, or their lease could be over before they are even sent.
        lease_until = clock() + self._lease
        views, claimed = self._claim(batch, lease_until)
        unsettled = set(views)
        try:
            for member in batch:
                view = views.get(member.member_id)
                if view is None:
                    continue  # nothing left, or another scheduler has (or had) this digest
                if queue.waiting(member):
                    queue.set_aside(member)  # its workspace met a 429 meanwhile; released below
                    continue
                if wait := self._gate.pace_wait(member.team_id, at=clock()):
                    self._pause(wait)
                limited = self._deliver_one(view, claimed[member.member_id], lease_until, now, report)
                unsettled.discard(member.member_id)
                self._gate.posted(member.team_id, at=clock(), pace=self._pace_seconds)
                if limited is not None:
                    self._gate.rate_limited(member.team_id, at=clock(), retry_after=limited.retry_after)
                    queue.rate_limited(member)
        finally:
            # A crash must not strand claimed rows until the lease, nor may members set aside;
            # the rows of a post under way when it struck wait for the look-up.
            if unsettled:
                with session_scope(self._engine) as session:
                    ledger.release(session=session, member_ids=sorted(unsettled), lease_until=lease_until)

    def _claim(
        self, batch: list[DueMember], lease_until: datetime
    ) -> tuple[dict[int, DigestView], dict[int, int]]:
        """Claim the members' pending rows under one lease; their digests and rows claimed, by member."""
        ids = [member.member_id for member in batch]
        with session_scope(self._engine) as session:
            ledger.skip_unfollowed(session=session, member_ids=ids)
            claimed = ledger.claim_pending(session=session, member_ids=ids, lease_until=lease_until)
            # Read after the claim: another scheduler that sent one of these digests since the
            # cycle began committed its last_digest_at before it handed back the rows it held
            # for the next digest, so having claimed them we see it, and leave them for then.
            seen = {m.member_id: m.last_digest_at for m in batch if m.member_id in claimed}
            moved = ledger.digested_since(session=session, seen=seen)
            if moved:
                ledger.release(session=session, member_ids=moved, lease_until=lease_until)
            views = compose_views(
                session=session,
                member_ids=[m for m in ids if m in claimed and m not in moved],
                row_ids=[r for m, rows in claimed.items() if m not in moved for r in rows],
            )
        return views, {member_id: len(rows) for member_id, rows in claimed.items()}

    def _deliver_one(
        self, view: DigestView, rows: int, lease_until: datetime, now: datetime, report: DeliveryReport
    ) -> TemporaryFailure | None:
        """One member's digest (`rows` claimed): up to max_messages messages, each settled on its
        own. Returns the rate limit that stopped it, if one did."""
        assert self._sender is not None
        remaining, channel, settled_before = view, view.dm_channel, report.items_sent
        limited: TemporaryFailure | None = None
        # A channel gets one post a digest run: a shared channel is not flooded.
        most = 1 if view.is_channel else self._max_messages
        for number in range(1, most + 1):
            message = self._sender.fit(remaining)
            remaining = remaining_after(remaining, message)
            if remaining.groups and number == most:
                message = replace(message, held_for_next_digest=True)
            sent = self._send_message(replace(message, dm_channel=channel), lease_until, now, report)
            if isinstance(sent, TemporaryFailure) and sent.rate_limited:
                limited = sent
            if not isinstance(sent, SentMessage) or not remaining.groups:
                break
            channel = sent.channel
            self._pause(NEXT_MESSAGE_PAUSE)
        # Whatever no message carried (held for the next digest, or after a failure) is pending;
        # when every claimed row was settled sent there is nothing to hand back (a round trip
        # saved per digest, the usual case).
        if report.items_sent - settled_before < rows:
            with session_scope(self._engine) as session:
                ledger.release(session=session, member_ids=[view.member_id], lease_until=lease_until)
        return limited

    def _send_message(
        self,
        message: DigestView,
        lease_until: datetime,
        now: datetime,
        report: DeliveryReport,
    ) -> SentMessage | TemporaryFailure | None:
        """Stamp, post and settle one message; what Slack refused it with for now, or None when
        it did not (certainly) go out otherwise."""
        assert self._sender is not None
        member_id, key = message.member_id, new_key()
        # Committed before the post: from here on a crash leaves rows that are looked up, not resent.
        with session_scope(self._engine) as session:
            ledger.mark_attempt(
                session=session,
                member_id=member_id,
                work_ids=message.work_ids,
                lease_until=lease_until,
                key=key,
                channel=message.dm_channel,
                # The claim's time: no later than the post, which happens within the lease.
                at=lease_until - self._lease,
            )
        try:
            sent = self._sender.send(
                team_id=message.team_id, user_id=message.user_id, digest=message, key=key
            )
        except RecipientGone as gone:
            self._park(message, lease_until, gone, report)
            return None
        except OutcomeUnknown as unknown:
            with session_scope(self._engine) as session:
                ledger.mark_unconfirmed(
                    session=session,
                    member_id=member_id,
                    key=key,
                    lease_until=lease_until,
                    channel=unknown.channel or message.dm_channel,
                )
            log.warning(
                "digest for member %s: Slack did not answer the post (%s); message %s is looked up "
                "in the DM before anything is sent again",
                member_id,
                unknown,
                key,
            )
            report.unconfirmed += 1
            return None
        except TemporaryFailure as failure:
            self._after_failure(message, key, lease_until, failure)
            report.failures += 1
            if failure.rate_limited:
                report.rate_limited_teams.add(message.team_id)
            return failure
        with session_scope(self._engine) as session:
            settled = ledger.mark_sent(
                session=session,
                member_id=member_id,
                key=key,
                lease_until=lease_until,
                channel=sent.channel,
                ts=sent.ts,
                now=now,
            )
            member = session.get(Member, member_id)
            if member is not None:
                member.last_digest_at = now
        if settled != message.item_count:
            # Another process reclaimed some rows after our lease ran out; they may go out twice.
            log.warning(
                "digest for member %s: %d of %d rows were reclaimed before we settled them",
                member_id,
                message.item_count - settled,
                message.item_count,
            )
        report.messages_sent += 1
        report.items_sent += settled
        return sent

    def _park(
        self, view: DigestView, lease_until: datetime, gone: RecipientGone, report: DeliveryReport
    ) -> None:
        with session_scope(self._engine) as session:
            parked = ledger.mark_parked(session=session, member_ids=[view.member_id], lease_until=lease_until)
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

    def _after_failure(
        self, view: DigestView, key: str, lease_until: datetime, failure: TemporaryFailure
    ) -> None:
        with session_scope(self._engine) as session:
            worn = ledger.park_worn(
                session=session,
                member_id=view.member_id,
                lease_until=lease_until,
                max_attempts=self._max_attempts,
            )
            ledger.mark_not_sent(session=session, member_id=view.member_id, key=key, lease_until=lease_until)
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
                worn,
                self._max_attempts,
            )
