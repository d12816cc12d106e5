"""Expertise search, `/peer who WORDS`: the researchers whose works (title and abstract) match
free words, ranked by those works weighted by recency and citations, members of the asking
workspace with an approved claim first.

Works come from a full-text index: FTS5 (porter over unicode61) on SQLite (migration 0009), a
GIN index over the stored column work.fulltext = to_tsvector('english', title || abstract) on
PostgreSQL (migration 0013). Every word must match; both databases stem ("functions" finds
"function"). A query ranks at most MAX_WORKS matching works, the first stored, so its cost
does not grow with the store or with how common its words are."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store.models import Claim, Member

PAGE_SIZE = 10
# Matching works ranked per query (the first stored): enough for a ranked list, and a bound on
# the work of a query whatever its words (a common word matches most works).
MAX_WORKS = 500
# Works with more authors say little about each author's expertise (a 3,000-author detector
# paper would put its whole byline on the list), and cost a query thousands of rows: skipped.
MAX_AUTHORS = 100
MIN_QUERY = 3
# A work's weight halves every HALF_LIFE years; a work without a year counts as this old.
HALF_LIFE = 8.0
UNDATED_AGE = 2 * HALF_LIFE
_WORD = re.compile(r"\w+")
_WEIGHT = (
    "power(:half, (CASE WHEN w.year IS NULL THEN :undated WHEN w.year > :this_year THEN 0 "
    "ELSE :this_year - w.year END) / :half_life) "
    "* (1 + log(1 + CASE WHEN w.cited_by_count > 0 THEN w.cited_by_count ELSE 0 END))"
)
# The candidate works, in stored order up to the limit, so that no query reads or sorts every
# match: FTS5 walks its doclists by rowid and stops; PostgreSQL stops its scan (a sequential one
# for a common word, the GIN bitmap's heap pass otherwise) at the limit. An ORDER BY id there
# would make it fetch all 20,000–70,000 rows of a phrase like "large language models" to sort.
_SQLITE_HITS = f"""
    SELECT w.id AS wid, w.year, {_WEIGHT} AS weight
    FROM work_fts JOIN work w ON w.id = work_fts.rowid
    WHERE work_fts MATCH :match AND coalesce(w.author_count, 0) <= :max_authors
    ORDER BY work_fts.rowid LIMIT :limit"""
_POSTGRES_HITS = f"""
    SELECT w.id AS wid, w.year, {_WEIGHT} AS weight
    FROM work w
    WHERE w.fulltext @@ plainto_tsquery('english', :query) AND coalesce(w.author_count, 0) <= :max_authors
    LIMIT :limit"""
# One statement ranks the researchers of the candidate works and returns one page of them with
# the total: a work weighs 0.5 ** (age / HALF_LIFE) * (1 + log10(1 + citations)) (log is base
# 10 on both databases), an author's score is the sum over their matching works, members of
# the workspace with an approved claim come first; names and the example (the heaviest work)
# are looked up for the page only.
_RANKED = """
WITH hits AS ({hits}),
pairs AS (
    SELECT DISTINCT a.researcher_id AS rid, hits.wid, hits.year, hits.weight
    FROM hits JOIN authorship a ON a.work_id = hits.wid
    WHERE a.researcher_id IS NOT NULL
),
per AS (
    SELECT rid, count(*) AS works, min(year) AS since, sum(weight) AS score FROM pairs GROUP BY rid
),
claimed AS (
    SELECT c.researcher_id AS rid, max(m.user_id) AS user_id
    FROM claim c JOIN member m ON m.id = c.member_id
    WHERE c.status = 'approved' AND m.team_id = :team_id
    GROUP BY c.researcher_id
),
page AS (
    SELECT per.rid, per.works, per.since, per.score, claimed.user_id
    FROM per LEFT JOIN claimed ON claimed.rid = per.rid
    ORDER BY CASE WHEN claimed.user_id IS NULL THEN 1 ELSE 0 END, per.score DESC, per.rid
    LIMIT :size OFFSET :offset
)
SELECT page.rid, r.name, page.user_id, page.works, page.since,
    (SELECT w.title FROM authorship a JOIN hits ON hits.wid = a.work_id JOIN work w ON w.id = hits.wid
     WHERE a.researcher_id = page.rid ORDER BY hits.weight DESC, hits.wid LIMIT 1) AS example,
    (SELECT count(*) FROM per) AS total
FROM page JOIN researcher r ON r.id = page.rid
ORDER BY CASE WHEN page.user_id IS NULL THEN 1 ELSE 0 END, page.score DESC, page.rid
"""
_SQLITE_RANKED = text(_RANKED.format(hits=_SQLITE_HITS))
# Stored order must be the same order on every request (a list is paged by re-running it): no
# sequential scan joining another one half-way through the table, no parallel workers.
_POSTGRES_STABLE_SCAN = text(
    "SELECT set_config('synchronize_seqscans', 'off', true), "
    "set_config('max_parallel_workers_per_gather', '0', true)"
)
_POSTGRES_RANKED = text(_RANKED.format(hits=_POSTGRES_HITS))


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


def _ranked(
    session: Session, words: list[str], team_id: str, today: date, page: int
) -> tuple[int, list[Expert]]:
    """The total of researchers found, and page `page` of them (empty past the last one)."""
    values: dict[str, object] = {
        "limit": MAX_WORKS,
        "max_authors": MAX_AUTHORS,
        "half": 0.5,
        "half_life": HALF_LIFE,
        "undated": UNDATED_AGE,
        "this_year": today.year,
        "team_id": team_id,
        "size": PAGE_SIZE,
        "offset": (page - 1) * PAGE_SIZE,
    }
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_POSTGRES_STABLE_SCAN)
        statement, values["query"] = _POSTGRES_RANKED, " ".join(words)
    else:
        statement = _SQLITE_RANKED
        values["match"] = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    rows = session.execute(statement, values).all()
    experts = [
        Expert(int(rid), str(name), user, int(works), since, str(example))
        for rid, name, user, works, since, example, _ in rows
    ]
    return (int(rows[0][-1]) if rows else 0), experts


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


class ExpertiseService:
    """Finds who in the store works on something."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def search(self, query: str, *, team_id: str, page: int = 1, today: date | None = None) -> ExpertSearch:
        """One page of the researchers whose works match every word of `query`."""
        words = query_words(query)
        if sum(len(word) for word in words) < MIN_QUERY:
            return ExpertSearch("too_short")
        today = today or date.today()
        number = max(page, 1)
        with Session(self._engine) as session:
            total, experts = _ranked(session, words, team_id, today, number)
            if not experts and number > 1:
                # A page past the end (an old or edited button): the last page instead.
                total, _ = _ranked(session, words, team_id, today, 1)
                number = max(math.ceil(total / PAGE_SIZE), 1)
                total, experts = _ranked(session, words, team_id, today, number)
        if not experts:
            return ExpertSearch("no_match")
        pages = math.ceil(total / PAGE_SIZE)
        return ExpertSearch(None, ExpertPage(query, number, pages, total, experts))
