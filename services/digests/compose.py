"""What a digest holds: the view types and composing them from the ledger (no sending here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import select as sa_select  # Core: more columns than sqlmodel's typed select
from sqlmodel import Session, col

from services.digests import ledger
from services.digests.mentions import ClaimedAuthors
from services.digests.schedule import DigestPrefs, as_utc, describe
from services.store.models import MEMBER_CHANNEL, MEMBER_USER, Delivery, Member, Researcher, Topic, Work
from services.store.sql import chunks


@dataclass(frozen=True)
class DigestItem:
    """One work in a digest; kind "published" means "now published in …" news for a preprint."""

    work_id: int
    title: str
    url: str | None
    venue: str | None
    year: int | None
    publication_date: date | None
    kind: str
    published_venue: str | None
    published_year: int | None
    published_url: str | None
    newest_at: datetime  # ordering key: newest first
    cited_by_count: int | None = None


GROUP_RESEARCHER = "researcher"
GROUP_TOPIC = "topic"
# A topic can bring many works: its group shows the best cited few, and the rest as "and M more"
# (settled with the message: summarised, not skipped).
TOP_PER_TOPIC = 5


@dataclass(frozen=True)
class DigestGroup:
    """The items of one followed researcher, newest first; or of one followed topic (kind
    "topic"), best cited first, with the works not shown in `summarised` ("and M more")."""

    researcher_id: int
    name: str
    items: tuple[DigestItem, ...]
    kind: str = GROUP_RESEARCHER
    topic_id: int | None = None
    topic_openalex_id: str | None = None
    summarised: tuple[int, ...] = ()  # work ids
    since: date | None = None  # the oldest publication date of the group's works

    @property
    def total(self) -> int:
        """Works the group stands for: shown and summarised."""
        return len(self.items) + len(self.summarised)

    @cached_property
    def newest_at(self) -> datetime:
        """The newest item's date (computed once: followers share a group)."""
        return max(item.newest_at for item in self.items)


@dataclass(frozen=True)
class DigestView:
    """Everything one digest DM shows; `groups` ordered by their newest item."""

    member_id: int
    team_id: str
    user_id: str
    schedule: str  # "daily at 09:00", as the member chose it
    groups: tuple[DigestGroup, ...] = ()
    # The DM channel an earlier digest went to: lets the sender skip conversations.open (Tier 3).
    dm_channel: str | None = None
    # One message of a digest too big for one: what it leaves for later, and whether "later"
    # is the next message of this digest or the member's next digest.
    held_items: int = 0
    held_researchers: int = 0
    held_for_next_digest: bool = False
    # "channel": a channel's feed (user_id is the channel id), one post a digest run, in the
    # channel itself; it mentions the workspace's members who claimed an author of a work.
    kind: str = MEMBER_USER
    mentions: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def is_channel(self) -> bool:
        return self.kind == MEMBER_CHANNEL

    @property
    def item_count(self) -> int:
        """Ledger rows the view carries: works shown and works summarised."""
        return sum(group.total for group in self.groups)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def work_ids(self) -> list[int]:
        return [w for group in self.groups for w in (*(i.work_id for i in group.items), *group.summarised)]


def remaining_after(view: DigestView, shown: DigestView) -> DigestView:
    """What is left of `view` once the message `shown` went out, in the same order."""
    gone = set(shown.work_ids)
    groups = []
    for group in view.groups:
        items = tuple(item for item in group.items if item.work_id not in gone)
        if items:
            summarised = tuple(w for w in group.summarised if w not in gone)
            groups.append(replace(group, items=items, summarised=summarised))
    return replace(view, groups=tuple(groups), held_items=0, held_researchers=0, held_for_next_digest=False)


def prefs_of(member: Member) -> DigestPrefs:
    """A member's digest preference as services.digests.schedule reads it."""
    return DigestPrefs(
        frequency=member.digest_frequency,
        time=member.digest_time,
        weekday=member.digest_weekday,
        tz=member.tz,
    )


# ---------------------------------------------------------------------------------------------
# Composing


def _doi_url(doi: str | None) -> str | None:
    return f"https://doi.org/{doi}" if doi else None


_WORK_COLUMNS = (
    col(Work.id),
    col(Work.openalex_id),
    col(Work.title),
    col(Work.landing_url),
    col(Work.doi),
    col(Work.venue),
    col(Work.year),
    col(Work.publication_date),
    col(Work.published_venue),
    col(Work.published_year),
    col(Work.published_doi),
    col(Work.published_at),
    col(Work.first_seen_at),
    col(Work.cited_by_count),
)


