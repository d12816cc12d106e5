"""Expertise search, `/peer who WORDS`: the researchers whose works (title and abstract) match
free words, ranked by those works weighted by recency and citations, members of the asking
workspace with an approved claim first.

Works come from a full-text index made by migration 0009: FTS5 (porter over unicode61) on
SQLite, a GIN index over to_tsvector('english', title || abstract) on PostgreSQL. Every word
must match; both databases stem ("functions" finds "function")."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store.models import Authorship, Claim, Member, Researcher, Work

PAGE_SIZE = 10
# Matching works read per query, most relevant first on SQLite; enough for a ranked list.
MAX_WORKS = 5000
MIN_QUERY = 3
# A work's weight halves every HALF_LIFE years.
HALF_LIFE = 8.0
_WORD = re.compile(r"\w+")
_SQLITE_MATCH = text("SELECT rowid FROM work_fts WHERE work_fts MATCH :match ORDER BY rank LIMIT :limit")
_POSTGRES_MATCH = text(
    "SELECT id FROM work WHERE to_tsvector('english', coalesce(title, '') || ' ' || coalesce(abstract, '')) "
    "@@ plainto_tsquery('english', :query) LIMIT :limit"
)


@dataclass(frozen=True)
class Expert:
    """One researcher of the list and why: how many works match, since when, the best one."""

    researcher_id: int
    name: str
    # The Slack user of this workspace with an approved claim on the profile, if any.
    user_id: str | None
    works: int
    since: int | None
    example: str


@dataclass(frozen=True)
class ExpertPage:
    query: str
    page: int
    pages: int
    total: int
    experts: list[Expert]

    @property
    def first_index(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1


@dataclass(frozen=True)
class ExpertSearch:
    """A page of experts, or why there is none: the query is too short, or nothing matches."""

    problem: Literal["too_short", "no_match"] | None
    page: ExpertPage | None = None


def query_words(query: str) -> list[str]:
    """The words of a free-text query, as the full-text indexes split them."""
    return _WORD.findall(query.casefold())


def _work_ids(session: Session, words: list[str]) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_POSTGRES_MATCH, {"query": " ".join(words), "limit": MAX_WORKS})
    else:
        match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = session.execute(_SQLITE_MATCH, {"match": match, "limit": MAX_WORKS})
    return [int(row[0]) for row in rows]


def _weight(year: int | None, cited: int | None, this_year: int) -> float:
    age = max(0, this_year - year) if year is not None else HALF_LIFE * 2
    return 0.5 ** (age / HALF_LIFE) * (1.0 + math.log10(1 + max(cited or 0, 0)))


def claimed_user_ids(session: Session, team_id: str, researcher_ids: list[int]) -> dict[int, str]:
    """Slack user ids of this workspace's members with an approved claim, by researcher."""
    rows = session.exec(
        select(col(Claim.researcher_id), col(Member.user_id))
        .join(Member, col(Member.id) == col(Claim.member_id))
        .where(
            col(Claim.status) == "approved",
            col(Member.team_id) == team_id,
            col(Claim.researcher_id).in_(researcher_ids),
        )
    )
    return {int(rid): str(user) for rid, user in rows}


def _experts(session: Session, work_ids: list[int], team_id: str, today: date) -> list[Expert]:
    works: dict[int, tuple[str, int | None, float]] = {}
    by_researcher: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(work_ids), 500):
        chunk = work_ids[start : start + 500]
        for wid, title, year, cited in session.exec(
            select(col(Work.id), col(Work.title), col(Work.year), col(Work.cited_by_count)).where(
                col(Work.id).in_(chunk)
            )
        ):
            works[int(wid or 0)] = (str(title), year, _weight(year, cited, today.year))
        for wid, rid in session.exec(
            select(col(Authorship.work_id), col(Authorship.researcher_id)).where(
                col(Authorship.work_id).in_(chunk), col(Authorship.researcher_id).is_not(None)
            )
        ):
            by_researcher[int(rid)].add(int(wid))  # type: ignore[arg-type]
    if not by_researcher:
        return []
    ids = list(by_researcher)
    names = dict(
        session.exec(
            select(col(Researcher.id), col(Researcher.name)).where(col(Researcher.id).in_(ids))
        ).all()
    )
    claimed = claimed_user_ids(session, team_id, ids)
    ranked = []
    for rid, wids in by_researcher.items():
        if rid not in names:
            continue
        best = max(wids, key=lambda w: (works[w][2], -w))
        years = [year for w in wids if (year := works[w][1]) is not None]
        score = sum(works[w][2] for w in wids)
        expert = Expert(
            rid, str(names[rid]), claimed.get(rid), len(wids), min(years, default=None), works[best][0]
        )
        ranked.append((rid not in claimed, -score, rid, expert))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


class ExpertiseService:
    """Finds who in the store works on something."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(self, query: str, *, team_id: str, page: int = 1, today: date | None = None) -> ExpertSearch:
        """One page of the researchers whose works match every word of `query`."""
        words = query_words(query)
        if sum(len(word) for word in words) < MIN_QUERY:
            return ExpertSearch("too_short")
        with Session(self._engine) as session:
            work_ids = _work_ids(session, words)
            experts = _experts(session, work_ids, team_id, today or date.today()) if work_ids else []
        if not experts:
            return ExpertSearch("no_match")
        pages = math.ceil(len(experts) / PAGE_SIZE)
        number = min(max(page, 1), pages)
        shown = experts[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        return ExpertSearch(None, ExpertPage(query, number, pages, len(experts), shown))
