"""Channel feeds: a channel follows researchers and gets one digest post a run, in the channel.

A channel is a member row of kind "channel" (services/workspaces/members.py), so its follows,
ledger rows and schedule are the ones people have, and DigestService delivers it unchanged.
Anyone in the channel may change its subscriptions (the Slack surface checks they typed it in
the channel). A channel has no time zone of its own: its schedule is read in the zone of
whoever set it up or last changed it. One transaction per public method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.schedule import (
    DEFAULT_TIME,
    DEFAULT_WEEKDAY,
    FREQUENCIES,
    DigestPrefs,
    describe,
    format_time,
    next_digest_at,
    parse_time,
    valid_zone,
    zone,
)
from services.research.profiles import Lookup, find_researcher
from services.store.engine import write_retrying_once
from services.store.models import MEMBER_USER, Claim, Follow, Member, Researcher, utcnow
from services.workspaces.members import (
    ChannelRef,
    Viewer,
    find_channel,
    get_or_create_channel,
    get_or_create_member,
)

ChannelStatus = Literal["followed", "already_following", "unfollowed", "not_following", "gone"]


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

    @property
    def schedule(self) -> str:
        """`daily at 09:00 (Europe/Berlin)`, `as soon as new works are found`, `off`."""
        if self.prefs.frequency in ("daily", "weekly"):
            return f"{describe(self.prefs)} ({self.prefs.zone.key})"
        return describe(self.prefs)


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
class MembersOutcome:
    """`/peer channel follow members`: the channel's members with an approved claim, split into
    those followed now and those the channel already followed."""

    added: tuple[Subscription, ...]
    already: tuple[Subscription, ...]
    feed: ChannelFeed


class ChannelService:
    """Channel feeds: subscriptions and schedule of channels."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def feed(self, channel: ChannelRef, *, now: datetime | None = None) -> ChannelFeed:
        """The channel's subscriptions and schedule (the defaults when it follows nobody yet)."""
        at = now or utcnow()
        with Session(self._engine) as session:
            return _feed(session, channel, find_channel(session=session, channel=channel), at)

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
        return write_retrying_once(
            self._engine,
            lambda s: _follow(s, channel, researcher_id, _setter_zone(s, setter, setter_tz, at), at),
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

        def work(session: Session) -> ChannelQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return ChannelQueryOutcome(found)
            tz = _setter_zone(session, setter, setter_tz, at)
            return ChannelQueryOutcome(found, _follow(session, channel, researcher.id, tz, at))

        return write_retrying_once(self._engine, work)

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
                for s in _subscriptions(session, find_channel(session=session, channel=channel))
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

        def work(session: Session) -> MembersOutcome:
            claimed = _claimed_researchers(session, channel.team_id, wanted)
            added: list[Subscription] = []
            already: list[Subscription] = []
            tz = _setter_zone(session, setter, setter_tz, at) if claimed else None
            for researcher_id, name in claimed:
                status, _ = _subscribe(session, channel, researcher_id, tz, at)
                (added if status == "followed" else already).append(Subscription(researcher_id, name))
            member = find_channel(session=session, channel=channel)
            return MembersOutcome(tuple(added), tuple(already), _feed(session, channel, member, at))

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

        def work(session: Session) -> ChannelFeed:
            member, _ = get_or_create_channel(session=session, channel=channel)
            member.digest_frequency = frequency
            member.digest_time = format_time(clock)
            member.digest_weekday = weekday
            member.tz = _setter_zone(session, setter, setter_tz, at)
            session.add(member)
            session.flush()
            return _feed(session, channel, member, at)

        return write_retrying_once(self._engine, work)


def _setter_zone(session: Session, setter: Viewer, fresh: str | None, now: datetime) -> str | None:
    """The time zone of the person changing a channel (refreshed from Slack when `fresh`)."""
    person = get_or_create_member(session=session, viewer=setter)
    if fresh and valid_zone(fresh):
        person.tz, person.tz_checked_at = fresh, now
        session.add(person)
    return person.tz


def _subscriptions(session: Session, member: Member | None) -> list[Subscription]:
    if member is None or member.id is None:
        return []
    rows = session.exec(
        select(col(Researcher.id), col(Researcher.name))
        .join(Follow, col(Follow.researcher_id) == col(Researcher.id))
        .where(col(Follow.member_id) == member.id, col(Follow.parked).is_(False))
        .order_by(func.lower(col(Researcher.name)), col(Researcher.id))
    )
    return [Subscription(rid or 0, name) for rid, name in rows]


def _feed(session: Session, channel: ChannelRef, member: Member | None, now: datetime) -> ChannelFeed:
    prefs = DigestPrefs()
    if member is not None:
        prefs = DigestPrefs(
            frequency=member.digest_frequency,
            time=member.digest_time,
            weekday=member.digest_weekday,
            tz=zone(member.tz).key,
        )
    return ChannelFeed(
        channel_id=channel.channel_id,
        subscriptions=tuple(_subscriptions(session, member)),
        prefs=prefs,
        next_at=next_digest_at(prefs, after=now),
    )


def _find_follow(session: Session, member_id: int, researcher_id: int) -> Follow | None:
    return session.exec(
        select(Follow).where(col(Follow.member_id) == member_id, col(Follow.researcher_id) == researcher_id)
    ).first()


def _subscribe(
    session: Session, channel: ChannelRef, researcher_id: int, setter_tz: str | None, now: datetime
) -> tuple[ChannelStatus, Member]:
    """Follow a researcher for the channel (made on first use, in the setter's time zone)."""
    member, created = get_or_create_channel(session=session, channel=channel)
    if created:
        member.tz = setter_tz  # daily at 09:00 in the zone of whoever set the channel up
        session.add(member)
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
    return ChannelOutcome(status, researcher_id, name, _feed(session, channel, member, now))


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
        status, researcher_id, researcher.name if researcher else "", _feed(session, channel, member, now)
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
