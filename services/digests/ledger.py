"""The digest ledger (table `delivery`): a row's life, and claiming and settling rows for delivery.
Rows are queued by queueing.py.

A row's life (DigestService drives it):

    pending ──claim──▶ sending ──stamped with a message key, posted, answered──▶ sent
     ▲  ▲                │  │ ╲
     │  └─── released ───┘  │  ╲──recipient gone (or too many failures)──▶ parked
     │   (no key yet: held  │
     │    for a later       └──posted, no answer (a timeout, or the sender died)──▶ unconfirmed
     │    message; or Slack                                                            │
     │    refused the post)   the key is in the conversation: sent, with its ts ◀──────┤
     └──────────────────────  the key is not there: pending, key dropped ◀─────────────┤
                              the history stayed unreadable (GIVE_UP_AFTER): parked ◀──┘

    pending ──unfollowed or muted before delivery──▶ skipped
    sent (kind "new") ──the published version arrives──▶ pending (kind "published")

Every transition is a compare-and-set UPDATE, so two schedulers (or a restart mid-cycle) never
send a row twice: only the process whose UPDATE moved a row to "sending" may settle it, and it
settles only rows still carrying its own lease (`claimed_until`). Before a message is posted its
rows get its key (`send_key`, also the message's Slack metadata) in a commit of their own, so a
row that may be in Slack is never sent again without looking for its key first
(services/slack_requests/sending.py).

Query helpers take `session` keyword-only and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.digests.schedule import as_utc
from services.store.models import Delivery, Follow, Member, TopicFollow
from services.store.sql import IN_LIST_CHUNK, chunks

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
# Posted perhaps: Slack never answered. Looked up by key before anything is sent again.
UNCONFIRMED = "unconfirmed"
PARKED = "parked"
SKIPPED = "skipped"  # unfollowed or muted before it went out

KIND_NEW = "new"
KIND_PUBLISHED = "published"

FREQUENCY_OFF = "off"


def still_followed() -> Any:
    """SQL: the row's researcher (or, for a row filed under a topic, its topic) is still followed
    by the row's member, neither muted nor parked."""
    researcher = exists().where(
        col(Follow.member_id) == col(Delivery.member_id),
        col(Follow.researcher_id) == col(Delivery.researcher_id),
        col(Follow.muted).is_(False),
        col(Follow.parked).is_(False),
    )
    topic = exists().where(
        col(TopicFollow.member_id) == col(Delivery.member_id),
        col(TopicFollow.topic_id) == col(Delivery.topic_id),
        col(TopicFollow.muted).is_(False),
        col(TopicFollow.parked).is_(False),
    )
    return or_(researcher, and_(col(Delivery.researcher_id).is_(None), topic))


def skip_unfollowed(*, session: Session, member_ids: Sequence[int]) -> int:
    """pending → skipped for rows whose researcher or topic the member no longer follows (or muted)."""
    if not member_ids:
        return 0
    active = still_followed()
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.member_id).in_(list(member_ids)), col(Delivery.status) == PENDING, ~active)
        .values(status=SKIPPED)
    )
    return updated_rows(result)


def release_expired(*, session: Session, now: datetime) -> tuple[int, int]:
    """Rows whose sender vanished (lease over): never tried → pending; tried → unconfirmed.

    A row with a key was in a message that may have reached Slack before the sender died, so
    it waits for the look-up instead of going out again. Returns (pending, unconfirmed).
    """
    return _hand_back(session, col(Delivery.status) == SENDING, col(Delivery.claimed_until) < now)


def _hand_back(session: Session, *sending: Any) -> tuple[int, int]:
    """These "sending" rows: keyed (a post may have reached Slack) → unconfirmed, the rest → pending."""
    unconfirmed = session.execute(
        update(Delivery)
        .where(*sending, col(Delivery.send_key).is_not(None))
        .values(status=UNCONFIRMED, claimed_until=None)
    )
    pending = session.execute(update(Delivery).where(*sending).values(status=PENDING, claimed_until=None))
    return updated_rows(pending), updated_rows(unconfirmed)


def list_members_with_pending(
    *, session: Session, after_member_id: int = 0, limit: int = IN_LIST_CHUNK
) -> list[int]:
    """Ids of members with pending rows, ascending, after `after_member_id` (keyset paging)."""
    rows = session.exec(
        select(Delivery.member_id)
        .where(col(Delivery.status) == PENDING, col(Delivery.member_id) > after_member_id)
        .distinct()
        .order_by(col(Delivery.member_id))
        .limit(limit)
    )
    return list(rows)


