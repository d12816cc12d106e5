"""Name search over researchers: accent/case-insensitive, typo-tolerant, partial names, alternatives.

Candidates come from an index (pg_trgm GIN on PostgreSQL, FTS5 trigram on SQLite), at most
`CANDIDATES` of them; rapidfuzz then ranks those few in Python the same way on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, literal, or_, text
from sqlmodel import Session, col, select

from services.store.models import Authorship, ResearcherName
from services.store.text import normalize_name

CANDIDATES = 200
MIN_SCORE = 75.0
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


def _trigram_match(tokens: list[str]) -> str:
    grams = {token[i : i + 3] for token in tokens for i in range(len(token) - 2)}
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in sorted(grams))


Candidate = tuple[int, str, str, bool]


def _columns() -> tuple[Any, ...]:
    return (
        col(ResearcherName.researcher_id),
        col(ResearcherName.name),
        col(ResearcherName.name_norm),
        col(ResearcherName.is_primary),
    )


def _rows(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    return [(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in rows]


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
    return _rows(session.exec(statement))


def _sqlite_candidates(session: Session, query: str, tokens: list[str]) -> list[Candidate]:
    # The whole query as a substring first: exact and partial names are answered from here.
    phrase = '"' + query.replace('"', '""') + '"'
    rows = _rows(session.execute(_FTS_QUERY, {"match": phrase, "limit": CANDIDATES}))
    if any(_score(query, tokens, row[2]) >= 95 for row in rows):
        return rows
    # Typo path: any shared trigram, best bm25 first; rapidfuzz re-ranks afterwards.
    long_tokens = [t for t in tokens if len(t) >= 3]
    if not long_tokens:
        return rows
    fuzzy = session.execute(_FTS_QUERY, {"match": _trigram_match(long_tokens), "limit": CANDIDATES})
    return rows + _rows(fuzzy)


def _postgres_candidates(session: Session, query: str, tokens: list[str]) -> list[Candidate]:
    name_norm = col(ResearcherName.name_norm)
    similarity = func.greatest(func.similarity(name_norm, query), func.word_similarity(query, name_norm))
    substring = name_norm.like("%" + query.replace("%", r"\%").replace("_", r"\_") + "%")

    def candidates(where: Any) -> list[Candidate]:
        statement = select(*_columns()).where(where).order_by(similarity.desc()).limit(CANDIDATES)
        return _rows(session.exec(statement))

    # The whole query as a substring first (about 1 ms through the trigram index); the
    # similarity arms recheck and score thousands of rows, so only a typo pays for them.
    rows = candidates(substring)
    if any(_score(query, tokens, row[2]) >= 95 for row in rows):
        return rows
    return candidates(or_(substring, name_norm.op("%")(query), literal(query).op("<%")(name_norm)))


def search_names(*, session: Session, query: str, limit: int = 8) -> list[NameMatch]:
    """Researchers whose names answer `query`, best first (one entry per researcher)."""
    folded = normalize_name(query)
    if not folded:
        return []
    tokens = folded.split()
    rows: list[Candidate]
    if len(folded) < 3:
        rows = _word_prefix_candidates(session, folded)
    elif session.get_bind().dialect.name == "postgresql":
        rows = _postgres_candidates(session, folded, tokens)
    else:
        rows = _sqlite_candidates(session, folded, tokens)
    best: dict[int, tuple[float, str, bool]] = {}
    for researcher_id, name, name_norm, is_primary in rows:
        score = _score(folded, tokens, name_norm)
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
    researcher = col(Authorship.researcher_id)
    rows = session.exec(
        select(researcher, func.count(func.distinct(Authorship.work_id)))
        .where(researcher.in_(researcher_ids))
        .group_by(researcher)
    )
    return {int(rid): int(count) for rid, count in rows if rid is not None}
