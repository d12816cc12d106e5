"""Following topics. A follow belongs to a member: a person, or a channel (a member of kind
"channel"), so every call takes the member id. As with researchers, a follow records when it was
made and only works first seen after it are news; unfollowing deletes the row, muting keeps it
while the digest skips the topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.schedule import as_utc
from services.openalex.topic_lookup import TopicLookup, TopicService
from services.research.topic_queries import TopicFacts
from services.store.engine import write_retrying_once
from services.store.models import Topic, TopicFollow, utcnow

TopicFollowStatus = Literal[
    "followed",
    "already_following",
    "unfollowed",
    "not_following",
    "muted",
    "already_muted",
    "unmuted",
    "not_muted",
    "gone",
]


@dataclass(frozen=True)
class TopicFollowOutcome:
    """What a follow / unfollow / mute / unmute of a topic did."""

    status: TopicFollowStatus
    topic_id: int
    name: str = ""


@dataclass(frozen=True)
class FollowedTopic:
    topic_id: int
    openalex_id: str | None
    name: str
    muted: bool
    since: datetime


@dataclass(frozen=True)
class TopicCard:
    """A topic's card as one member sees it: the facts, and whether they follow (or muted) it."""

    facts: TopicFacts
    following: bool
    muted: bool = False


@dataclass(frozen=True)
class TopicAnswer:
    """TOPIC resolved, and for one topic its card (after the change, if one was asked)."""

    lookup: TopicLookup
    card: TopicCard | None = None
    outcome: TopicFollowOutcome | None = None


def find_topic_follow(*, session: Session, member_id: int, topic_id: int) -> TopicFollow | None:
    return session.exec(
        select(TopicFollow).where(
            col(TopicFollow.member_id) == member_id, col(TopicFollow.topic_id) == topic_id
        )
    ).first()


def count_followed_topics(*, session: Session, member_id: int) -> tuple[int, int]:
    """(followed, of which muted) topics of the member, parked ones left out."""
    total, muted = session.exec(
        select(func.count(), func.count().filter(col(TopicFollow.muted).is_(True)))
        .select_from(TopicFollow)
        .where(col(TopicFollow.member_id) == member_id, col(TopicFollow.parked).is_(False))
    ).one()
    return int(total), int(muted or 0)


def list_followed_topics(*, session: Session, member_id: int, offset: int, limit: int) -> list[FollowedTopic]:
    """The member's followed topics, alphabetically."""
    if limit <= 0:
        return []
    rows = session.exec(
        select(TopicFollow, Topic)
        .join(Topic, col(Topic.id) == col(TopicFollow.topic_id))
        .where(col(TopicFollow.member_id) == member_id, col(TopicFollow.parked).is_(False))
        .order_by(func.lower(col(Topic.name)), col(Topic.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [
        FollowedTopic(topic.id or 0, topic.openalex_id, topic.name, follow.muted, as_utc(follow.created_at))
        for follow, topic in rows
    ]


def change_topic_follow(
    *, session: Session, member_id: int, topic_id: int, change: str, now: datetime
) -> TopicFollowOutcome:
    """Follow, unfollow, mute or unmute a stored topic for a member (a person or a channel)."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        return TopicFollowOutcome("gone", topic_id)
    follow = find_topic_follow(session=session, member_id=member_id, topic_id=topic_id)
    active = follow is not None and not follow.parked

    def outcome(status: TopicFollowStatus) -> TopicFollowOutcome:
        session.flush()
        return TopicFollowOutcome(status, topic_id, topic.name)

    if change == "follow":
        if active:
            return outcome("already_following")
        follow = follow or TopicFollow(member_id=member_id, topic_id=topic_id)
        # Only works first seen from now on are news; a restored (parked) follow starts afresh too.
        follow.parked, follow.muted, follow.created_at = False, False, now
        session.add(follow)
        return outcome("followed")
    if follow is None or not active:
        return outcome("not_following")
    if change == "unfollow":
        session.delete(follow)
        return outcome("unfollowed")
    muted = change == "mute"
    if follow.muted == muted:
        return outcome("already_muted" if muted else "not_muted")
    follow.muted = muted
    session.add(follow)
    return outcome("muted" if muted else "unmuted")


class TopicFollowService:
    """Topic follows of members (people or channels); one transaction per public method."""

    def __init__(self, engine: Engine, topics: TopicService) -> None:
        self._engine = engine
        self._topics = topics

    def follow(self, member_id: int, topic_id: int, *, now: datetime | None = None) -> TopicFollowOutcome:
        """Follow a stored topic; its works first seen from `now` on go into the member's digest."""
        return self._apply(member_id, topic_id, "follow", now)

    def unfollow(self, member_id: int, topic_id: int, *, now: datetime | None = None) -> TopicFollowOutcome:
        """Stop following; pending items of the topic are the digest engine's to settle (skipped)."""
        return self._apply(member_id, topic_id, "unfollow", now)

    def set_muted(
        self, member_id: int, topic_id: int, muted: bool, *, now: datetime | None = None
    ) -> TopicFollowOutcome:
        """Mute (the digest skips the topic, the follow stays) or unmute."""
        return self._apply(member_id, topic_id, "mute" if muted else "unmute", now)

    def followed(self, member_id: int, *, offset: int = 0, limit: int = 100) -> list[FollowedTopic]:
        """The member's followed topics, alphabetically."""
        with Session(self._engine) as session:
            return list_followed_topics(session=session, member_id=member_id, offset=offset, limit=limit)

    def card(self, topic_id: int, *, team_id: str, member_id: int | None) -> TopicCard | None:
        """The topic's card as this member sees it (None when the topic is gone)."""
        facts = self._topics.facts(topic_id, team_id=team_id)
        if facts is None:
            return None
        with Session(self._engine) as session:
            follow = (
                find_topic_follow(session=session, member_id=member_id, topic_id=topic_id)
                if member_id is not None
                else None
            )
        active = follow is not None and not follow.parked
        return TopicCard(facts, following=active, muted=bool(active and follow and follow.muted))

    def show(
        self, query: str, *, team_id: str, member_id: int | None, now: datetime | None = None
    ) -> TopicAnswer:
        """`/peer topic TOPIC`: resolve it and, for one topic, its card."""
        lookup = self._topics.resolve(query, now=now)
        if lookup.topic_id is None:
            return TopicAnswer(lookup)
        return TopicAnswer(lookup, self.card(lookup.topic_id, team_id=team_id, member_id=member_id))

    def change_query(
        self,
        member_id: int,
        query: str,
        change: Literal["follow", "unfollow"],
        *,
        team_id: str,
        now: datetime | None = None,
    ) -> TopicAnswer:
        """`/peer follow|unfollow topic TOPIC` for a member: resolve, change, and the card after."""
        at = now or utcnow()
        lookup = self._topics.resolve(query, now=at)
        if lookup.topic_id is None:
            return TopicAnswer(lookup)
        outcome = self._apply(member_id, lookup.topic_id, change, at)
        return TopicAnswer(lookup, self.card(lookup.topic_id, team_id=team_id, member_id=member_id), outcome)

    def _apply(self, member_id: int, topic_id: int, change: str, now: datetime | None) -> TopicFollowOutcome:
        at = now or utcnow()
        return write_retrying_once(
            self._engine,
            lambda s: change_topic_follow(
                session=s, member_id=member_id, topic_id=topic_id, change=change, now=at
            ),
        )
