"""Queueing works for followers on the digest ledger (ledger.py): the refresh job's half, written
in the same transaction as the works themselves (an outbox). Query helpers take `session`
keyword-only and never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.digests.ledger import (
    FREQUENCY_OFF,
    KIND_NEW,
    KIND_PUBLISHED,
    PENDING,
    SENDING,
    SENT,
    UNCONFIRMED,
    updated_rows,
)
from services.openalex.works import StoredWork
from services.store.models import (
    Authorship,
    Delivery,
    Follow,
    Member,
    Researcher,
    Topic,
    TopicFollow,
    Work,
    WorkTopic,
)
from services.store.sql import chunks, conflict_insert

_LEDGER_KEY = ["member_id", "work_id"]  # the unique key of delivery

# A work counts as news for a follow only if it was published no earlier than this before the
# follow. first_seen_at alone is not enough: following a researcher the store knew only as a
# co-author means the next refresh sees a month of their works (the look-back window) for the
# first time, and those are back catalogue, not news.
PUBLISHED_BEFORE_FOLLOW_GRACE = timedelta(days=7)


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


def list_followed_topic_ids(*, session: Session) -> list[str]:
    """OpenAlex ids of every topic with at least one follow that is not parked."""
    rows = session.exec(
        select(Topic.openalex_id)
        .join(TopicFollow, col(TopicFollow.topic_id) == col(Topic.id))
        .where(col(TopicFollow.parked).is_(False), col(Topic.openalex_id).is_not(None))
        .distinct()
        .order_by(col(Topic.openalex_id))
    )
    return [openalex_id for openalex_id in rows if openalex_id]


def _active_topic_followers(
    *, session: Session, work_ids: Sequence[int]
) -> tuple[dict[int, list[int]], dict[int, list[tuple[int, datetime]]]]:
    """Followed topics of each work, and (member id, followed at) per such topic."""
    work_topics: dict[int, list[int]] = defaultdict(list)
    followers: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for chunk in chunks(sorted(set(work_ids))):
        rows = session.exec(
            select(WorkTopic.work_id, TopicFollow.topic_id, TopicFollow.member_id, TopicFollow.created_at)
            .join(TopicFollow, col(TopicFollow.topic_id) == col(WorkTopic.topic_id))
            .join(Member, col(Member.id) == col(TopicFollow.member_id))
            .where(
                col(WorkTopic.work_id).in_(chunk),
                col(TopicFollow.muted).is_(False),
                col(TopicFollow.parked).is_(False),
                col(Member.digest_frequency) != FREQUENCY_OFF,
            )
            .order_by(col(WorkTopic.work_id), col(TopicFollow.topic_id), col(TopicFollow.member_id))
        )
        for work_id, topic_id, member_id, created_at in rows:
            if topic_id not in work_topics[work_id]:
                work_topics[work_id].append(topic_id)
            if (member_id, created_at) not in followers[topic_id]:
                followers[topic_id].append((member_id, created_at))
    return work_topics, followers


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
    ("now published in …"); one still waiting for it simply sees the published venue. A work on
    a followed topic is news by the same rule, filed under the topic, unless the member gets it
    under a followed author: one row per member and work.
    """
    work_ids = sorted({s.work_id for s in stored if s.work_id})
    researcher_ids = sorted({rid for s in stored for rid in s.researcher_ids})
    if not work_ids:
        return 0
    followers = _active_followers(session=session, researcher_ids=researcher_ids) if researcher_ids else {}
    work_topics, topic_followers = _active_topic_followers(session=session, work_ids=work_ids)
    if not followers and not topic_followers:
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
        # Followed authors first (author order), then followed topics: the row's source.
        sources: list[tuple[int | None, int | None, list[tuple[int, datetime]]]] = [
            (rid, None, followers.get(rid, [])) for rid in authors.get(work_id, [])
        ]
        sources += [(None, tid, topic_followers.get(tid, [])) for tid in work_topics.get(work_id, [])]
        for researcher_id, topic_id, source_followers in sources:
            for member_id, followed_at in source_followers:
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
                    "topic_id": topic_id,
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
            queued += updated_rows(result)
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
