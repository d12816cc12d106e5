"""Writing OpenAlex works into the store: upsert works, authorships, topics and co-authors.

`store_works` is shared by the importer and the refresh job. A preprint and its published
version (same normalised title, a shared author) become one work row holding both identifiers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_
from sqlmodel import Session, col, select

from services.openalex.records import Work
from services.openalex.upserts import clip, resolve_researchers, topic_key, upsert_topics
from services.research.coauthor_graph import Byline, read_bylines, record_byline_changes
from services.research.paper_keys import shown_key, sync_shown_keys
from services.store.models import Authorship, WorkTopic
from services.store.models import Work as WorkRow
from services.store.sql import chunks
from services.store.text import normalize_title


@dataclass(frozen=True)
class StoredWork:
    """One input work after store_works; a preprint and its published twin share `work_id`."""

    work_id: int
    openalex_id: str
    is_new: bool  # the stored item did not exist before this call
    published_now: bool  # a published version joined a preprint stored by an earlier call
    researcher_ids: tuple[int, ...] = ()  # researchers linked to the stored item


class _WorkIndex:
    """Stored and just-created work rows, indexed the ways store_works pairs them."""

    def __init__(self) -> None:
        self.by_main: dict[str, WorkRow] = {}
        self.by_published: dict[str, WorkRow] = {}
        self.by_title: dict[str, list[WorkRow]] = defaultdict(list)
        # Keyed by id(row), because rows created in this call have no primary key yet.
        self.authors_of: dict[int, set[int]] = defaultdict(set)
        self.created: set[int] = set()

    def load(self, session: Session, ids: Sequence[str], titles: Sequence[str]) -> None:
        for id_chunk in chunks(ids):
            query = select(WorkRow).where(
                or_(
                    col(WorkRow.openalex_id).in_(id_chunk),
                    col(WorkRow.published_openalex_id).in_(id_chunk),
                )
            )
            for row in session.exec(query):
                if row.openalex_id:
                    self.by_main[row.openalex_id] = row
                if row.published_openalex_id:
                    self.by_published[row.published_openalex_id] = row
        for title_chunk in chunks(titles):
            query = select(WorkRow).where(col(WorkRow.title_norm).in_(title_chunk))
            for row in session.exec(query.order_by(col(WorkRow.id))):
                self.by_title[row.title_norm].append(row)
        candidates = {row.id: row for rows in self.by_title.values() for row in rows}
        for work_chunk in chunks(sorted(k for k in candidates if k is not None)):
            for work_id, rid in session.exec(
                select(Authorship.work_id, Authorship.researcher_id).where(
                    col(Authorship.work_id).in_(work_chunk),
                    col(Authorship.researcher_id).is_not(None),
                )
            ):
                if rid is not None:
                    self.authors_of[id(candidates[work_id])].add(rid)

    def twin(self, work: Work, title_norm: str, rids: set[int]) -> WorkRow | None:
        """The other version of `work`: same title, a shared author, opposite side, slot free."""
        if not title_norm or title_norm == "untitled":
            return None
        for row in self.by_title.get(title_norm, []):
            if row.published_openalex_id is not None:
                continue
            if rids & self.authors_of[id(row)] and (row.type == "preprint") != work.is_preprint:
                return row
        return None

    def place(
        self, session: Session, work: Work, title_norm: str, rids: set[int], now: datetime
    ) -> tuple[WorkRow, bool, bool]:
        """The row `work` belongs to, whether it goes to the main side, and published_now."""
        if (row := self.by_main.get(work.openalex_id)) is not None:
            return row, True, False
        if (row := self.by_published.get(work.openalex_id)) is not None:
            return row, False, False
        twin = self.twin(work, title_norm, rids)
        if twin is not None and work.is_preprint:
            # The published version came first: it moves aside for its preprint.
            _move_main_to_published(twin)
            self.by_main.pop(twin.published_openalex_id or "", None)
            self.by_published[twin.published_openalex_id or ""] = twin
            return twin, True, False
        if twin is not None:
            twin.published_at = now
            return twin, False, id(twin) not in self.created
        row = WorkRow(title=work.title, title_norm=title_norm, first_seen_at=now)
        session.add(row)
        self.created.add(id(row))
        self.by_title[title_norm].append(row)
        return row, True, False


def _apply_main(row: WorkRow, work: Work, title_norm: str) -> None:
    row.openalex_id = work.openalex_id
    row.title = work.title
    row.title_norm = title_norm
    # Stored type "preprint" marks the preprint side (OpenAlex types some arXiv works "article").
    row.type = "preprint" if work.is_preprint else (clip(work.type, 32) or "article")
    row.year = work.year
    row.publication_date = work.publication_date
    row.venue = clip(work.venue, 512)
    row.doi = clip(work.doi, 255)
    row.arxiv_id = clip(work.arxiv_id, 32)
    row.landing_url = clip(work.landing_url, 2048)
    row.abstract = work.abstract or row.abstract
    _apply_reach(row, work)


def _apply_reach(row: WorkRow, work: Work) -> None:
    """Citations and the open-access link of the item: the better-cited of its two versions
    (OpenAlex counts a preprint's and its published version's citations apart), and whichever
    free full text is known."""
    if work.cited_by_count is not None:
        row.cited_by_count = max(row.cited_by_count or 0, work.cited_by_count)
    row.oa_url = clip(work.oa_url, 2048) or row.oa_url


def _move_main_to_published(row: WorkRow) -> None:
    row.published_openalex_id = row.openalex_id
    row.published_doi = row.doi
    row.published_venue = row.venue
    row.published_year = row.year
    row.published_at = row.first_seen_at  # when we first saw it published


def _apply_published(row: WorkRow, work: Work) -> None:
    row.published_openalex_id = work.openalex_id
    row.published_doi = clip(work.doi, 255)
    row.published_venue = clip(work.venue, 512)
    row.published_year = work.year
    row.abstract = row.abstract or work.abstract
    _apply_reach(row, work)


def store_works(*, session: Session, works: Sequence[Work], now: datetime) -> list[StoredWork]:
    """Upsert works with their authorships and topics; one StoredWork per distinct input work.

    A preprint and its published version (same normalised title, a shared author) become ONE
    row: the preprint's identifiers in the main columns, the published version's in
    `published_*`. When the published version was stored first and its preprint arrives later,
    the row's main columns move to `published_*` (published_at = when we first saw it) and the
    preprint takes the main columns, so the invariant holds whatever the order; both versions
    in one call pair up too (published_at = now, published_now False). Authorships and topics
    come from the version of record: the published version once known, else the preprint.
    """
    unique = list({w.openalex_id: w for w in works}.values())
    if not unique:
        return []
    rid_by_author = resolve_researchers(
        session=session, people=(a for w in unique for a in w.authorships), now=now
    )
    topic_ids = upsert_topics(session=session, topics=(t for w in unique for t in w.topics))
    titles = {w.openalex_id: normalize_title(w.title) for w in unique}
    index = _WorkIndex()
    index.load(session, [w.openalex_id for w in unique], sorted(set(titles.values())))

    record_of: dict[int, tuple[WorkRow, Work]] = {}  # id(row) → version of record
    outcomes: list[tuple[Work, WorkRow, bool]] = []
    # Preprints first, so a published version finds its preprint even within one batch.
    for work in sorted(unique, key=lambda w: not w.is_preprint):
        rids = {rid_by_author[a.author_id] for a in work.authorships if a.author_id in rid_by_author}
        title_norm = titles[work.openalex_id]
        row, main_side, published_now = index.place(session, work, title_norm, rids, now)
        if main_side:
            _apply_main(row, work, title_norm)
            index.by_main[work.openalex_id] = row
            if row.published_openalex_id is None:
                record_of[id(row)] = (row, work)
        else:
            _apply_published(row, work)
            index.by_published[work.openalex_id] = row
            record_of[id(row)] = (row, work)
        index.authors_of[id(row)] |= rids
        outcomes.append((work, row, published_now))
    session.flush()

    _replace_links(session, list(record_of.values()), rid_by_author, topic_ids)
    # A preprint refreshed under its published version (or one taking the main columns from it)
    # keeps its byline, but its year and date may have moved: the list's key must follow.
    kept = {id(row): row for _, row, _ in outcomes if id(row) not in record_of}
    sync_shown_keys(session=session, works=kept.values())
    linked: dict[int, set[int]] = defaultdict(set)
    row_ids = sorted({row.id for _, row, _ in outcomes if row.id is not None})
    for id_chunk in chunks(row_ids):
        for work_id, rid in session.exec(
            select(Authorship.work_id, Authorship.researcher_id).where(
                col(Authorship.work_id).in_(id_chunk), col(Authorship.researcher_id).is_not(None)
            )
        ):
            if rid is not None:
                linked[work_id].add(rid)
    stored = {
        work.openalex_id: StoredWork(
            work_id=row.id or 0,
            openalex_id=work.openalex_id,
            is_new=id(row) in index.created,
            published_now=published_now,
            researcher_ids=tuple(sorted(linked[row.id or 0])),
        )
        for work, row, published_now in outcomes
    }
    return [stored[w.openalex_id] for w in unique]


def _replace_links(
    session: Session,
    records: Sequence[tuple[WorkRow, Work]],
    rid_by_author: dict[str, int],
    topic_ids: dict[str, int],
) -> None:
    # Authorship and work_topic rows are rebuilt per work from its version of record.
    replaced = [row.id for row, _ in records if row.id is not None]
    before = read_bylines(session=session, work_ids=replaced)
    for row, work in records:
        row.author_count = len(work.authorships)
    for id_chunk in chunks(replaced):
        session.execute(delete(Authorship).where(col(Authorship.work_id).in_(id_chunk)))
        session.execute(delete(WorkTopic).where(col(WorkTopic.work_id).in_(id_chunk)))
    # Each row carries the list's key for its work (services/research/paper_keys.py).
    keys = {id(row): shown_key(row)._asdict() for row, _ in records}
    authorship_rows = [
        {
            "work_id": row.id,
            "researcher_id": rid_by_author.get(a.author_id) if a.author_id else None,
            "position": a.position,
            "raw_name": clip(a.name, 512),
            **keys[id(row)],
        }
        for row, work in records
        for a in work.authorships
    ]
    topic_rows = [
        {"work_id": row.id, "topic_id": topic_id}
        for row, work in records
        for topic_id in dict.fromkeys(topic_ids[topic_key(t)] for t in work.topics)
    ]
    if authorship_rows:
        session.execute(insert(Authorship), authorship_rows)
    if topic_rows:
        session.execute(insert(WorkTopic), topic_rows)
    after = {
        row.id: Byline(
            frozenset(rid_by_author[a.author_id] for a in work.authorships if a.author_id in rid_by_author),
            row.author_count,
        )
        for row, work in records
        if row.id is not None
    }
    record_byline_changes(session=session, before=before, after=after)
