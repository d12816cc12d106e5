"""Publication lists: a researcher's works, newest or most cited first, filtered by year and type,
a page at a time.

What counts as a preprint is decided once, where works are stored: OpenAlex type `preprint`, or a
primary location on a preprint server such as arXiv (services/openalex/records.py, stored as
work.type "preprint"). A preprint whose published version is known is ONE item, listed as the
article with "preprint on arXiv" beside it, so it matches both `type:article` and `type:preprint`:
the filter matches what the label says."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import exists, func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from services.research.paper_keys import newest_first
from services.research.profiles import Resolved, WorkSummary, find_researcher, summarize_work
from services.store.models import Authorship, Researcher, Work

PAGE_SIZE = 5
# Bylines show this many authors, then "et al.".
AUTHORS_SHOWN = 3
BYLINE_SCAN = 50
WorkType = Literal["preprint", "article"]
WORK_TYPES: tuple[WorkType, ...] = ("preprint", "article")
PaperSort = Literal["newest", "cited"]


@dataclass(frozen=True)
class PaperFilters:
    """What the list is narrowed to; a year and type as the list shows them (the published
    version's, for a preprint that has one)."""

    year: int | None = None
    type: WorkType | None = None
    # Not a filter: the order (newest first unless "cited": most cited first).
    sort: PaperSort = "newest"

    @property
    def active(self) -> bool:
        """Whether a filter (year or type) narrows the list; the order is not one."""
        return self.year is not None or self.type is not None


@dataclass(frozen=True)
class PaperPage:
    researcher_id: int
    researcher_name: str
    filters: PaperFilters
    page: int  # 1-based, always within 1..pages
    pages: int  # at least 1, even when nothing matches
    total: int  # works matching the filters
    all_works: int  # works of the researcher, filters aside
    works: tuple[WorkSummary, ...]

    @property
    def first_index(self) -> int:
        """1-based position of the first work on this page in the whole list."""
        return (self.page - 1) * PAGE_SIZE + 1


class PaperService:
    """Pages through a researcher's works in the store."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, query: str, filters: PaperFilters | None = None) -> Resolved[PaperPage]:
        """The first page for whoever QUERY names, or why there is none (pick list, nobody…)."""
        with Session(self._engine) as session:
            lookup, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return Resolved(lookup)
            page = paper_page(session=session, researcher=researcher, filters=filters or PaperFilters())
            return Resolved(lookup, page)

    def page(
        self, researcher_id: int, filters: PaperFilters | None = None, page: int = 1
    ) -> PaperPage | None:
        """One page of a researcher's works (the page number is clamped); None if they are gone."""
        with Session(self._engine) as session:
            researcher = session.get(Researcher, researcher_id)
            if researcher is None:
                return None
            return paper_page(
                session=session, researcher=researcher, filters=filters or PaperFilters(), page=page
            )


def _conditions(researcher_id: int, filters: PaperFilters) -> list[Any]:
    """The researcher's authorship rows whose work matches the filters, by the stored list key
    (paper_keys.py: a published preprint is there as the article, published year)."""
    conditions: list[Any] = [col(Authorship.researcher_id) == researcher_id]
    if filters.year is not None:
        conditions.append(col(Authorship.shown_year) == filters.year)
    if filters.type == "article":
        conditions.append(col(Authorship.shown_type) == "article")
    elif filters.type == "preprint":
        # Published or not, the item has a preprint version (its work row keeps type "preprint").
        version = aliased(Work)  # its own alias: the most-cited order joins work as well
        conditions.append(
            exists()
            .where(col(version.id) == col(Authorship.work_id), col(version.type) == "preprint")
            .correlate(Authorship)
        )
    return conditions


def count_papers(*, session: Session, researcher_id: int, filters: PaperFilters) -> int:
    """Works of a researcher that match the filters, from authorship's indexes alone (without
    visiting 2,000 work rows); distinct, as a researcher can be on one byline twice."""
    mine = select(func.count(func.distinct(col(Authorship.work_id)))).where(
        *_conditions(researcher_id, filters)
    )
    return int(session.connection().execute(mine).scalar_one())


def list_papers(
    *, session: Session, researcher_id: int, filters: PaperFilters, offset: int, limit: int
) -> list[Work]:
    """Works of a researcher matching the filters, newest or most cited first (stable across pages)."""
    where = _conditions(researcher_id, filters)
    if filters.sort == "cited":
        return most_cited(session=session, where=where, offset=offset, limit=limit)
    return newest_first(session=session, where=where, offset=offset, limit=limit)


def most_cited(*, session: Session, where: Sequence[Any], offset: int, limit: int) -> list[Work]:
    """The works of the authorship rows matching `where`, most cited first (unknown counts last),
    then in the list's usual order; each work once."""
    cited, work_id = col(Work.cited_by_count), col(Authorship.work_id)
    year, day = col(Authorship.shown_year), col(Authorship.shown_date)
    rows = session.connection().execute(
        select(cited, year, day, work_id)
        .distinct()
        .join(Work, col(Work.id) == work_id)
        .where(*where)
        .order_by(
            cited.desc().nulls_last(), year.desc().nulls_last(), day.desc().nulls_last(), work_id.desc()
        )
        .offset(offset)
        .limit(limit)
    )
    ids = [row.work_id for row in rows]
    works = {w.id: w for w in session.exec(select(Work).where(col(Work.id).in_(ids)))}
    return [works[i] for i in ids if i in works]


def list_first_authors(
    *, session: Session, work_ids: Sequence[int], shown: int = AUTHORS_SHOWN
) -> dict[int, list[str]]:
    """The first `shown` + 1 names on each work's byline (one more, to know whether to say et al.)."""
    if not work_ids:
        return {}
    # The name is a per-row look-up, not a join: for big bylines PostgreSQL estimated thousands
    # of rows and merge-joined them against the whole researcher index (27 ms for 250 rows).
    name = (
        select(col(Researcher.name))
        .where(col(Researcher.id) == col(Authorship.researcher_id))
        .correlate(Authorship)
        .scalar_subquery()
    )
    rows = session.exec(
        select(col(Authorship.work_id), col(Authorship.raw_name), name)
        # Positions count from 0 in byline order; the bound keeps a 3,000-author byline cheap
        # while tolerating a few gaps (authorships OpenAlex listed without a name).
        .where(col(Authorship.work_id).in_(work_ids), col(Authorship.position) < BYLINE_SCAN)
        .order_by(col(Authorship.work_id), col(Authorship.position))
    )
    names: dict[int, list[str]] = defaultdict(list)
    for work_id, raw_name, name in rows:
        if len(names[work_id]) <= shown:
            names[work_id].append(name or raw_name)
    return names


def paper_page(
    *, session: Session, researcher: Researcher, filters: PaperFilters, page: int = 1
) -> PaperPage:
    """Assemble one page; a page number out of range (an edited button) is clamped."""
    rid = researcher.id
    assert rid is not None
    total = count_papers(session=session, researcher_id=rid, filters=filters)
    all_works = (
        total
        if not filters.active
        else count_papers(session=session, researcher_id=rid, filters=PaperFilters())
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    works = list_papers(
        session=session, researcher_id=rid, filters=filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    bylines = list_first_authors(session=session, work_ids=[w.id for w in works if w.id is not None])
    summaries = []
    for work in works:
        names = bylines.get(work.id or 0, [])
        more = len(names) > AUTHORS_SHOWN or work.author_count > AUTHORS_SHOWN
        summaries.append(summarize_work(work, authors=tuple(names[:AUTHORS_SHOWN]), more_authors=more))
    return PaperPage(
        researcher_id=rid,
        researcher_name=researcher.name,
        filters=filters,
        page=page,
        pages=pages,
        total=total,
        all_works=all_works,
        works=tuple(summaries),
    )
