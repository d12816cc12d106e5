"""The digest ledger (table `delivery`): queueing works for followers, claiming and settling rows.

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
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.digests.schedule import as_utc
from services.openalex.works import StoredWork
from services.store.models import Authorship, Delivery, Follow, Member, Researcher, Work
from services.store.sql import IN_LIST_CHUNK, chunks, conflict_insert

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

_LEDGER_KEY = ["member_id", "work_id"]  # the unique key of delivery

# A work counts as news for a follow only if it was published no earlier than this before the
# follow. first_seen_at alone is not enough: following a researcher the store knew only as a
# co-author means the next refresh sees a month of their works (the look-back window) for the
# first time, and those are back catalogue, not news.
PUBLISHED_BEFORE_FOLLOW_GRACE = timedelta(days=7)

# ---------------------------------------------------------------------------------------------
# Queueing (the refresh job, in the same transaction as the works: an outbox)


def list_followed_openalex_ids(*, session: Session) -> list[str]:
    """OpenAlex ids of every researcher with at least one follow that is not parked."""
    rows = session.exec(
        select(Researcher.openalex_id)
        .join(Follow, col(Follow.researcher_id) == col(Researcher.id))
        .where(col(Follow.parked).is_(False), col(Researcher.openalex_id).is_not(None))
        .distinct()
        .order_by(col(Researcher.openalex_id))
    )
    return [openalex_id for openalex_id in rows if openalex_id]


def _active_followers(
    *, session: Session, researcher_ids: Sequence[int]
) -> dict[int, list[tuple[int, datetime]]]:
    """(member id, followed at) per researcher, for follows that may produce digest items."""
    followers: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for chunk in chunks(sorted(set(researcher_ids))):
        rows = session.exec(
            select(Follow.researcher_id, Follow.member_id, Follow.created_at)
            .join(Member, col(Member.id) == col(Follow.member_id))
            .where(
                col(Follow.researcher_id).in_(chunk),
                col(Follow.muted).is_(False),
                col(Follow.parked).is_(False),
                # "off" means no digests: queueing for them would only build a flood for later.
                col(Member.digest_frequency) != FREQUENCY_OFF,
            )
            .order_by(col(Follow.member_id))
        )
        for researcher_id, member_id, created_at in rows:
            followers[researcher_id].append((member_id, created_at))
    return followers


def queue_stored_works(*, session: Session, stored: Sequence[StoredWork], now: datetime) -> int:
    """Queue one pending row per (follower, work) that is news to the follower; returns rows queued.

    News means first seen after the follow (the back catalogue at follow time is not), or, for a
    preprint whose published version arrived in this call, published after the follow. A work by
    several followed authors is one row, filed under the first of them in author order. A
    follower who already received the preprint gets the same row back as kind "published"
    ("now published in …"); one still waiting for it simply sees the published venue.
    """
    work_ids = sorted({s.work_id for s in stored if s.work_id})
    researcher_ids = sorted({rid for s in stored for rid in s.researcher_ids})
    if not work_ids or not researcher_ids:
        return 0
    followers = _active_followers(session=session, researcher_ids=researcher_ids)
    if not followers:
        return 0
    published_now = {s.work_id for s in stored if s.published_now}
    seen: dict[int, tuple[datetime, datetime | None, date | None]] = {}
    authors: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(work_ids):
        for work_id, first_seen_at, published_at, published_on in session.exec(
            select(
                col(Work.id), col(Work.first_seen_at), col(Work.published_at), col(Work.publication_date)
            ).where(col(Work.id).in_(chunk))
        ):
            if work_id is not None:
                seen[work_id] = (first_seen_at, published_at, published_on)
        for work_id, researcher_id in session.exec(
            select(Authorship.work_id, Authorship.researcher_id)
            .where(col(Authorship.work_id).in_(chunk), col(Authorship.researcher_id).in_(list(followers)))
            .order_by(col(Authorship.work_id), col(Authorship.position))
        ):
            if researcher_id is not None and researcher_id not in authors[work_id]:
                authors[work_id].append(researcher_id)

    rows: dict[tuple[int, int], dict[str, Any]] = {}
    republished: dict[int, set[int]] = defaultdict(set)  # work id → members to tell again
    for work_id in work_ids:
        if work_id not in seen:
            continue
        first_seen_at, published_at, published_on = seen[work_id]
        is_publication = work_id in published_now and published_at is not None
        news_at = published_at if is_publication and published_at is not None else first_seen_at
        for researcher_id in authors.get(work_id, []):
            for member_id, followed_at in followers.get(researcher_id, []):
                if followed_at >= news_at or (member_id, work_id) in rows:
                    continue
                if (
                    not is_publication
                    and published_on is not None
                    and published_on < (followed_at - PUBLISHED_BEFORE_FOLLOW_GRACE).date()
                ):
                    continue
                rows[(member_id, work_id)] = {
                    "member_id": member_id,
                    "work_id": work_id,
                    "researcher_id": researcher_id,
                    "status": PENDING,
                    "kind": KIND_PUBLISHED if is_publication else KIND_NEW,
                    "attempts": 0,
                    "created_at": now,
                }
                if is_publication:
                    republished[work_id].add(member_id)
    queued = insert_ignoring_duplicates(session=session, rows=list(rows.values()))
    for work_id, members in republished.items():
        for chunk in chunks(sorted(members)):
            # The follower already has a row for the preprint. Sent (or being sent, or perhaps
            # sent): tell them again, once. A row still pending will show the published venue
            # when it goes out.
            result = session.execute(
                update(Delivery)
                .where(
                    col(Delivery.work_id) == work_id,
                    col(Delivery.member_id).in_(chunk),
                    col(Delivery.kind) == KIND_NEW,
                    col(Delivery.status).in_([SENT, SENDING, UNCONFIRMED]),
                )
                .values(
                    kind=KIND_PUBLISHED,
                    status=PENDING,
                    attempts=0,
                    claimed_until=None,
                    send_key=None,
                    attempted_at=None,
                )
            )
            queued += _count(result)
    return queued


def insert_ignoring_duplicates(*, session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (member_id, work_id) DO NOTHING; returns the rows inserted.

    Atomic against a concurrent writer inserting the same key, on both databases.
    """
    if not rows:
        return 0
    insert = conflict_insert(session.get_bind())
    # One statement compiled once; SQLAlchemy batches the executemany into multi-row INSERTs
    # ("insertmanyvalues"), and RETURNING lists only the rows actually inserted (rowcount is
    # unreliable here on psycopg).
    statement = (
        insert(Delivery).on_conflict_do_nothing(index_elements=_LEDGER_KEY).returning(col(Delivery.id))
    )
    return sum(len(session.execute(statement, list(chunk)).all()) for chunk in chunks(rows, 5_000))


