"""Typo correction against the distinct words of researcher names, then names by exact words.

Each query word is corrected against `name_word` (a few thousand words where there are hundreds
of thousands of names) through the symmetric-delete index `name_word_variant`: the strings one
or two deletions away from the query word's first `PREFIX` letters are looked up by primary key,
and a word found is kept when its Damerau (OSA) distance to the query word is small enough for
the word's length. A query word also stands for the name words it begins ("phil" → "phillip").
Names are then found by exact words (a GIN index over string_to_array(name_norm, ' ') on
PostgreSQL, an FTS5 unicode61 table on SQLite): every query word that has a correction must be
in the name; when no name has them all, any one will do. Both word tables are kept in step by
triggers on researcher_name (migration 0012), so no writer has to remember them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rapidfuzz.distance import OSA
from sqlalchemy import bindparam, text
from sqlmodel import Session

PREFIX = 10  # letters of a word that get delete variants: migration 0012 stores the same ones
MAX_WORDS = 16  # corrections kept per query word, best first
PREFIX_WORDS = 12  # longer name words a query word may begin, in alphabetical order

Candidate = tuple[int, str, str, bool]

# Primary-key look-ups only (an OR of the two would scan name_word).
_CLOSE_WORDS = (
    "SELECT word FROM name_word WHERE word IN :exact "
    "UNION SELECT word FROM name_word_variant WHERE variant IN :variants"
)
# The words a query word begins, through the primary key's BINARY order (SQLite's GLOB) or a
# varchar_pattern_ops index (PostgreSQL's LIKE, whatever the database's collation).
_LONGER_WORDS = {
    "postgresql": "SELECT word FROM (SELECT word FROM name_word WHERE word LIKE :start{i} "
    "ORDER BY word LIMIT :longer) AS longer{i}",
    "sqlite": "SELECT word FROM (SELECT word FROM name_word WHERE word GLOB :start{i} "
    "ORDER BY word LIMIT :longer)",
}
_SQLITE_NAMES = text(
    "SELECT rn.researcher_id, rn.name, rn.name_norm, rn.is_primary "
    "FROM researcher_name_words JOIN researcher_name rn ON rn.id = researcher_name_words.rowid "
    "WHERE researcher_name_words MATCH :match ORDER BY length(rn.name_norm), rn.id LIMIT :limit"
)


def max_edits(word: str) -> int:
    """Typos forgiven in a word: none up to 2 letters, one up to 5, two beyond."""
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


def deletes(word: str, edits: int) -> set[str]:
    """`word`'s first PREFIX letters and every string up to `edits` deletions from them (≥ 2 letters)."""
    start = word[:PREFIX]
    found, frontier = {start}, {start}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return {variant for variant in found if len(variant) >= 2}


def corrections(session: Session, tokens: Sequence[str]) -> list[list[str]]:
    """For each query word, the name words it may mean: itself, its typo fixes, the words it begins.

    One statement: the words near any query word (symmetric deletes) and those they begin."""
    dialect = session.get_bind().dialect.name
    starts = sorted({token for token in tokens if len(token) >= 3})
    wildcard = "%" if dialect == "postgresql" else "*"
    statement = text(
        " UNION ".join([_CLOSE_WORDS, *(_LONGER_WORDS[dialect].format(i=i) for i in range(len(starts)))])
    ).bindparams(bindparam("exact", expanding=True), bindparam("variants", expanding=True))
    variants = set().union(*(deletes(token, max_edits(token)) for token in tokens))
    params: dict[str, Any] = {"exact": list(tokens), "variants": sorted(variants) or [""]}
    params.update({f"start{i}": start + wildcard for i, start in enumerate(starts)})
    known = sorted(
        str(word) for word in session.execute(statement, {**params, "longer": PREFIX_WORDS + 1}).scalars()
    )
    result = []
    for token in tokens:
        edits = max_edits(token)
        near = sorted(
            (distance, word)
            for word in known
            if (distance := OSA.distance(token, word, score_cutoff=edits)) <= edits
        )
        words = [word for _, word in near]
        if len(token) >= 3:
            longer = [word for word in known if word.startswith(token) and word not in words]
            words += longer[:PREFIX_WORDS]
        result.append(words[:MAX_WORDS])
    return result


def names_with_words(session: Session, groups: list[list[str]], limit: int) -> list[Candidate]:
    """Names holding a word of every group (shortest first); if none does, a word of any group."""
    groups = [group for group in groups if group]
    if not groups:
        return []
    rows = _names(session, groups, limit)
    if not rows and len(groups) > 1:
        rows = _names(session, [sorted({word for group in groups for word in group})], limit)
    return rows


def _names(session: Session, groups: list[list[str]], limit: int) -> list[Candidate]:
    if session.get_bind().dialect.name == "postgresql":
        conditions = " AND ".join(
            f"string_to_array(name_norm, ' ') && CAST(:g{i} AS text[])" for i in range(len(groups))
        )
        statement = text(
            "SELECT researcher_id, name, name_norm, is_primary FROM researcher_name "
            f"WHERE {conditions} ORDER BY length(name_norm), id LIMIT :limit"
        )
        params: dict[str, Any] = {f"g{i}": group for i, group in enumerate(groups)}
        return candidates_of(session.execute(statement, {**params, "limit": limit}))
    match = " AND ".join("(" + " OR ".join(_phrase(word) for word in group) + ")" for group in groups)
    return candidates_of(session.execute(_SQLITE_NAMES, {"match": match, "limit": limit}))


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def candidates_of(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    """(researcher id, name, folded name, is primary) from result rows."""
    return [(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in rows]