def claim_pending(
    *, session: Session, member_ids: Sequence[int], lease_until: datetime
) -> dict[int, list[int]]:
    """Move the members' pending rows to sending under one lease; row ids by member.

    A compare-and-set UPDATE: a row claimed by someone else in the meantime no longer matches
    `status = 'pending'`, whatever the interleaving. A member with rows in flight elsewhere is
    left alone: one DM at a time. On PostgreSQL the members are locked first, `FOR UPDATE SKIP
    LOCKED`, so a scheduler skips members another is claiming instead of queueing behind it,
    and each member's rows go to one claimer, whole (skipping locked rows instead could split
    one digest between two schedulers). On SQLite the one writer at a time does the same.
    """
    if not member_ids:
        return {}
    members = sorted(set(member_ids))
    if session.get_bind().dialect.name == "postgresql":
        free = select(Member.id).where(col(Member.id).in_(members)).order_by(col(Member.id))
        members = [m for m in session.exec(free.with_for_update(skip_locked=True)) if m is not None]
        if not members:
            return {}
    busy = aliased(Delivery)
    statement = (
        update(Delivery)
        .where(
            col(Delivery.member_id).in_(members),
            col(Delivery.status) == PENDING,
            ~exists().where(
                and_(col(busy.member_id) == col(Delivery.member_id), col(busy.status) == SENDING)
            ),
        )
        .values(status=SENDING, claimed_until=lease_until)
        .returning(col(Delivery.id), col(Delivery.member_id))
    )
    claimed: dict[int, list[int]] = defaultdict(list)
    for row_id, member_id in session.execute(statement):
        claimed[member_id].append(row_id)
    return dict(claimed)


def digested_since(*, session: Session, seen: dict[int, datetime | None]) -> list[int]:
    """Members whose last digest is no longer the one `seen` (member → last_digest_at): another
    process sent them a digest since."""
    if not seen:
        return []
    rows = session.exec(select(Member.id, Member.last_digest_at).where(col(Member.id).in_(sorted(seen))))
    moved = (member_id for member_id, last in rows if (last and as_utc(last)) != seen.get(member_id or 0))
    return sorted(member_id for member_id in moved if member_id is not None)


def _ours(member_ids: Sequence[int], lease_until: datetime) -> tuple[Any, ...]:
    """Rows of these members still sending under this lease, not a later claimer's: the lease
    timestamp is the claim's token."""
    return (
        col(Delivery.member_id).in_(list(member_ids)),
        col(Delivery.status) == SENDING,
        col(Delivery.claimed_until) == lease_until,
    )


def mark_attempt(
    *,
    session: Session,
    member_id: int,
    work_ids: Sequence[int],
    lease_until: datetime,
    key: str,
    channel: str | None,
    at: datetime,
) -> int:
    """Stamp the rows one message is about to carry with its key (committed before the post)."""
    changed = 0
    for chunk in chunks(sorted(set(work_ids))):
        result = session.execute(
            update(Delivery)
            .where(*_ours([member_id], lease_until), col(Delivery.work_id).in_(chunk))
            .values(
                send_key=key,
                attempted_at=at,
                slack_channel=channel,
                attempts=col(Delivery.attempts) + 1,
            )
        )
        changed += updated_rows(result)
    return changed


def mark_sent(
    *,
    session: Session,
    member_id: int,
    key: str,
    lease_until: datetime,
    channel: str,
    ts: str,
    now: datetime,
) -> int:
    """sending → sent for the rows of message `key`, keeping the Slack channel and ts."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.send_key) == key)
        .values(_sent_values(channel=channel, ts=ts, at=now))
    )
    return updated_rows(result)


def mark_unconfirmed(
    *, session: Session, member_id: int, key: str, lease_until: datetime, channel: str | None
) -> int:
    """sending → unconfirmed: message `key` went out and Slack never answered."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.send_key) == key)
        .values(status=UNCONFIRMED, claimed_until=None, slack_channel=channel)
    )
    return updated_rows(result)


def mark_parked(*, session: Session, member_ids: Sequence[int], lease_until: datetime) -> int:
    """sending → parked for everything the members' claim holds: they cannot be reached."""
    if not member_ids:
        return 0
    result = session.execute(
        update(Delivery).where(*_ours(member_ids, lease_until)).values(status=PARKED, claimed_until=None)
    )
    return updated_rows(result)


