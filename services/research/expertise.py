"""Expertise search, `/peer who WORDS`: the researchers whose works (title and abstract) match
free words, ranked by those works weighted by recency and citations, members of the asking
workspace with an approved claim first.

Works come from a full-text index: FTS5 (porter over unicode61) on SQLite (migration 0009), a
GIN index over the stored column work.fulltext = to_tsvector('english', title || abstract) on
PostgreSQL (migration 0013). Every word must match; both databases stem ("functions" finds
"function"). A query ranks at most MAX_WORKS matching works, the first stored (on PostgreSQL,
the first stored among every 32nd work when that sample has enough), so its cost does not grow
with the store or with how common its words are; and besides them every matching
work of the workspace's claimed researchers, so a member is never missed nor undercounted."""

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
# On PostgreSQL a GIN scan builds the bitmap of every match before the limit can stop anything
# (30–70 ms for the 40,000–85,000 matches of "large language models" on a million works), so
# the candidates come first from every 32nd work (the partial index of migration 0014, a
# bitmap 32 times smaller), and from the others only when that sample has too few matches (a
# query matching fewer than ~16,000 works, whose full bitmap is small). The modulus must stay
# a literal: the planner matches it against the partial index's predicate.
_POSTGRES_MATCH = (
    "w.fulltext @@ plainto_tsquery('english', :query) AND coalesce(w.author_count, 0) <= :max_authors"
)
_POSTGRES_HITS = f"""
    SELECT * FROM (
        (SELECT w.id AS wid, w.year, {_WEIGHT} AS weight FROM work w
         WHERE w.id % 32 = 0 AND {_POSTGRES_MATCH} LIMIT :limit)
        UNION ALL
        (SELECT w.id AS wid, w.year, {_WEIGHT} AS weight FROM work w
         WHERE w.id % 32 <> 0 AND {_POSTGRES_MATCH} LIMIT :limit)
    ) AS sampled_first
    LIMIT :limit"""
# Every matching work of the researchers claimed in the asking workspace, whatever the bound:
# "who here works on X?" must not miss a colleague whose works are not among the first stored.
# A workspace claims few profiles, so this reads their authorships (by researcher) and tests
# each of those works against the query, instead of every match of the query (15–30 µs a work
# on the 1M-work bench store, reading the stored vector from the heap). ts_match_vq is @@
# spelled as a function, which no index serves: for a query it thinks rare the planner would
# otherwise read all its matches through the GIN index and join them to the members (4,363
# rows and 20 ms for "neural radiance fields", against 466 works tested one by one).
_POSTGRES_MEMBER_PAIRS = f"""
    SELECT claimed.rid, w.id AS wid, w.year, {_WEIGHT} AS weight
    FROM claimed
    JOIN authorship a ON a.researcher_id = claimed.rid
    JOIN work w ON w.id = a.work_id
    WHERE ts_match_vq(w.fulltext, plainto_tsquery('english', :query))
        AND coalesce(w.author_count, 0) <= :max_authors"""
# On SQLite each work tested alone costs an FTS5 cursor (0.1–0.2 ms on a million works), so the
# members' works are looked up among the query's matches, read once by rowid: on a million works
# and 40 claimed researchers (466 works) the statement takes 45–80 ms for a 2–3-word phrase and
# 150 ms for "model", against 5–11 ms without a claim (nothing is read then). Cheaper: open.
_SQLITE_MEMBER_PAIRS = f"""
    SELECT claimed.rid, w.id AS wid, w.year, {_WEIGHT} AS weight
    FROM claimed
    CROSS JOIN authorship a ON a.researcher_id = claimed.rid
    CROSS JOIN work w ON w.id = a.work_id
    WHERE +a.work_id IN (SELECT rowid FROM work_fts WHERE work_fts MATCH :match)
        AND coalesce(w.author_count, 0) <= :max_authors"""
# One statement ranks the researchers and returns one page of them with the total: a work
# weighs 0.5 ** (age / HALF_LIFE) * (1 + log10(1 + citations)) (log is base 10 on both
# databases), an author's score is the sum over their matching works (the candidate works for
# everyone, all of them for the workspace's members), members with an approved claim come
# first; names and the example (the heaviest work) are looked up for the page only.
_RANKED = """
WITH hits AS ({hits}),
claimed AS (
    SELECT c.researcher_id AS rid, max(m.user_id) AS user_id
    FROM claim c JOIN member m ON m.id = c.member_id
    WHERE c.status = 'approved' AND m.team_id = :team_id
    GROUP BY c.researcher_id
),
pairs AS (
    SELECT a.researcher_id AS rid, hits.wid, hits.year, hits.weight
    FROM hits JOIN authorship a ON a.work_id = hits.wid
    WHERE a.researcher_id IS NOT NULL
    UNION {member_pairs}
),
per AS (
    SELECT rid, count(*) AS works, min(year) AS since, sum(weight) AS score FROM pairs GROUP BY rid
),
page AS (
    SELECT per.rid, per.works, per.since, per.score, claimed.user_id
    FROM per LEFT JOIN claimed ON claimed.rid = per.rid
    ORDER BY CASE WHEN claimed.user_id IS NULL THEN 1 ELSE 0 END, per.score DESC, per.rid
    LIMIT :size OFFSET :offset
)
SELECT page.rid, r.name, page.user_id, page.works, page.since,
    (SELECT w.title FROM work w WHERE w.id = (
        SELECT pairs.wid FROM pairs WHERE pairs.rid = page.rid ORDER BY pairs.weight DESC, pairs.wid LIMIT 1
    )) AS example,
    (SELECT count(*) FROM per) AS total
FROM page JOIN researcher r ON r.id = page.rid
ORDER BY CASE WHEN page.user_id IS NULL THEN 1 ELSE 0 END, page.score DESC, page.rid
"""
_SQLITE_RANKED = text(_RANKED.format(hits=_SQLITE_HITS, member_pairs=_SQLITE_MEMBER_PAIRS))
# Stored order must be the same order on every request (a list is paged by re-running it): no
# sequential scan joining another one half-way through the table, no parallel workers.
_POSTGRES_STABLE_SCAN = text(
    "SELECT set_config('synchronize_seqscans', 'off', true), "
    "set_config('max_parallel_workers_per_gather', '0', true)"
)
_POSTGRES_RANKED = text(_RANKED.format(hits=_POSTGRES_HITS, member_pairs=_POSTGRES_MEMBER_PAIRS))


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
