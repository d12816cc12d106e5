"""Following researchers, muting them, and each member's digest preference.

Follows belong to a member: one Slack user in one workspace. A follow records when it was made
(`Follow.created_at`): the digest engine queues only works first seen after it, so following
someone never floods a member with their back catalogue. Unfollowing deletes the row (following
again starts afresh); muting keeps the follow but the digest skips the researcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.follow_views import (
    PAGE_SIZE,
    DigestSettings,
    FollowingPage,
    HomeData,
    digest_settings_of,
    following_page,
)
from services.digests.schedule import (
    DEFAULT_TIME,
    DEFAULT_WEEKDAY,
    FREQUENCIES,
    as_utc,
    format_time,
    parse_time,
    valid_zone,
)
from services.research.profiles import Lookup, Profile, find_researcher, profile_card_data
from services.store.engine import write_retrying_once
from services.store.models import Follow, Member, Researcher, utcnow
from services.workspaces.members import Viewer, find_member, get_or_create_member

# Slack users move between time zones; users.info is asked again after this long.
TIME_ZONE_MAX_AGE = timedelta(days=7)

FollowStatus = Literal[
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
class FollowOutcome:
    """What a follow / unfollow / mute / unmute did, and the card as the member now sees it."""

    status: FollowStatus
    researcher_id: int
    name: str = ""
    profile: Profile | None = None
    settings: DigestSettings | None = None


@dataclass(frozen=True)
class FollowQueryOutcome:
    """`/peer follow|unfollow QUERY`: how QUERY resolved, and the outcome when it named one person.

    For unfollow, a pick list holds only researchers the member follows (empty: none of them)."""

    lookup: Lookup
    outcome: FollowOutcome | None = None


class FollowService:
    """Follows, mutes and digest preferences of members; one transaction per public method."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # following ---------------------------------------------------------------------------

    def follow(
        self,
        viewer: Viewer,
        researcher_id: int,
        *,
        time_zone: str | None = None,
        now: datetime | None = None,
    ) -> FollowOutcome:
        """Follow a researcher (creating the member on first use); new works only from `now` on."""
        at = now or utcnow()
        return write_retrying_once(self._engine, lambda s: _follow(s, viewer, researcher_id, time_zone, at))

    def follow_query(
        self, viewer: Viewer, query: str, *, time_zone: str | None = None, now: datetime | None = None
    ) -> FollowQueryOutcome:
        """`/peer follow QUERY`: follow whom QUERY names, or say why not (pick list, nobody…)."""
        at = now or utcnow()

        def work(session: Session) -> FollowQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return FollowQueryOutcome(found)
            return FollowQueryOutcome(found, _follow(session, viewer, researcher.id, time_zone, at))

        return write_retrying_once(self._engine, work)

    def unfollow(self, viewer: Viewer, researcher_id: int, *, now: datetime | None = None) -> FollowOutcome:
        """Stop following a researcher; pending digest items are the digest engine's to settle."""
        at = now or utcnow()
        return write_retrying_once(self._engine, lambda s: _unfollow(s, viewer, researcher_id, at))

    def unfollow_query(
        self, viewer: Viewer, query: str, *, now: datetime | None = None
    ) -> FollowQueryOutcome:
        """`/peer unfollow QUERY`: among several matches, the one the member follows is meant."""
        at = now or utcnow()

        def work(session: Session) -> FollowQueryOutcome:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is not None and researcher.id is not None:
                return FollowQueryOutcome(found, _unfollow(session, viewer, researcher.id, at))
            if found.status != "choices":
                return FollowQueryOutcome(found)
            followed = _followed_ids(session, viewer, [c.id for c in found.candidates])
            candidates = tuple(c for c in found.candidates if c.id in followed)
            if len(candidates) == 1:
                return FollowQueryOutcome(found, _unfollow(session, viewer, candidates[0].id, at))
            return FollowQueryOutcome(Lookup("choices", found.query, candidates=candidates))

        return write_retrying_once(self._engine, work)

    def set_muted(
        self, viewer: Viewer, researcher_id: int, muted: bool, *, now: datetime | None = None
    ) -> FollowOutcome:
        """Mute (the digest skips them, the follow stays) or unmute a followed researcher."""
        at = now or utcnow()
        return write_retrying_once(self._engine, lambda s: _set_muted(s, viewer, researcher_id, muted, at))

    def following(self, viewer: Viewer, *, offset: int = 0, limit: int = PAGE_SIZE) -> FollowingPage:
        """What the member follows, alphabetically: name, newest work, muted or not."""
        with Session(self._engine) as session:
            member = find_member(session=session, viewer=viewer)
            return following_page(session, member, offset=max(0, offset), limit=limit)

    # digest preference -------------------------------------------------------------------

    def time_zone_due(self, viewer: Viewer, *, now: datetime | None = None) -> bool:
        """Whether the member's time zone should be (re)read from Slack: never read, or stale."""
        at = now or utcnow()
        with Session(self._engine) as session:
            member = find_member(session=session, viewer=viewer)
            if member is None or member.tz is None or member.tz_checked_at is None:
                return True
            return at - as_utc(member.tz_checked_at) > TIME_ZONE_MAX_AGE

    def digest_settings(
        self, viewer: Viewer, *, time_zone: str | None = None, now: datetime | None = None
    ) -> DigestSettings:
        """The member's schedule (created with the defaults, daily at 09:00, on first use)."""
        at = now or utcnow()

        def work(session: Session) -> DigestSettings:
            member = _member(session, viewer, time_zone, at)
            return digest_settings_of(session, member, at)

        return write_retrying_once(self._engine, work)

    def set_schedule(
        self,
        viewer: Viewer,
        *,
        frequency: str,
        time: str = DEFAULT_TIME,
        weekday: int = DEFAULT_WEEKDAY,
        time_zone: str | None = None,
        now: datetime | None = None,
    ) -> DigestSettings:
        """Set how often and when (local `HH:MM`, weekday 0 = Monday for weekly) digests arrive."""
        clock = parse_time(time)
        if frequency not in FREQUENCIES or clock is None or not 0 <= weekday <= 6:
            raise ValueError(f"not a digest schedule: {frequency} {time} {weekday}")
        at = now or utcnow()

        def work(session: Session) -> DigestSettings:
            member = _member(session, viewer, time_zone, at)
            member.digest_frequency = frequency
            member.digest_time = format_time(clock)
            member.digest_weekday = weekday
            session.add(member)
            session.flush()
            return digest_settings_of(session, member, at)

        return write_retrying_once(self._engine, work)

    def member_id(self, viewer: Viewer, *, time_zone: str | None = None, now: datetime | None = None) -> int:
        """The member's id (created on first use), for services keyed by member."""
        at = now or utcnow()

        def work(session: Session) -> int:
            member = _member(session, viewer, time_zone, at)
            assert member.id is not None
            return member.id

        return write_retrying_once(self._engine, work)

    def home(
        self,
        viewer: Viewer,
        *,
        time_zone: str | None = None,
        now: datetime | None = None,
        limit: int = PAGE_SIZE,
    ) -> HomeData:
        """The App Home tab: the schedule, the last digest and the first `limit` follows."""
        at = now or utcnow()

        def work(session: Session) -> HomeData:
            member = _member(session, viewer, time_zone, at)
            return HomeData(
                settings=digest_settings_of(session, member, at),
                following=following_page(session, member, offset=0, limit=limit),
            )

        return write_retrying_once(self._engine, work)