# ---------------------------------------------------------------------------------------------
# Delivering (the delivery job)


def skip_unfollowed(*, session: Session, member_ids: Sequence[int]) -> int:
    """pending → skipped for rows whose researcher the member no longer follows (or muted)."""
    if not member_ids:
        return 0
    active = exists().where(
        col(Follow.member_id) == col(Delivery.member_id),
        col(Follow.researcher_id) == col(Delivery.researcher_id),
        col(Follow.muted).is_(False),
        col(Follow.parked).is_(False),
    )
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.member_id).in_(list(member_ids)), col(Delivery.status) == PENDING, ~active)
        .values(status=SKIPPED)
    )
    return _count(result)


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
    return _count(pending), _count(unconfirmed)


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
    `status = 'pending'`, whatever the interleaving. On PostgreSQL the picking subquery takes
    `FOR UPDATE SKIP LOCKED`, so a second scheduler skips rows being claimed instead of queueing
    behind them. A member with rows in flight elsewhere is left alone: one DM at a time.
    """
    if not member_ids:
        return {}
    busy = aliased(Delivery)
    pick = select(Delivery.id).where(
        col(Delivery.member_id).in_(list(member_ids)),
        col(Delivery.status) == PENDING,
        ~exists().where(and_(col(busy.member_id) == col(Delivery.member_id), col(busy.status) == SENDING)),
    )
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        update(Delivery)
        .where(col(Delivery.id).in_(pick.scalar_subquery()), col(Delivery.status) == PENDING)
        .values(status=SENDING, claimed_until=lease_until)
        .returning(col(Delivery.id), col(Delivery.member_id))
    )
    claimed: dict[int, list[int]] = defaultdict(list)
    for row_id, member_id in session.execute(statement):
        claimed[member_id].append(row_id)
    return dict(claimed)


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
        changed += _count(result)
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
    return _count(result)


def mark_unconfirmed(
    *, session: Session, member_id: int, key: str, lease_until: datetime, channel: str | None
) -> int:
    """sending → unconfirmed: message `key` went out and Slack never answered."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.send_key) == key)
        .values(status=UNCONFIRMED, claimed_until=None, slack_channel=channel)
    )
    return _count(result)


def mark_parked(*, session: Session, member_ids: Sequence[int], lease_until: datetime) -> int:
    """sending → parked for everything the members' claim holds: they cannot be reached."""
    if not member_ids:
        return 0
    result = session.execute(
        update(Delivery).where(*_ours(member_ids, lease_until)).values(status=PARKED, claimed_until=None)
    )
    return _count(result)


def park_worn(*, session: Session, member_id: int, lease_until: datetime, max_attempts: int) -> int:
    """sending → parked for the member's claimed rows tried `max_attempts` times or more."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.attempts) >= max_attempts)
        .values(status=PARKED, claimed_until=None)
    )
    return _count(result)


def mark_not_sent(*, session: Session, member_id: int, key: str, lease_until: datetime) -> int:
    """sending → pending for the rows of message `key`: Slack refused it, or never got it."""
    result = session.execute(
        update(Delivery)
        .where(*_ours([member_id], lease_until), col(Delivery.send_key) == key)
        .values(status=PENDING, claimed_until=None, send_key=None, attempted_at=None)
    )
    return _count(result)


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
    return _count(result)


def _sent_values(*, channel: str, ts: str, at: datetime) -> dict[str, Any]:
    return {
        "status": SENT,
        "slack_channel": channel[:32],
        "slack_ts": ts[:32],
        "sent_at": at,
        "claimed_until": None,
    }


def _count(result: Any) -> int:
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
