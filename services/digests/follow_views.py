"""What a member sees of their follows: the following list a page at a time, and their digest
settings with the last digest that went out (the App Home tab shows both). Read inside one
session, never committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.digests.schedule import DigestPrefs, as_utc, describe, next_digest_at, valid_zone
from services.digests.topic_follows import FollowedTopic, count_followed_topics, list_followed_topics
from services.research.profiles import WorkSummary, summarize_work
from services.store.models import Authorship, Delivery, Follow, Member, Researcher, Work

PAGE_SIZE = 20


@dataclass(frozen=True)
class DigestSettings:
    """A member's digest schedule as they see it, with what it applies to."""

    prefs: DigestPrefs
    next_at: datetime | None  # UTC; None when digests are off
    last_digest_at: datetime | None  # UTC
    last_digest_items: int
    following: int
    muted: int

    @property
    def zone_name(self) -> str:
        """The IANA zone the times are in ("UTC" until Slack told us the member's)."""
        return self.prefs.tz or "UTC"

    @property
    def summary(self) -> str:
        """`daily at 09:00`, `weekly on Mondays at 09:00`, `as soon as new works are found`, `off`."""
        return describe(self.prefs)


@dataclass(frozen=True)
class FollowedResearcher:
    researcher_id: int
    name: str
    newest_work: WorkSummary | None
    muted: bool
    since: datetime


@dataclass(frozen=True)
class FollowingPage:
    """One page of what a member follows: their topics first, then researchers, each
    alphabetically; `offset` and `limit` count both together."""

    items: tuple[FollowedResearcher, ...]
    total: int  # researchers
    muted: int
    offset: int = 0
    limit: int = PAGE_SIZE
    topics: tuple[FollowedTopic, ...] = ()
    topic_total: int = 0
    topics_muted: int = 0

    @property
    def page(self) -> int:
        """1-based page number."""
        return self.offset // max(1, self.limit) + 1

    @property
    def remaining(self) -> int:
        """Followed researchers and topics after this page."""
        return max(0, self.total + self.topic_total - self.offset - len(self.items) - len(self.topics))


@dataclass(frozen=True)
class HomeData:
    """Everything the App Home tab shows."""

    settings: DigestSettings
    following: FollowingPage


def _newest_work(session: Session, researcher_id: int) -> WorkSummary | None:
    work = session.exec(
        select(Work)
        .join(Authorship, col(Authorship.work_id) == col(Work.id))
        .where(col(Authorship.researcher_id) == researcher_id)
        .order_by(
            col(Work.year).desc().nulls_last(),
            col(Work.publication_date).desc().nulls_last(),
            col(Work.id).desc(),
        )
        .limit(1)
    ).first()
    return summarize_work(work) if work else None


def following_page(session: Session, member: Member | None, *, offset: int, limit: int) -> FollowingPage:
    """One page of what the member follows, alphabetically, with each researcher's newest work."""
    if member is None or member.id is None:
        return FollowingPage(items=(), total=0, muted=0, offset=offset, limit=limit)
    topic_total, topics_muted = count_followed_topics(session=session, member_id=member.id)
    topics = list_followed_topics(session=session, member_id=member.id, offset=offset, limit=limit)
    page_offset, page_limit = offset, limit
    offset, limit = max(0, offset - topic_total), limit - len(topics)
    active = (col(Follow.member_id) == member.id, col(Follow.parked).is_(False))
    total, muted = session.exec(
        select(func.count(), func.count().filter(col(Follow.muted).is_(True)))
        .select_from(Follow)
        .where(*active)
    ).one()
    rows = session.exec(
        select(Follow, Researcher)
        .join(Researcher, col(Researcher.id) == col(Follow.researcher_id))
        .where(*active)
        .order_by(func.lower(col(Researcher.name)), col(Researcher.id))
        .offset(offset)
        .limit(max(0, limit))
    ).all()
    items = tuple(
        FollowedResearcher(
            researcher_id=researcher.id or 0,
            name=researcher.name,
            newest_work=_newest_work(session, researcher.id or 0),
            muted=follow.muted,
            since=as_utc(follow.created_at),
        )
        for follow, researcher in rows
    )
    return FollowingPage(
        items=items,
        total=total,
        muted=muted or 0,
        offset=page_offset,
        limit=page_limit,
        topics=tuple(topics),
        topic_total=topic_total,
        topics_muted=topics_muted,
    )


def _last_digest(session: Session, member: Member) -> tuple[datetime | None, int]:
    """When the newest digest went out and how many items it held (sent rows share its ts)."""
    newest = session.exec(
        select(Delivery)
        .where(
            col(Delivery.member_id) == member.id,
            col(Delivery.status) == "sent",
            col(Delivery.sent_at).is_not(None),
        )
        .order_by(col(Delivery.sent_at).desc(), col(Delivery.id).desc())
        .limit(1)
    ).first()
    last_at = as_utc(member.last_digest_at) if member.last_digest_at else None
    if newest is None or newest.sent_at is None:
        return last_at, 0
    sent_at = as_utc(newest.sent_at)
    items = 1
    if newest.slack_ts:
        items = session.exec(
            select(func.count())
            .select_from(Delivery)
            .where(col(Delivery.member_id) == member.id, col(Delivery.slack_ts) == newest.slack_ts)
        ).one()
    if last_at is not None and last_at > sent_at:
        return last_at, 0  # a newer digest whose rows are gone; its size is unknown
    return sent_at, items


def digest_settings_of(session: Session, member: Member, now: datetime) -> DigestSettings:
    """The member's schedule, its next slot after `now`, the last digest, and how many they follow."""
    prefs = DigestPrefs(
        frequency=member.digest_frequency,
        time=member.digest_time,
        weekday=member.digest_weekday,
        tz=member.tz if valid_zone(member.tz) else None,
    )
    last_at, last_items = _last_digest(session, member)
    total, muted = session.exec(
        select(func.count(), func.count().filter(col(Follow.muted).is_(True)))
        .select_from(Follow)
        .where(col(Follow.member_id) == member.id, col(Follow.parked).is_(False))
    ).one()
    return DigestSettings(
        prefs=prefs,
        next_at=next_digest_at(prefs, after=now),
        last_digest_at=last_at,
        last_digest_items=last_items,
        following=total,
        muted=muted or 0,
    )