def park_worn(*, session: Session, member_id: int, lease_until: datetime, max_attempts: int) -> int:
    """sending → parked for the member's claimed rows tried `max_attempts` times or more."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.attempts) >= max_attempts)
        .values(status=PARKED, claimed_until=None)
    )
    return updated_rows(result)


def mark_not_sent(*, session: Session, member_id: int, key: str, lease_until: datetime) -> int:
    """sending → pending for the rows of message `key`: Slack refused it, or never got it."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.send_key) == key)
        .values(status=PENDING, claimed_until=None, send_key=None, attempted_at=None)
    )
    return updated_rows(result)


def release(*, session: Session, member_ids: Sequence[int], lease_until: datetime) -> tuple[int, int]:
    """Hand back what the members' claim still holds: rows no message carried → pending (held
    for a later message, or never reached); rows of a message whose post was under way when the
    sender failed unexpectedly → unconfirmed. Returns (pending, unconfirmed)."""
    if not member_ids:
        return 0, 0
    return _hand_back(session, *_ours(member_ids, lease_until))


@dataclass(frozen=True)
class UnconfirmedMessage:
    """A message whose post Slack never answered: its rows wait for the look-up by key."""

    member_id: int
    team_id: str
    user_id: str
    key: str
    channel: str | None
    attempted_at: datetime


def list_unconfirmed(*, session: Session, limit: int) -> list[UnconfirmedMessage]:
    """Unconfirmed messages, oldest attempt first."""
    rows = session.exec(
        select(  # type: ignore[call-overload]
            col(Delivery.member_id),
            col(Member.team_id),
            col(Member.user_id),
            col(Delivery.send_key),
            func.max(col(Delivery.slack_channel)),
            func.min(col(Delivery.attempted_at)),
        )
        .join(Member, col(Member.id) == col(Delivery.member_id))
        .where(col(Delivery.status) == UNCONFIRMED)
        .group_by(col(Delivery.member_id), col(Member.team_id), col(Member.user_id), col(Delivery.send_key))
        .order_by(func.min(col(Delivery.attempted_at)), col(Delivery.member_id))
        .limit(limit)
    )
    return [
        UnconfirmedMessage(member_id, team_id, user_id, key, channel, as_utc(at))
        for member_id, team_id, user_id, key, channel, at in rows
    ]


def settle_unconfirmed(
    *, session: Session, message: UnconfirmedMessage, posted: tuple[str, str] | None, now: datetime
) -> int:
    """Settle a looked-up message: found (channel, ts) → sent; not found → pending, key dropped.

    A compare-and-set on the status and key, so two schedulers looking up the same key settle
    it once, and a row the found message did not carry is never touched.
    """
    if posted is None:
        values: dict[str, Any] = {"status": PENDING, "send_key": None, "attempted_at": None}
    else:
        channel, ts = posted
        values = _sent_values(channel=channel, ts=ts, at=now)
    return _move_unconfirmed(session, message, values)


def park_unconfirmed(*, session: Session, message: UnconfirmedMessage) -> int:
    """unconfirmed → parked: given up without a readable history; never sent blind."""
    return _move_unconfirmed(session, message, {"status": PARKED})


def _move_unconfirmed(session: Session, message: UnconfirmedMessage, values: dict[str, Any]) -> int:
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.member_id) == message.member_id,
            col(Delivery.status) == UNCONFIRMED,
            col(Delivery.send_key) == message.key,
        )
        .values(values)
    )
    return updated_rows(result)


def _sent_values(*, channel: str, ts: str, at: datetime) -> dict[str, Any]:
    return {
        "status": SENT,
        "slack_channel": channel[:32],
        "slack_ts": ts[:32],
        "sent_at": at,
        "claimed_until": None,
    }


def updated_rows(result: Any) -> int:
    """Rows an UPDATE changed (drivers may answer -1 for "unknown")."""
    return max(int(result.rowcount or 0), 0)


def dm_channels(*, session: Session, member_ids: Sequence[int]) -> dict[int, str]:
    """The DM channel each member's earlier digests went to (a bot's DM with a user never moves)."""
    found: dict[int, str] = {}
    for chunk in chunks(sorted(set(member_ids))):
        rows = session.exec(
            select(Delivery.member_id, func.max(col(Delivery.slack_channel)))
            .where(
                col(Delivery.status) == SENT,  # (status, member_id) is indexed
                col(Delivery.member_id).in_(chunk),
                col(Delivery.slack_channel).is_not(None),
            )
            .group_by(col(Delivery.member_id))
        )
        found.update({member_id: channel for member_id, channel in rows if channel})
    return found


def count_pending(engine: Engine) -> int:
    """Pending ledger rows (the digest queue's depth): one count on the (status, member) index."""
    with Session(engine) as session:
        return int(session.exec(select(func.count()).where(col(Delivery.status) == "pending")).one())
