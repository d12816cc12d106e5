"""The publication list's sort and filter key, stored on every authorship row (`shown_year`,
`shown_date`, `shown_type`): a page of `/peer papers` is then one range scan of authorship's
(researcher_id, shown_year, shown_date, work_id) index, without visiting a work row per work.

The key is the work as `profiles.summarize_work` shows it: a preprint with a published version
is listed (and filtered) as the article, with the published year. Whoever inserts authorship rows
fills the key from `shown_key(work)`; whoever changes a work's year, date, type or published
version without rewriting its byline calls `sync_shown_keys`, in the same transaction.
Migration 0004 fills existing rows with the same derivation in SQL. `newest_first` reads works
in that order, for the list and for the card's recent works alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from services.store.models import Authorship, Work
from services.store.sql import chunks


class ListedWork(Protocol):
    """What the key is derived from: a Work row, or a bulk loader's stand-in for one."""

    @property
    def type(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def publication_date(self) -> date | None: ...
    @property
    def published_openalex_id(self) -> str | None: ...
    @property
    def published_doi(self) -> str | None: ...
    @property
    def published_year(self) -> int | None: ...


class ShownKey(NamedTuple):
    """The authorship.shown_* values of one work (field names are the column names)."""

    shown_year: int | None
    shown_date: date | None
    shown_type: str


def has_published_version(work: ListedWork) -> bool:
    """Whether `work` is a preprint whose published version is known (lists show the latter)."""
    return work.published_openalex_id is not None or work.published_doi is not None


def shown_key(work: ListedWork) -> ShownKey:
    """How the publication list shows `work`: once a published version is known, as an article of
    the published year (the work's own year when that one has none)."""
    return ShownKey(
        shown_year=work.published_year if work.published_year is not None else work.year,
        shown_date=work.publication_date,
        shown_type="article" if has_published_version(work) else work.type,
    )


def sync_shown_keys(*, session: Session, works: Iterable[Work]) -> None:
    """Bring the stored key of flushed `works` in step with them, for works whose byline was NOT
    rewritten (a rewrite fills it afresh); rows already in step are left unwritten."""
    params = [
        {"work": work.id, **{f"new_{name}": value for name, value in shown_key(work)._asdict().items()}}
        for work in works
        if work.id is not None
    ]
    if not params:
        return
    new: dict[str, Any] = {name: bindparam(f"new_{name}") for name in ShownKey._fields}
    statement = (
        update(Authorship)
        .where(
            col(Authorship.work_id) == bindparam("work"),
            or_(
                col(Authorship.shown_year).is_distinct_from(new["shown_year"]),
                col(Authorship.shown_date).is_distinct_from(new["shown_date"]),
                col(Authorship.shown_type).is_distinct_from(new["shown_type"]),
            ),
        )
        .values(new)
    )
    for chunk in chunks(params):
        session.connection().execute(statement, list(chunk))


def newest_first(*, session: Session, where: Sequence[Any], offset: int, limit: int) -> list[Work]:
    """The works of the authorship rows matching `where` (a researcher's, perhaps narrowed), in
    the list's order: newest shown year, then date, then id, each work once (a researcher can
    be on one byline twice). Stable across pages."""
    # The page's ids come from one range scan of ix_authorship_researcher_shown, which holds the
    # list's order: no work row is read to sort; then the page's few whole works are loaded.
    year, day, work_id = col(Authorship.shown_year), col(Authorship.shown_date), col(Authorship.work_id)
    rows = session.connection().execute(
        select(year, day, work_id)
        .distinct()
        .where(*where)
        .order_by(year.desc().nulls_last(), day.desc().nulls_last(), work_id.desc())
        .offset(offset)
        .limit(limit)
    )
    ids = [row.work_id for row in rows]
    works = {w.id: w for w in session.exec(select(Work).where(col(Work.id).in_(ids)))}
    return [works[i] for i in ids if i in works]
