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

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.schedule import (
    DEFAULT_TIME,
    DEFAULT_WEEKDAY,
    FREQUENCIES,
    DigestPrefs,
    as_utc,
    describe,
    format_time,
    next_digest_at,
    parse_time,
    valid_zone,
)
from services.research.profiles import (
    Lookup,
    Profile,
    WorkSummary,
    find_researcher,
    profile_card_data,
    summarize_work,
)
from services.store.engine import write_retrying_once
from services.store.models import Authorship, Delivery, Follow, Member, Researcher, Work, utcnow
from services.workspaces.members import Viewer, find_member, get_or_create_member

# Slack users move between time zones; users.info is asked again after this long.
TIME_ZONE_MAX_AGE = timedelta(days=7)
PAGE_SIZE = 20


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
    """One page of what a member follows, alphabetically."""

    items: tuple[FollowedResearcher, ...]
    total: int
    muted: int
    offset: int = 0
    limit: int = PAGE_SIZE

    @property
    def page(self) -> int:
        """1-based page number."""
        return self.offset // max(1, self.limit) + 1

    @property
    def remaining(self) -> int:
        """Followed researchers after this page."""
        return max(0, self.total - self.offset - len(self.items))


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


@dataclass(frozen=True)
class HomeData:
    """Everything the App Home tab shows."""

    settings: DigestSettings
    following: FollowingPage


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
            return _following_page(session, member, offset=max(0, offset), limit=limit)

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
            return _settings(session, member, at)

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
            return _settings(session, member, at)

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
                settings=_settings(session, member, at),
                following=_following_page(session, member, offset=0, limit=limit),
            )

        return write_retrying_once(self._engine, work)


# ---------------------------------------------------------------------------------------------
# Units of work (inside one session; never commit)


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
        settings=_settings(session, member, now) if member is not None else None,
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


def _following_page(session: Session, member: Member | None, *, offset: int, limit: int) -> FollowingPage:
    if member is None or member.id is None:
        return FollowingPage(items=(), total=0, muted=0, offset=offset, limit=limit)
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
        .limit(limit)
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
    return FollowingPage(items=items, total=total, muted=muted or 0, offset=offset, limit=limit)


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


def _settings(session: Session, member: Member, now: datetime) -> DigestSettings:
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
