"""Digest messages whose post Slack never answered: before anything is sent again, each is looked
up by its key in the member's DM (services/slack_requests/sending.py). Found → sent, with its ts;
not there → pending again; a history that stays unreadable for GIVE_UP_AFTER → parked, never
sent blind. The delivery job does this first in every cycle (DigestService.deliver_due).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from services.digests import ledger
from services.digests.port import (
    DeliveryReport,
    DigestSender,
    HistoryUnclear,
    RecipientGone,
    TemporaryFailure,
)
from services.digests.schedule import as_utc
from services.slack_requests.sending import CLOCK_SKEW, GIVE_UP_AFTER
from services.store.engine import session_scope
from services.store.models import Member

log = logging.getLogger(__name__)

# Unconfirmed messages read from the ledger per cycle: far more than Tier 1 lets one cycle look
# up (conversations.history: about one call a minute per workspace), so that a workspace whose
# history cannot be read never keeps the others' messages from their turn.
UNCONFIRMED_PER_CYCLE = 1000


def look_up_unconfirmed(
    engine: Engine, sender: DigestSender, *, lease: timedelta, now: datetime, report: DeliveryReport
) -> None:
    """Settle posts Slack never answered: found in the DM → sent; not there → pending."""
    with session_scope(engine) as session:
        waiting = ledger.list_unconfirmed(session=session, limit=UNCONFIRMED_PER_CYCLE)
    # Workspaces whose history could not be read this cycle (rate limit spent, no token, a
    # missing scope): their other messages would fail the same way, so they wait too.
    stalled: set[str] = set()
    for message in waiting:
        if message.team_id in stalled:
            _keep_waiting(engine, message, now, report)
            continue
        try:
            found = sender.find(
                team_id=message.team_id,
                user_id=message.user_id,
                channel=message.channel,
                key=message.key,
                after=message.attempted_at - CLOCK_SKEW,
                # A post happens within its sender's lease, or never.
                before=message.attempted_at + lease + CLOCK_SKEW,
            )
        except RecipientGone as gone:
            with session_scope(engine) as session:
                parked = ledger.park_unconfirmed(session=session, message=message)
            log.warning(
                "digest message %s parked, %d items: recipient unreachable (%s)",
                message.key,
                parked,
                gone,
            )
            report.items_parked += parked
            continue
        except TemporaryFailure as failure:
            log.info("digest message %s not looked up yet: %s", message.key, failure)
            if not isinstance(failure, HistoryUnclear):
                stalled.add(message.team_id)
            _keep_waiting(engine, message, now, report)
            continue
        with session_scope(engine) as session:
            posted = (found.channel, found.ts) if found else None
            settled = ledger.settle_unconfirmed(session=session, message=message, posted=posted, now=now)
            member = session.get(Member, message.member_id)
            if found and settled and member is not None:
                # It went out at the attempt: the schedule counts that digest as delivered.
                last = member.last_digest_at
                if last is None or as_utc(last) < message.attempted_at:
                    member.last_digest_at = message.attempted_at
        if found:
            report.confirmed += 1
        else:
            report.not_posted += 1


def _keep_waiting(
    engine: Engine, message: ledger.UnconfirmedMessage, now: datetime, report: DeliveryReport
) -> None:
    if now - message.attempted_at < GIVE_UP_AFTER:
        report.still_unconfirmed += 1
        return
    # Sending again without having read the history could post it twice; giving it up may
    # lose it. A week of unreadable history means a lost scope or a dead workspace.
    with session_scope(engine) as session:
        parked = ledger.park_unconfirmed(session=session, message=message)
    log.error(
        "digest message %s to member %s (%s/%s, channel %s) parked, %d items: Slack never "
        "confirmed it and the DM's history stayed unreadable for %s (does the app have im:history?)",
        message.key,
        message.member_id,
        message.team_id,
        message.user_id,
        message.channel,
        parked,
        GIVE_UP_AFTER,
    )
    report.items_parked += parked
