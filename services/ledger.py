"""The digest ledger (table `delivery`): queueing works for followers, claiming and settling rows.

A row's life (DigestService drives it):

    pending ──claim──▶ sending ──sent──▶ sent
       │ ▲                │  ╲
       │ └ release/expiry ┘   ╲──recipient gone (or too many failures)──▶ parked
       └──unfollowed or muted before delivery──▶ skipped

    sent (kind "new") ──the published version arrives──▶ pending (kind "published")

Every transition is a compare-and-set UPDATE, so two schedulers (or a restart mid-cycle) never
send a row twice: only the process whose UPDATE moved a row to "sending" may settle it, and it
settles only rows still carrying its own lease (`claimed_until`).

Query helpers take `session` keyword-only and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.db import IN_LIST_CHUNK, chunks, conflict_insert
from services.importer import StoredWork
from services.models import Authorship, Delivery, Follow, Member, Researcher, Work

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
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
            # The follower already has a row for the preprint. Sent (or being sent): tell them
            # again, once. A row still pending will show the published venue when it goes out.
            result = session.execute(
                update(Delivery)
                .where(
                    col(Delivery.work_id) == work_id,
                    col(Delivery.member_id).in_(chunk),
                    col(Delivery.kind) == KIND_NEW,
                    col(Delivery.status).in_([SENT, SENDING]),
                )
                .values(kind=KIND_PUBLISHED, status=PENDING, attempts=0, claimed_until=None)
            )
            queued += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
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
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def release_expired(*, session: Session, now: datetime) -> int:
    """Return rows whose sender vanished (lease over) to pending; returns how many."""
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.status) == SENDING, col(Delivery.claimed_until) < now)
        .values(status=PENDING, claimed_until=None)
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


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
        .values(status=SENDING, claimed_until=lease_until, attempts=col(Delivery.attempts) + 1)
        .returning(col(Delivery.id), col(Delivery.member_id))
    )
    claimed: dict[int, list[int]] = defaultdict(list)
    for row_id, member_id in session.execute(statement):
        claimed[member_id].append(row_id)
    return dict(claimed)


def _settle(
    *, session: Session, row_ids: Sequence[int], lease_until: datetime, values: dict[str, Any]
) -> int:
    changed = 0
    for chunk in chunks(sorted(row_ids)):
        result = session.execute(
            update(Delivery)
            .where(
                col(Delivery.id).in_(chunk),
                col(Delivery.status) == SENDING,
                # Our lease, not a later claimer's: the lease timestamp is the claim's token.
                col(Delivery.claimed_until) == lease_until,
            )
            .values(**values)
        )
        changed += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    return changed


def mark_sent(
    *,
    session: Session,
    row_ids: Sequence[int],
    lease_until: datetime,
    channel: str,
    ts: str,
    now: datetime,
) -> int:
    """sending → sent, keeping the Slack channel and ts; returns rows settled."""
    values = {
        "status": SENT,
        "slack_channel": channel[:32],
        "slack_ts": ts[:32],
        "sent_at": now,
        "claimed_until": None,
    }
    return _settle(session=session, row_ids=row_ids, lease_until=lease_until, values=values)


def mark_parked(*, session: Session, row_ids: Sequence[int], lease_until: datetime) -> int:
    """sending → parked: the member cannot be reached; never retried."""
    values = {"status": PARKED, "claimed_until": None}
    return _settle(session=session, row_ids=row_ids, lease_until=lease_until, values=values)


def release(*, session: Session, row_ids: Sequence[int], lease_until: datetime) -> int:
    """sending → pending: try again next cycle."""
    values = {"status": PENDING, "claimed_until": None}
    return _settle(session=session, row_ids=row_ids, lease_until=lease_until, values=values)


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


def list_rows_over_attempts(*, session: Session, row_ids: Sequence[int], max_attempts: int) -> list[int]:
    """Of these rows, the ones that have been claimed `max_attempts` times or more."""
    found: list[int] = []
    for chunk in chunks(sorted(row_ids)):
        found.extend(
            row_id
            for row_id in session.exec(
                select(Delivery.id).where(col(Delivery.id).in_(chunk), col(Delivery.attempts) >= max_attempts)
            )
            if row_id is not None
        )
    return found
