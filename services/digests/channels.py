"""Channel feeds: a channel follows researchers and gets one digest post a run, in the channel.

A channel is a member row of kind "channel" (services/workspaces/members.py), so its follows,
ledger rows and schedule are the ones people have, and DigestService delivers it unchanged.
Anyone in the channel may change its subscriptions (the Slack surface checks they typed it in
the channel). A channel has no time zone of its own: its schedule is read in the zone of
whoever set it up or last changed it. One transaction per public method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.channel_feed import (
    ChannelFeed,
    Subscription,
    list_subscriptions,
    open_channel,
    read_feed,
    setter_zone,
)
from services.digests.schedule import DEFAULT_TIME, DEFAULT_WEEKDAY, FREQUENCIES, format_time, parse_time
from services.digests.topic_follows import TopicFollowOutcome, change_topic_follow
from services.openalex.topic_lookup import TopicLookup, TopicService
from services.openalex.topics import topic_ref
from services.research.profiles import Lookup, find_researcher
from services.store.engine import write_retrying_once
from services.store.models import MEMBER_USER, Claim, Follow, Member, Researcher, Topic, utcnow
from services.workspaces.members import ChannelRef, Viewer, find_channel, get_or_create_channel

ChannelStatus = Literal["followed", "already_following", "unfollowed", "not_following", "gone"]
# The setter's time zone, read when a write needs it: reading it makes the setter's member row,
# so a follow that finds nobody leaves no trace.
SetterZone = Callable[[], str | None]
T = TypeVar("T")


@dataclass(frozen=True)
class ChannelOutcome:
    """What a channel follow / unfollow did, and the channel's feed after it."""

    status: ChannelStatus
    researcher_id: int
    name: str
    feed: ChannelFeed


@dataclass(frozen=True)
class ChannelQueryOutcome:
    """`/peer channel follow|unfollow QUERY`: how QUERY resolved, and the outcome when it named one
    researcher. For unfollow, a pick list holds only researchers the channel follows."""

    lookup: Lookup
    outcome: ChannelOutcome | None = None


@dataclass(frozen=True)
class ChannelTopicOutcome:
    """What a channel's topic follow / unfollow did, and the channel's feed after it."""

    outcome: TopicFollowOutcome
    feed: ChannelFeed


@dataclass(frozen=True)
class ChannelTopicAnswer:
    """`/peer channel follow|unfollow topic TOPIC`: how TOPIC resolved, and the outcome when it
    named one topic. For unfollow, a pick list holds only topics the channel follows."""

    lookup: TopicLookup
    outcome: ChannelTopicOutcome | None = None


@dataclass(frozen=True)
class MembersOutcome:
    """`/peer channel follow members`: the channel's members with an approved claim, split into
    those followed now and those the channel already followed."""

    added: tuple[Subscription, ...]
    already: tuple[Subscription, ...]
    feed: ChannelFeed