def _items_of_work(row: Any) -> dict[str, DigestItem]:
    """The work as a "new" item and as a "published" item (shared by every member's digest)."""
    (work_id, openalex_id, title, landing_url, doi, venue, year, published_on) = row[:8]
    (published_venue, published_year, published_doi, published_at, first_seen_at, cited) = row[8:]
    url = landing_url or _doi_url(doi) or (f"https://openalex.org/{openalex_id}" if openalex_id else None)
    if published_on is not None:
        newest = datetime(published_on.year, published_on.month, published_on.day, tzinfo=UTC)
    else:
        newest = as_utc(first_seen_at)
    item = DigestItem(
        work_id=work_id,
        title=title,
        url=url,
        venue=venue,
        year=year,
        publication_date=published_on,
        kind=ledger.KIND_NEW,
        published_venue=published_venue,
        published_year=published_year,
        published_url=_doi_url(published_doi),
        newest_at=newest,
        cited_by_count=cited,
    )
    # "Now published" news sorts by when we saw the publication.
    published = replace(
        item, kind=ledger.KIND_PUBLISHED, newest_at=as_utc(published_at) if published_at else newest
    )
    return {ledger.KIND_NEW: item, ledger.KIND_PUBLISHED: published}


def compose_views(
    *, session: Session, member_ids: Sequence[int], row_ids: Sequence[int] | None = None
) -> dict[int, DigestView]:
    """Digest views of these members: the given ledger rows, or every pending/sending row."""
    views: dict[int, DigestView] = {}
    # Works and names are shared by many members' digests: each is read and built once.
    items: dict[int, dict[str, DigestItem]] = {}
    names: dict[int, str] = {}
    claimed = ClaimedAuthors(session)
    for chunk in chunks(member_ids):
        views.update(_compose_chunk(session, list(chunk), row_ids, items, names, claimed))
    return views


_Row = tuple[int, int | None, int | None, int, str]  # member, researcher, topic, work, kind


def _ledger_rows(session: Session, member_ids: list[int], row_ids: Sequence[int] | None) -> list[_Row]:
    query = sa_select(
        col(Delivery.member_id),
        col(Delivery.researcher_id),
        col(Delivery.topic_id),
        col(Delivery.work_id),
        col(Delivery.kind),
    )
    if row_ids is not None:
        query = query.where(col(Delivery.id).in_(list(row_ids)), col(Delivery.member_id).in_(member_ids))
    else:
        # What would go out: rows still pending (or in flight) of researchers and topics still followed.
        query = query.where(
            col(Delivery.member_id).in_(member_ids),
            col(Delivery.status).in_([ledger.PENDING, ledger.SENDING]),
            ledger.still_followed(),
        )
    return [tuple(row) for row in session.execute(query)]


def _topic_group(topic: tuple[str, str | None], topic_id: int, works: list[DigestItem]) -> DigestGroup:
    """A topic's group: the best cited works first (then the newest), the rest summarised."""
    ranked = sorted(works, key=lambda i: (i.cited_by_count or 0, i.newest_at, i.work_id), reverse=True)
    dates = [i.publication_date for i in works if i.publication_date is not None]
    return DigestGroup(
        researcher_id=0,
        name=topic[0],
        items=tuple(ranked[:TOP_PER_TOPIC]),
        kind=GROUP_TOPIC,
        topic_id=topic_id,
        topic_openalex_id=topic[1],
        summarised=tuple(i.work_id for i in ranked[TOP_PER_TOPIC:]),
        since=min(dates, default=None),
    )


