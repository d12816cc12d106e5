"""What a channel follows (researchers and topics) and when its digest is posted; the channel's
member row made on first use in the zone of whoever set it up. Query helpers take `session`
keyword-only and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.digests.schedule import DigestPrefs, describe, next_digest_at, valid_zone, zone
from services.digests.topic_follows import FollowedTopic, list_followed_topics
from services.store.models import Follow, Member, Researcher
from services.workspaces.members import ChannelRef, Viewer, get_or_create_channel, get_or_create_member

# Far past any real channel's topics: the list is cut for display, never here.
MAX_FEED_TOPICS = 10_000


@dataclass(frozen=True)
class Subscription:
    researcher_id: int
    name: str


@dataclass(frozen=True)
class ChannelFeed:
    """What a channel follows, alphabetically, and when its digest is posted."""

    channel_id: str
    subscriptions: tuple[Subscription, ...]
    prefs: DigestPrefs
    next_at: datetime | None
    topics: tuple[FollowedTopic, ...] = ()
    # False until someone first changes the channel's feed: its schedule's time zone is then
    # nobody's yet (it becomes theirs), and the default prefs show UTC.
    set_up: bool = True

    @property
    def schedule(self) -> str:
        """`daily at 09:00 (Europe/Berlin)`, `as soon as new works are found`, `off`."""
        if self.prefs.frequency in ("daily", "weekly"):
            return f"{describe(self.prefs)} ({self.prefs.zone.key})"
        return describe(self.prefs)

    @property
    def follows_nothing(self) -> bool:
        return not self.subscriptions and not self.topics


def setter_zone(*, session: Session, setter: Viewer, fresh: str | None, now: datetime) -> str | None:
    """The time zone of the person changing a channel (refreshed from Slack when `fresh`)."""
    person = get_or_create_member(session=session, viewer=setter)
    if fresh and valid_zone(fresh):
        person.tz, person.tz_checked_at = fresh, now
        session.add(person)
    return person.tz


def open_channel(*, session: Session, channel: ChannelRef, setter_tz: str | None) -> Member:
    """The channel's member row; made on first use with the default schedule (daily at 09:00)
    read in the zone of whoever set the channel up."""
    member, created = get_or_create_channel(session=session, channel=channel)
    if created:
        member.tz = setter_tz
        session.add(member)
    return member


def list_subscriptions(*, session: Session, member: Member | None) -> list[Subscription]:
    """The researchers the channel follows, alphabetically."""
    if member is None or member.id is None:
        return []
    rows = session.exec(
        select(col(Researcher.id), col(Researcher.name))
        .join(Follow, col(Follow.researcher_id) == col(Researcher.id))
        .where(col(Follow.member_id) == member.id, col(Follow.parked).is_(False))
        .order_by(func.lower(col(Researcher.name)), col(Researcher.id))
    )
    return [Subscription(rid or 0, name) for rid, name in rows]


def read_feed(*, session: Session, channel: ChannelRef, member: Member | None, now: datetime) -> ChannelFeed:
    """The channel's feed (the defaults when it follows nothing yet)."""
    prefs = DigestPrefs()
    topics: list[FollowedTopic] = []
    if member is not None:
        prefs = DigestPrefs(
            frequency=member.digest_frequency,
            time=member.digest_time,
            weekday=member.digest_weekday,
            tz=zone(member.tz).key,
        )
        if member.id is not None:
            topics = list_followed_topics(
                session=session, member_id=member.id, offset=0, limit=MAX_FEED_TOPICS
            )
    return ChannelFeed(
        channel_id=channel.channel_id,
        subscriptions=tuple(list_subscriptions(session=session, member=member)),
        prefs=prefs,
        next_at=next_digest_at(prefs, after=now),
        topics=tuple(topics),
        set_up=member is not None,
    )