class ChannelService:
    """Channel feeds: subscriptions and schedule of channels."""

    def __init__(self, engine: Engine, topics: TopicService) -> None:
        self._engine = engine
        self._topics = topics

    def feed(self, channel: ChannelRef, *, now: datetime | None = None) -> ChannelFeed:
        """The channel's subscriptions and schedule (the defaults when it follows nobody yet)."""
        at = now or utcnow()
        with Session(self._engine) as session:
            return read_feed(
                session=session,
                channel=channel,
                member=find_channel(session=session, channel=channel),
                now=at,
            )

    def follow(
        self,
        channel: ChannelRef,
        researcher_id: int,
        *,
        setter: Viewer,
        setter_tz: str | None = None,
        now: datetime | None = None,
    ) -> ChannelOutcome:
        """Subscribe the channel to a researcher: new works from `now` on."""
        at = now or utcnow()
        return self._write_as(
            setter, setter_tz, at, lambda s, zone: _follow(s, channel, researcher_id, zone(), at)
        )

    def follow_query(
        self,
        channel: ChannelRef,
        query: str,
        *,
        setter: Viewer,
        setter_tz: str | None = None,
        now: datetime | None = None,
    ) -> ChannelQueryOutcome:
        """`/peer channel follow QUERY`: follow whom QUERY names, or say why not."""
        at = now or utcnow()

        def work(session: Session, zone: SetterZone) -> ChannelQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return ChannelQueryOutcome(found)
            return ChannelQueryOutcome(found, _follow(session, channel, researcher.id, zone(), at))

        return self._write_as(setter, setter_tz, at, work)

    def unfollow(
        self, channel: ChannelRef, researcher_id: int, *, now: datetime | None = None
    ) -> ChannelOutcome:
        """Stop the channel's subscription to a researcher; pending items are skipped at delivery."""
        at = now or utcnow()
        return write_retrying_once(self._engine, lambda s: _unfollow(s, channel, researcher_id, at))

    def unfollow_query(
        self, channel: ChannelRef, query: str, *, now: datetime | None = None
    ) -> ChannelQueryOutcome:
        """`/peer channel unfollow QUERY`: among several matches, the one the channel follows."""
        at = now or utcnow()

        def work(session: Session) -> ChannelQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is not None and researcher.id is not None:
                return ChannelQueryOutcome(found, _unfollow(session, channel, researcher.id, at))
            if found.status != "choices":
                return ChannelQueryOutcome(found)
            followed = {
                s.researcher_id
                for s in list_subscriptions(
                    session=session, member=find_channel(session=session, channel=channel)
                )
            }
            candidates = tuple(c for c in found.candidates if c.id in followed)
            if len(candidates) == 1:
                return ChannelQueryOutcome(found, _unfollow(session, channel, candidates[0].id, at))
            return ChannelQueryOutcome(Lookup("choices", found.query, candidates=candidates))

        return write_retrying_once(self._engine, work)

    def follow_members(
        self,
        channel: ChannelRef,
        user_ids: Sequence[str],
        *,
        setter: Viewer,
        setter_tz: str | None = None,
        now: datetime | None = None,
    ) -> MembersOutcome:
        """Subscribe the channel to every researcher claimed (approved) by one of `user_ids`."""
        at = now or utcnow()
        wanted = sorted(set(user_ids))

        def work(session: Session, zone: SetterZone) -> MembersOutcome:
            claimed = _claimed_researchers(session, channel.team_id, wanted)
            added: list[Subscription] = []
            already: list[Subscription] = []
            tz = zone() if claimed else None
            for researcher_id, name in claimed:
                status, _ = _subscribe(session, channel, researcher_id, tz, at)
                (added if status == "followed" else already).append(Subscription(researcher_id, name))
            member = find_channel(session=session, channel=channel)
            return MembersOutcome(
                tuple(added),
                tuple(already),
                read_feed(session=session, channel=channel, member=member, now=at),
            )

        return self._write_as(setter, setter_tz, at, work)

    def follow_topic(
        self,
        channel: ChannelRef,
        query: str,
        *,
        setter: Viewer,
        setter_tz: str | None = None,
        now: datetime | None = None,
    ) -> ChannelTopicAnswer:
        """`/peer channel follow topic TOPIC`: TOPIC resolved as for a person (an id, its URL, or
        words), then followed for the channel: its works first seen from `now` on."""
        at = now or utcnow()
        lookup = self._topics.resolve(query, now=at)  # OpenAlex, outside any transaction
        topic_id = lookup.topic_id
        if topic_id is None:
            return ChannelTopicAnswer(lookup)

        def work(session: Session, zone: SetterZone) -> ChannelTopicOutcome:
            member = open_channel(session=session, channel=channel, setter_tz=zone())
            assert member.id is not None
            outcome = change_topic_follow(
                session=session, member_id=member.id, topic_id=topic_id, change="follow", now=at
            )
            return ChannelTopicOutcome(
                outcome, read_feed(session=session, channel=channel, member=member, now=at)
            )

        return ChannelTopicAnswer(lookup, self._write_as(setter, setter_tz, at, work))

    def unfollow_topic(
        self, channel: ChannelRef, query: str, *, now: datetime | None = None
    ) -> ChannelTopicAnswer:
        """`/peer channel unfollow topic TOPIC`: an id the channel follows is found without asking
        OpenAlex; among several matches of words, the one the channel follows."""
        at = now or utcnow()
        followed = self.feed(channel, now=at).topics
        ref = topic_ref(" ".join(query.split()))
        known = [t.topic_id for t in followed if ref is not None and t.openalex_id == ref]
        if known:
            return ChannelTopicAnswer(
                TopicLookup("found", query, topic_id=known[0]),
                self.unfollow_topic_id(channel, known[0], now=at),
            )
        lookup = self._topics.resolve(query, now=at)
        if lookup.topic_id is not None:
            return ChannelTopicAnswer(lookup, self.unfollow_topic_id(channel, lookup.topic_id, now=at))
        if lookup.status != "choices":
            return ChannelTopicAnswer(lookup)
        ids = {t.openalex_id: t.topic_id for t in followed if t.openalex_id}
        candidates = tuple(c for c in lookup.candidates if c.openalex_id in ids)
        if len(candidates) == 1:
            only = ids[candidates[0].openalex_id]
            return ChannelTopicAnswer(lookup, self.unfollow_topic_id(channel, only, now=at))
        return ChannelTopicAnswer(replace(lookup, candidates=candidates))

    def unfollow_topic_id(
        self, channel: ChannelRef, topic_id: int, *, now: datetime | None = None
    ) -> ChannelTopicOutcome:
        """Stop the channel's follow of a stored topic (`/peer channel`'s Unfollow)."""
        at = now or utcnow()

        def work(session: Session) -> ChannelTopicOutcome:
            member = find_channel(session=session, channel=channel)
            if member is None or member.id is None:
                topic = session.get(Topic, topic_id)
                outcome = TopicFollowOutcome(
                    "not_following" if topic else "gone", topic_id, topic.name if topic else ""
                )
            else:
                outcome = change_topic_follow(
                    session=session, member_id=member.id, topic_id=topic_id, change="unfollow", now=at
                )
            return ChannelTopicOutcome(
                outcome, read_feed(session=session, channel=channel, member=member, now=at)
            )

        return write_retrying_once(self._engine, work)

    def set_schedule(
        self,
        channel: ChannelRef,
        *,
        frequency: str,
        time: str = DEFAULT_TIME,
        weekday: int = DEFAULT_WEEKDAY,
        setter: Viewer,
        setter_tz: str | None = None,
        now: datetime | None = None,
    ) -> ChannelFeed:
        """Set when the channel's digest is posted, in the setter's time zone."""
        clock = parse_time(time)
        if frequency not in FREQUENCIES or clock is None or not 0 <= weekday <= 6:
            raise ValueError(f"not a digest schedule: {frequency} {time} {weekday}")
        at = now or utcnow()

        def work(session: Session, zone: SetterZone) -> ChannelFeed:
            member, _ = get_or_create_channel(session=session, channel=channel)
            member.digest_frequency = frequency
            member.digest_time = format_time(clock)
            member.digest_weekday = weekday
            member.tz = zone()
            session.add(member)
            session.flush()
            return read_feed(session=session, channel=channel, member=member, now=at)

        return self._write_as(setter, setter_tz, at, work)

    def _write_as(
        self, setter: Viewer, setter_tz: str | None, now: datetime, work: Callable[[Session, SetterZone], T]
    ) -> T:
        """One retried unit of work for a change `setter` makes to a channel."""
        return write_retrying_once(
            self._engine,
            lambda session: work(
                session, lambda: setter_zone(session=session, setter=setter, fresh=setter_tz, now=now)
            ),
        )