def _member(session: Session, viewer: Viewer, time_zone: str | None, now: datetime) -> Member:
    member = get_or_create_member(session=session, viewer=viewer)
    if time_zone and valid_zone(time_zone):
        member.tz = time_zone
        member.tz_checked_at = now
        session.add(member)
    return member


def _find_follow(session: Session, member_id: int, researcher_id: int) -> Follow | None:
    return session.exec(
        select(Follow).where(col(Follow.member_id) == member_id, col(Follow.researcher_id) == researcher_id)
    ).first()


def _outcome(
    session: Session,
    status: FollowStatus,
    researcher: Researcher,
    viewer: Viewer,
    member: Member | None,
    now: datetime,
) -> FollowOutcome:
    session.flush()
    assert researcher.id is not None
    return FollowOutcome(
        status=status,
        researcher_id=researcher.id,
        name=researcher.name,
        profile=profile_card_data(session=session, researcher=researcher, viewer=viewer),
        settings=digest_settings_of(session, member, now) if member is not None else None,
    )


def _follow(
    session: Session, viewer: Viewer, researcher_id: int, time_zone: str | None, now: datetime
) -> FollowOutcome:
    researcher = session.get(Researcher, researcher_id)
    if researcher is None:
        return FollowOutcome("gone", researcher_id)
    member = _member(session, viewer, time_zone, now)
    assert member.id is not None
    follow = _find_follow(session, member.id, researcher_id)
    if follow is not None and not follow.parked:
        return _outcome(session, "already_following", researcher, viewer, member, now)
    if follow is None:
        follow = Follow(member_id=member.id, researcher_id=researcher_id)
    # Only works first seen from now on are news; a restored (parked) follow starts afresh too.
    follow.parked, follow.muted, follow.created_at = False, False, now
    session.add(follow)
    return _outcome(session, "followed", researcher, viewer, member, now)


def _unfollow(session: Session, viewer: Viewer, researcher_id: int, now: datetime) -> FollowOutcome:
    researcher = session.get(Researcher, researcher_id)
    if researcher is None:
        return FollowOutcome("gone", researcher_id)
    member = find_member(session=session, viewer=viewer)
    follow = _find_follow(session, member.id, researcher_id) if member and member.id else None
    if follow is None or follow.parked:
        return _outcome(session, "not_following", researcher, viewer, member, now)
    session.delete(follow)
    return _outcome(session, "unfollowed", researcher, viewer, member, now)


def _set_muted(
    session: Session, viewer: Viewer, researcher_id: int, muted: bool, now: datetime
) -> FollowOutcome:
    researcher = session.get(Researcher, researcher_id)
    if researcher is None:
        return FollowOutcome("gone", researcher_id)
    member = find_member(session=session, viewer=viewer)
    follow = _find_follow(session, member.id, researcher_id) if member and member.id else None
    if follow is None or follow.parked:
        return _outcome(session, "not_following", researcher, viewer, member, now)
    if follow.muted == muted:
        return _outcome(session, "already_muted" if muted else "not_muted", researcher, viewer, member, now)
    follow.muted = muted
    session.add(follow)
    return _outcome(session, "muted" if muted else "unmuted", researcher, viewer, member, now)


def _followed_ids(session: Session, viewer: Viewer, researcher_ids: list[int]) -> set[int]:
    member = find_member(session=session, viewer=viewer)
    if member is None or not researcher_ids:
        return set()
    rows = session.exec(
        select(col(Follow.researcher_id)).where(
            col(Follow.member_id) == member.id,
            col(Follow.researcher_id).in_(researcher_ids),
            col(Follow.parked).is_(False),
        )
    )
    return set(rows)