def _compose_chunk(
    session: Session,
    member_ids: list[int],
    row_ids: Sequence[int] | None,
    items: dict[int, dict[str, DigestItem]],
    names: dict[int, str],
    claimed: ClaimedAuthors,
) -> dict[int, DigestView]:
    # Plain columns, and each work read once however many members it goes to: a digest run
    # composes tens of thousands of views.
    members = {
        row[0]: row
        for row in session.execute(
            sa_select(
                col(Member.id),
                col(Member.team_id),
                col(Member.user_id),
                col(Member.digest_frequency),
                col(Member.digest_time),
                col(Member.digest_weekday),
                col(Member.tz),
                col(Member.kind),
            ).where(col(Member.id).in_(member_ids))
        )
    }
    rows = _ledger_rows(session, member_ids, row_ids)
    work_ids = sorted({work_id for _, _, _, work_id, _ in rows} - items.keys())
    researcher_ids = sorted({rid for _, rid, _, _, _ in rows if rid is not None} - names.keys())
    topic_ids = sorted({tid for _, rid, tid, _, _ in rows if rid is None and tid is not None})
    for chunk in chunks(work_ids):
        for work in session.execute(sa_select(*_WORK_COLUMNS).where(col(Work.id).in_(chunk))):
            items[work[0]] = _items_of_work(work)
    for chunk in chunks(researcher_ids):
        query = sa_select(col(Researcher.id), col(Researcher.name)).where(col(Researcher.id).in_(chunk))
        names.update({rid: name for rid, name in session.execute(query)})
    topics: dict[int, tuple[str, str | None]] = {}
    for chunk in chunks(topic_ids):
        found = sa_select(col(Topic.id), col(Topic.name), col(Topic.openalex_id)).where(
            col(Topic.id).in_(chunk)
        )
        topics.update({tid: (name, openalex_id) for tid, name, openalex_id in session.execute(found)})
    # Every (work, kind) of the chunk gets its place in "newest first" once; a researcher's group
    # is then a sort of small integers, and followers with the same new works share one group.
    order = sorted(
        {(work_id, kind) for _, _, _, work_id, kind in rows},
        key=lambda pair: (items[pair[0]][pair[1]].newest_at, pair[0]),
        reverse=True,
    )
    rank = {pair: place for place, pair in enumerate(order)}
    shown = [items[work_id][kind] for work_id, kind in order]
    grouped: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    by_topic: dict[int, dict[int, list[DigestItem]]] = defaultdict(lambda: defaultdict(list))
    for member_id, researcher_id, topic_id, work_id, kind in rows:
        if researcher_id is not None:
            grouped[member_id][researcher_id].append(rank[(work_id, kind)])
        elif topic_id is not None:
            by_topic[member_id][topic_id].append(items[work_id][kind])
    shared: dict[tuple[int, tuple[int, ...]], DigestGroup] = {}

    def researcher_group(researcher_id: int, places: list[int]) -> DigestGroup:
        key = (researcher_id, tuple(sorted(places)))
        group = shared.get(key)
        if group is None:
            items_ = tuple(shown[place] for place in key[1])
            group = shared[key] = DigestGroup(researcher_id, names.get(researcher_id, ""), items_)
        return group

    channels = ledger.dm_channels(session=session, member_ids=member_ids)
    # Channel feeds mention the workspace's people who claimed an author.
    feeds = {row[0]: row[1] for row in members.values() if row[7] == MEMBER_CHANNEL}
    claimed.prepare(feeds.values(), (work_id for member_id, _, _, work_id, _ in rows if member_id in feeds))
    views: dict[int, DigestView] = {}
    for member_id in member_ids:
        member = members.get(member_id)
        if member is None:
            continue
        _, team_id, user_id, frequency, at, weekday, tz, kind = member
        groups = [researcher_group(rid, places) for rid, places in grouped.get(member_id, {}).items()]
        groups += [
            _topic_group(topics.get(topic_id, ("", None)), topic_id, works)
            for topic_id, works in by_topic.get(member_id, {}).items()
        ]
        groups.sort(key=lambda g: (g.newest_at, g.researcher_id, g.topic_id or 0), reverse=True)
        prefs = DigestPrefs(frequency=frequency, time=at, weekday=weekday, tz=tz)
        schedule = describe(prefs)
        if kind == MEMBER_CHANNEL and frequency in ("daily", "weekly"):
            # A channel has no time zone of its own: it keeps the one of whoever set it up.
            schedule = f"{schedule} ({prefs.zone.key})"
        views[member_id] = DigestView(
            member_id=member_id,
            team_id=team_id,
            user_id=user_id,
            schedule=schedule,
            groups=tuple(groups),
            # A channel's feed posts into the channel itself.
            dm_channel=user_id if kind == MEMBER_CHANNEL else channels.get(member_id),
            kind=kind,
            mentions=claimed.mentions(team_id, [i.work_id for g in groups for i in g.items])
            if kind == MEMBER_CHANNEL
            else {},
        )
    return views