def _find_follow(session: Session, member_id: int, researcher_id: int) -> Follow | None:
    return session.exec(
        select(Follow).where(col(Follow.member_id) == member_id, col(Follow.researcher_id) == researcher_id)
    ).first()


def _subscribe(
    session: Session, channel: ChannelRef, researcher_id: int, setter_tz: str | None, now: datetime
) -> tuple[ChannelStatus, Member]:
    """Follow a researcher for the channel (made on first use, in the setter's time zone)."""
    member = open_channel(session=session, channel=channel, setter_tz=setter_tz)
    if session.get(Researcher, researcher_id) is None or member.id is None:
        return "gone", member
    follow = _find_follow(session, member.id, researcher_id)
    if follow is not None and not follow.parked:
        return "already_following", member
    follow = follow or Follow(member_id=member.id, researcher_id=researcher_id)
    # Only works first seen from now on are news for the channel.
    follow.parked, follow.muted, follow.created_at = False, False, now
    session.add(follow)
    session.flush()
    return "followed", member


def _follow(
    session: Session, channel: ChannelRef, researcher_id: int, setter_tz: str | None, now: datetime
) -> ChannelOutcome:
    status, member = _subscribe(session, channel, researcher_id, setter_tz, now)
    researcher = session.get(Researcher, researcher_id)
    name = researcher.name if researcher else ""
    return ChannelOutcome(
        status, researcher_id, name, read_feed(session=session, channel=channel, member=member, now=now)
    )


def _unfollow(session: Session, channel: ChannelRef, researcher_id: int, now: datetime) -> ChannelOutcome:
    researcher = session.get(Researcher, researcher_id)
    member = find_channel(session=session, channel=channel)
    follow = _find_follow(session, member.id, researcher_id) if member and member.id else None
    status: ChannelStatus = "gone" if researcher is None else "not_following"
    if researcher is not None and follow is not None and not follow.parked:
        session.delete(follow)
        session.flush()
        status = "unfollowed"
    return ChannelOutcome(
        status,
        researcher_id,
        researcher.name if researcher else "",
        read_feed(session=session, channel=channel, member=member, now=now),
    )


def _claimed_researchers(session: Session, team_id: str, user_ids: list[str]) -> list[tuple[int, str]]:
    """Researchers claimed (approved) by these people of the workspace, alphabetically."""
    found: dict[int, str] = {}
    for start in range(0, len(user_ids), 500):
        rows = session.exec(
            select(col(Researcher.id), col(Researcher.name))
            .join(Claim, col(Claim.researcher_id) == col(Researcher.id))
            .join(Member, col(Member.id) == col(Claim.member_id))
            .where(
                col(Claim.status) == "approved",
                col(Member.kind) == MEMBER_USER,
                col(Member.team_id) == team_id,
                col(Member.user_id).in_(user_ids[start : start + 500]),
            )
        )
        found.update({rid or 0: name for rid, name in rows})
    return sorted(found.items(), key=lambda item: (item[1].casefold(), item[0]))
