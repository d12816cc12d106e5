"""Name search over researchers: accent/case-insensitive, typo-tolerant, partial names, alternatives.

Candidates come from an index, at most `CANDIDATES` of them: the whole query as a substring
first (pg_trgm GIN on PostgreSQL, FTS5 trigram on SQLite); when that finds no good match, the
query's words corrected against the distinct name words, then the names holding them
(services/research/name_words.py). rapidfuzz then ranks those few in Python the same way on
both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import String, bindparam, func, or_, text
from sqlalchemy import select as sa_select  # Core: rows of columns, no ORM entities
from sqlmodel import Session, col, select

from services.research.name_words import Candidate, candidates_of, corrections, names_with_words
from services.store.models import Authorship, ResearcherName
from services.store.text import normalize_name

CANDIDATES = 200
MIN_SCORE = 75.0
SHORTCUT_LETTERS = 9  # one-word queries up to this length try whole words first
_FTS_QUERY = text(
    "SELECT rn.researcher_id, rn.name, rn.name_norm, rn.is_primary "
    "FROM researcher_name_fts JOIN researcher_name rn ON rn.id = researcher_name_fts.rowid "
    "WHERE researcher_name_fts MATCH :match ORDER BY rank LIMIT :limit"
)


@dataclass(frozen=True)
class NameMatch:
    researcher_id: int
    matched_name: str
    score: float
    is_primary: bool
    works: int


def _score(query: str, query_tokens: list[str], name_norm: str) -> float:
    """How well a folded name answers a folded query, 0–100."""
    if name_norm == query:
        return 100.0
    name_tokens = name_norm.split()
    if all(token in name_tokens for token in query_tokens):
        # Every typed word is a whole word of the name ("basu"): strong, shorter names first.
        return 96.0 - min(len(name_tokens) - len(query_tokens), 4)
    if all(any(n.startswith(t) for n in name_tokens) for t in query_tokens):
        return 88.0
    per_token = fmean(max(fuzz.ratio(t, n) for n in name_tokens) for t in query_tokens)
    return max(
        fuzz.ratio(query, name_norm),
        fuzz.token_sort_ratio(query, name_norm),
        0.95 * per_token,
    )


def _columns() -> tuple[Any, ...]:
    return (
        col(ResearcherName.researcher_id),
        col(ResearcherName.name),
        col(ResearcherName.name_norm),
        col(ResearcherName.is_primary),
    )


def _word_prefix_candidates(session: Session, query: str) -> list[Candidate]:
    # Below a trigram neither index can rank by similarity (PostgreSQL would score every row);
    # a name with a word starting with the query is what a two-letter surname ("Li") means.
    pattern = query + "%"
    name_norm = col(ResearcherName.name_norm)
    statement = (
        select(*_columns())
        .where(or_(name_norm.like(pattern), name_norm.like("% " + pattern)))
        .limit(CANDIDATES)
    )
    return candidates_of(session.exec(statement))


def _sqlite_candidates(session: Session, query: str) -> list[Candidate]:
    # The whole query as a substring: exact and partial names are answered from here.
    phrase = '"' + query.replace('"', '""') + '"'
    return candidates_of(session.execute(_FTS_QUERY, {"match": phrase, "limit": CANDIDATES}))


def _postgres_candidates(session: Session, query: str) -> list[Candidate]:
    # The whole query as a substring (about 1 ms through the trigram index), most similar first.
    pattern = "%" + query.replace("%", r"\%").replace("_", r"\_") + "%"
    rows = session.connection().execute(_SUBSTRING_STATEMENT, {"query": query, "pattern": pattern})
    return candidates_of(rows)


def _whole_word_candidates(session: Session, tokens: list[str]) -> list[Candidate]:
    # One word, as a surname is typed: the names holding it as a whole word (shortest first) score
    # 95–96, and the exact-word index reads them without scoring the thousands of names that hold
    # a common surname ("wang") as a substring. Up to SHORTCUT_LETTERS nothing that lacks the
    # word can score 95 (fuzz.ratio ≥ 95 needs equal lengths there), so when `limit` names score
    # 95 or more, no other name could make the list: the substring step is skipped.
    if len(tokens) != 1 or len(tokens[0]) > SHORTCUT_LETTERS:
        return []
    return names_with_words(session, [tokens], CANDIDATES)


def _typo_candidates(session: Session, tokens: list[str]) -> list[Candidate]:
    # Typo path: each word corrected against the distinct name words, then names by exact words.
    return names_with_words(session, corrections(session, tokens), CANDIDATES)


def search_names(*, session: Session, query: str, limit: int = 8) -> list[NameMatch]:
    """Researchers whose names answer `query`, best first (one entry per researcher)."""
    folded = normalize_name(query)
    if not folded:
        return []
    tokens = folded.split()
    scores: dict[str, float] = {}  # by folded name: each scored once, whichever step found it

    def strong(rows: list[Candidate]) -> int:
        """Researchers scoring 95 or more: only an equal name or one holding every word does."""
        for row in rows:
            if row[2] not in scores:
                scores[row[2]] = _score(folded, tokens, row[2])
        return len({row[0] for row in rows if scores[row[2]] >= 95})

    rows: list[Candidate]
    if len(folded) < 3:
        rows = _word_prefix_candidates(session, folded)
    else:
        rows = _whole_word_candidates(session, tokens)
        if strong(rows) < limit:
            if session.get_bind().dialect.name == "postgresql":
                rows += _postgres_candidates(session, folded)
            else:
                rows += _sqlite_candidates(session, folded)
        if not strong(rows):
            rows += _typo_candidates(session, tokens)
    strong(rows)
    best: dict[int, tuple[float, str, bool]] = {}
    for researcher_id, name, name_norm, is_primary in rows:
        score = scores[name_norm]
        if score < MIN_SCORE:
            continue
        current = best.get(researcher_id)
        if current is None or (score, is_primary) > (current[0], current[2]):
            best[researcher_id] = (score, name, bool(is_primary))
    if not best:
        return []
    top = sorted(best.items(), key=lambda item: (-item[1][0], not item[1][2]))[: limit * 3]
    works = _work_counts(session, [researcher_id for researcher_id, _ in top])
    matches = [NameMatch(rid, name, score, primary, works.get(rid, 0)) for rid, (score, name, primary) in top]
    # Equal scores: the primary name, then the researcher with more works in the store.
    matches.sort(key=lambda m: (-m.score, not m.is_primary, -m.works, m.researcher_id))
    return matches[:limit]


def _work_counts(session: Session, researcher_ids: list[int]) -> dict[int, int]:
    rows = session.connection().execute(_WORK_COUNTS_STATEMENT, {"ids": researcher_ids})
    return {int(rid): int(count) for rid, count in rows if rid is not None}


# Built once, run as Core rows: building a statement per search cost SQLAlchemy more than
# PostgreSQL takes to run it (benchmarks/cpu_profile.py; the card's reads do the same).
_NAME_NORM = col(ResearcherName.name_norm)
_QUERY = bindparam("query", type_=String)
_SIMILARITY = func.greatest(func.similarity(_NAME_NORM, _QUERY), func.word_similarity(_QUERY, _NAME_NORM))
_SUBSTRING_STATEMENT = (
    sa_select(*_columns())
    .where(_NAME_NORM.like(bindparam("pattern", type_=String)))
    .order_by(_SIMILARITY.desc())
    .limit(CANDIDATES)
)
_WORK_COUNTS_STATEMENT = (
    sa_select(col(Authorship.researcher_id), func.count(func.distinct(Authorship.work_id)))
    .where(col(Authorship.researcher_id).in_(bindparam("ids", expanding=True)))
    .group_by(col(Authorship.researcher_id))
)
