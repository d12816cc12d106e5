"""One claim batch of a delivery cycle: claim the members' pending rows, compose their digests,
send each through the `DigestSender` port and settle it (see delivery.py for the cycle).

Each message is stamped with its own key and committed before it is posted, and settled with
Slack's channel and ts after; a crash in between leaves rows that are looked up, not resent
(unconfirmed.py). Rows claimed but not sent are handed back before the batch ends, also when it
ends with an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

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
from services.digests.workspace_gate import DueMember, DueQueue, WorkspaceGate
from services.slack_requests.sending import OutcomeUnknown
from services.store.engine import session_scope
from services.store.models import Member

log = logging.getLogger(__name__)

# Between two messages to the same DM: Slack's guidance is one message a second per channel.
NEXT_MESSAGE_PAUSE = 1.0


@dataclass(frozen=True)
class BatchDelivery:
    """Claims, composes and sends one batch of due members at a time (DigestService's sending side)."""

    engine: Engine
    sender: DigestSender
    gate: WorkspaceGate
    pause: Callable[[float], None]
    pace_seconds: float
    lease: timedelta
    max_attempts: int
    max_messages: int

    def deliver(
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
        lease_until = clock() + self.lease
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
                if wait := self.gate.pace_wait(member.team_id, at=clock()):
                    self.pause(wait)
                limited = self._deliver_one(view, claimed[member.member_id], lease_until, now, report)
                unsettled.discard(member.member_id)
                self.gate.posted(member.team_id, at=clock(), pace=self.pace_seconds)
                if limited is not None:
                    self.gate.rate_limited(member.team_id, at=clock(), retry_after=limited.retry_after)
                    queue.rate_limited(member)
        finally:
            # A crash must not strand claimed rows until the lease, nor may members set aside;
            # the rows of a post under way when it struck wait for the look-up.
            if unsettled:
                with session_scope(self.engine) as session:
                    ledger.release(session=session, member_ids=sorted(unsettled), lease_until=lease_until)

    def _claim(
        self, batch: list[DueMember], lease_until: datetime
    ) -> tuple[dict[int, DigestView], dict[int, int]]:
        """Claim the members' pending rows under one lease; their digests and rows claimed, by member."""
        ids = [member.member_id for member in batch]
        with session_scope(self.engine) as session:
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
        remaining, channel, settled_before = view, view.dm_channel, report.items_sent
        limited: TemporaryFailure | None = None
        # A channel gets one post a digest run: a shared channel is not flooded.
        most = 1 if view.is_channel else self.max_messages
        for number in range(1, most + 1):
            message = self.sender.fit(remaining)
            remaining = remaining_after(remaining, message)
            if remaining.groups and number == most:
                message = replace(message, held_for_next_digest=True)
            sent = self._send_message(replace(message, dm_channel=channel), lease_until, now, report)
            if isinstance(sent, TemporaryFailure) and sent.rate_limited:
                limited = sent
            if not isinstance(sent, SentMessage) or not remaining.groups:
                break
            channel = sent.channel
            self.pause(NEXT_MESSAGE_PAUSE)
        # Whatever no message carried (held for the next digest, or after a failure) is pending;
        # when every claimed row was settled sent there is nothing to hand back (a round trip
        # saved per digest, the usual case).
        if report.items_sent - settled_before < rows:
            with session_scope(self.engine) as session:
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
        member_id, key = message.member_id, new_key()
        # Committed before the post: from here on a crash leaves rows that are looked up, not resent.
        with session_scope(self.engine) as session:
            ledger.mark_attempt(
                session=session,
                member_id=member_id,
                work_ids=message.work_ids,
                lease_until=lease_until,
                key=key,
                channel=message.dm_channel,
                # The claim's time: no later than the post, which happens within the lease.
                at=lease_until - self.lease,
            )
        try:
            sent = self.sender.send(team_id=message.team_id, user_id=message.user_id, digest=message, key=key)
        except RecipientGone as gone:
            self._park(message, lease_until, gone, report)
            return None
        except OutcomeUnknown as unknown:
            with session_scope(self.engine) as session:
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
        with session_scope(self.engine) as session:
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
        with session_scope(self.engine) as session:
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
        with session_scope(self.engine) as session:
            worn = ledger.park_worn(
                session=session,
                member_id=view.member_id,
                lease_until=lease_until,
                max_attempts=self.max_attempts,
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
                self.max_attempts,
            )
