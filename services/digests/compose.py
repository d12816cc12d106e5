"""What a digest holds: the view types and composing them from the ledger (no sending here)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
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

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """The dataclass's hash, computed once: renderers cache by group, once per follower."""
        return hash(tuple(getattr(self, f.name) for f in fields(self)))


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


# A ledger row's (work, kind) as one int, the key of its item: a digest run has hundreds of
# thousands of rows, and ints hash and sort cheaper than pairs.
def _code(work_id: int, kind: str) -> int:
    return 2 * work_id + (kind == ledger.KIND_PUBLISHED)


def _items_of_work(row: Any) -> dict[int, DigestItem]:
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
    return {_code(work_id, ledger.KIND_NEW): item, _code(work_id, ledger.KIND_PUBLISHED): published}


def compose_views(
    *, session: Session, member_ids: Sequence[int], row_ids: Sequence[int] | None = None
) -> dict[int, DigestView]:
    """Digest views of these members: the given ledger rows, or every pending/sending row."""
    composer = _Composer(session)
    views: dict[int, DigestView] = {}
    for chunk in chunks(member_ids):
        views.update(composer.compose(list(chunk), row_ids))
    return views


# A group by what it shows: (kind, researcher or topic id, its item codes in ascending order).
_GroupKey = tuple[str, int, tuple[int, ...]]


class _Composer:
    """One compose run. Works, names, groups and schedule lines are shared by many members'
    digests (the followers of a researcher mostly get the same new works): each is read or built
    once a run, by the first chunk that needs it, and the same objects go into every view."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._items: dict[int, DigestItem] = {}  # by _code
        self._names: dict[int, str] = {}
        self._topics: dict[int, tuple[str, str | None]] = {}
        self._groups: dict[_GroupKey, DigestGroup] = {}
        self._schedules: dict[tuple[str, str, int, str | None, str], str] = {}
        self._claimed = ClaimedAuthors(session)

    def compose(self, member_ids: list[int], row_ids: Sequence[int] | None) -> dict[int, DigestView]:
        """The views of one chunk of members."""
        members = _members(self._session, member_ids)
        codes: dict[int, dict[tuple[str, int], list[int]]] = defaultdict(lambda: defaultdict(list))
        for member_id, researcher_id, topic_id, work_id, kind in _ledger_rows(
            self._session, member_ids, row_ids
        ):
            if researcher_id is not None:
                codes[member_id][GROUP_RESEARCHER, researcher_id].append(_code(work_id, kind))
            elif topic_id is not None:
                codes[member_id][GROUP_TOPIC, topic_id].append(_code(work_id, kind))
        keys = {
            member_id: [(kind, id_, tuple(sorted(found))) for (kind, id_), found in groups.items()]
            for member_id, groups in codes.items()
        }
        self._build_groups({key for found in keys.values() for key in found} - self._groups.keys())
        channels = ledger.dm_channels(session=self._session, member_ids=member_ids)
        # Channel feeds mention the workspace's people who claimed an author.
        feeds = {row[0]: row[1] for row in members.values() if row[7] == MEMBER_CHANNEL}
        feed_works = (code // 2 for m in feeds for key in keys.get(m, ()) for code in key[2])
        self._claimed.prepare(feeds.values(), feed_works)
        views: dict[int, DigestView] = {}
        for member_id in member_ids:
            member = members.get(member_id)
            if member is None:
                continue
            _, team_id, user_id, frequency, at, weekday, tz, kind = member
            groups = [self._groups[key] for key in keys.get(member_id, ())]
            groups.sort(key=lambda g: (g.newest_at, g.researcher_id, g.topic_id or 0), reverse=True)
            views[member_id] = DigestView(
                member_id=member_id,
                team_id=team_id,
                user_id=user_id,
                schedule=self._schedule(frequency, at, weekday, tz, kind),
                groups=tuple(groups),
                # A channel's feed posts into the channel itself.
                dm_channel=user_id if kind == MEMBER_CHANNEL else channels.get(member_id),
                kind=kind,
                mentions=self._claimed.mentions(team_id, [i.work_id for g in groups for i in g.items])
                if kind == MEMBER_CHANNEL
                else {},
            )
        return views

    def _build_groups(self, keys: set[_GroupKey]) -> None:
        """Read the works, names and topics these new groups show, then build the groups."""
        session = self._session
        work_ids = sorted({code // 2 for key in keys for code in key[2] if code not in self._items})
        researcher_ids = sorted(
            {id_ for kind, id_, _ in keys if kind == GROUP_RESEARCHER} - self._names.keys()
        )
        topic_ids = sorted({id_ for kind, id_, _ in keys if kind == GROUP_TOPIC} - self._topics.keys())
        for chunk in chunks(work_ids):
            for work in session.execute(sa_select(*_WORK_COLUMNS).where(col(Work.id).in_(chunk))):
                self._items.update(_items_of_work(work))
        for chunk in chunks(researcher_ids):
            query = sa_select(col(Researcher.id), col(Researcher.name)).where(col(Researcher.id).in_(chunk))
            self._names.update({rid: name for rid, name in session.execute(query)})
        for chunk in chunks(topic_ids):
            found = sa_select(col(Topic.id), col(Topic.name), col(Topic.openalex_id)).where(
                col(Topic.id).in_(chunk)
            )
            self._topics.update(
                {tid: (name, openalex_id) for tid, name, openalex_id in session.execute(found)}
            )
        for key in keys:
            kind, id_, codes = key
            items = [self._items[code] for code in codes]
            if kind == GROUP_TOPIC:
                self._groups[key] = _topic_group(self._topics.get(id_, ("", None)), id_, items)
            else:
                items.sort(key=lambda i: (i.newest_at, i.work_id), reverse=True)
                self._groups[key] = DigestGroup(id_, self._names.get(id_, ""), tuple(items))

    def _schedule(self, frequency: str, at: str, weekday: int, tz: str | None, kind: str) -> str:
        """How the digest is scheduled, as its footer says it (a few distinct lines a run)."""
        key = (frequency, at, weekday, tz, kind)
        schedule = self._schedules.get(key)
        if schedule is None:
            prefs = DigestPrefs(frequency=frequency, time=at, weekday=weekday, tz=tz)
            schedule = describe(prefs)
            if kind == MEMBER_CHANNEL and frequency in ("daily", "weekly"):
                # A channel has no time zone of its own: it keeps the one of whoever set it up.
                schedule = f"{schedule} ({prefs.zone.key})"
            self._schedules[key] = schedule
        return schedule


def _members(session: Session, member_ids: list[int]) -> dict[int, Any]:
    """The members' rows as plain columns: id, team, user, digest preference, time zone, kind."""
    query = sa_select(
        col(Member.id),
        col(Member.team_id),
        col(Member.user_id),
        col(Member.digest_frequency),
        col(Member.digest_time),
        col(Member.digest_weekday),
        col(Member.tz),
        col(Member.kind),
    ).where(col(Member.id).in_(member_ids))
    return {row[0]: row for row in session.execute(query)}


def _ledger_rows(session: Session, member_ids: list[int], row_ids: Sequence[int] | None) -> Any:
    """The ledger rows the views hold: member, researcher, topic, work, kind."""
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
    # Through the connection: the session would pass each of the run's rows through the ORM's loading.
    return session.connection().execute(query)


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
