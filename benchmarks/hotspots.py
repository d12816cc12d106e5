"""The slow statements behind `/peer NAME`, timed alone, next to cheaper shapes of the same query.

    python -m benchmarks.hotspots --database-url sqlite:////tmp/bench.db

Read-only. Each line is the median of 5 runs after one warm run. The alternatives are
suggestions for services/research/search.py and services/research/profiles.py, measured, not
adopted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from rapidfuzz import fuzz, process
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from services.research.profiles import count_collaborators
from services.store.engine import make_engine, normalize_database_url

_FTS = (
    "SELECT rn.researcher_id, rn.name, rn.name_norm, rn.is_primary FROM researcher_name_fts "
    "JOIN researcher_name rn ON rn.id = researcher_name_fts.rowid "
    "WHERE researcher_name_fts MATCH :match ORDER BY rank LIMIT 200"
)
_PG_NOW = (
    "SELECT researcher_id, name, name_norm, is_primary FROM researcher_name "
    "WHERE name_norm LIKE :like OR name_norm % :q OR :q <% name_norm "
    "ORDER BY greatest(similarity(name_norm, :q), word_similarity(:q, name_norm)) DESC LIMIT 200"
)
_PG_WORDS = (
    "SELECT researcher_id, name, name_norm, is_primary FROM researcher_name "
    "WHERE name_norm = :q OR name_norm LIKE :q || ' %' OR name_norm LIKE '% ' || :q "
    "OR name_norm LIKE '% ' || :q || ' %' LIMIT 200"
)


def trigram_match(words: list[str]) -> str:
    """The FTS5 MATCH expression services/research/search.py builds for the typo path."""
    grams = {word[i : i + 3] for word in words for i in range(len(word) - 2)}
    return " OR ".join('"' + gram.replace('"', '""') + '"' for gram in sorted(grams))


TYPOS = ("catherine greien", "nruia rodriguez fernandez", "chloe cheovuin", "jurgen muler", "wei wamg")
SHORT = ("li", "wu", "le", "oh")


def median_ms(run: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median wall time of `run` in ms (after one warm run) and its last result."""
    result = run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.execute(text(sql), params))


def _phrase_after_fix(conn: Connection, vocabulary: list[str], query: str) -> list[Any]:
    """Correct each typed word to the nearest real name word, then search the exact phrase."""
    words = []
    for word in query.split():
        best = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=70)
        words.append(best[0] if best else word)
    return _rows(conn, _FTS, match='"' + " ".join(words) + '"')


def sqlite_search(conn: Connection, table: Table) -> None:
    """The typo path (OR of every trigram, bm25-ranked) against an exact phrase and a token fix."""
    names = conn.execute(text("SELECT name_norm FROM researcher_name")).scalars()
    vocabulary = sorted({word for name in names for word in name.split()})
    for query in TYPOS:
        match = trigram_match([w for w in query.split() if len(w) >= 3])
        count = conn.execute(
            text("SELECT count(*) FROM researcher_name_fts WHERE researcher_name_fts MATCH :m"),
            {"m": match},
        ).scalar_one()
        ms, _ = median_ms(partial(_rows, conn, _FTS, match=match))
        table.add_row(
            f"FTS5 OR of trigrams, ORDER BY rank (now): {query!r}", f"{ms:.1f}", f"{count:,} matches"
        )
        ms, _ = median_ms(partial(_rows, conn, _FTS, match=f'"{query}"'))
        table.add_row("  FTS5 exact phrase (the cheap first step)", f"{ms:.1f}", "")
        ms, found = median_ms(partial(_phrase_after_fix, conn, vocabulary, query))
        label = f"  word fix over {len(vocabulary):,} distinct name words (rapidfuzz) + phrase"
        table.add_row(label, f"{ms:.1f}", f"{len(found)} rows")


def postgres_search(conn: Connection, table: Table) -> None:
    """Queries under 3 characters: no trigram, so the GIN index cannot help the similarity sort."""
    for query in SHORT:
        ms, rows = median_ms(partial(_rows, conn, _PG_NOW, q=query, like=f"%{query}%"))
        table.add_row(f"similarity sort over LIKE/%/<% (now): {query!r}", f"{ms:.1f}", f"{len(rows)} rows")
        ms, rows = median_ms(partial(_rows, conn, _PG_WORDS, q=query))
        table.add_row("  whole-word LIKE, no sort", f"{ms:.1f}", f"{len(rows)} rows")
    for query in TYPOS:
        ms, rows = median_ms(partial(_rows, conn, _PG_NOW, q=query, like=f"%{query}%"))
        table.add_row(f"similarity sort (now): {query!r}", f"{ms:.1f}", f"{len(rows)} rows")


def profile_queries(session: Session, table: Table) -> None:
    """The profile card's heaviest count for the busiest researchers."""
    hubs = session.execute(
        text(
            "SELECT researcher_id, count(*) AS n FROM authorship WHERE researcher_id IS NOT NULL "
            "GROUP BY researcher_id ORDER BY n DESC LIMIT 2"
        )
    ).all()
    member = session.execute(
        text(
            "SELECT a.researcher_id FROM authorship a JOIN work w ON w.id = a.work_id "
            "WHERE w.author_count >= 500 AND a.researcher_id IS NOT NULL LIMIT 1"
        )
    ).scalar()
    people = [(rid, f"{n:,} works") for rid, n in hubs]
    if member is not None:
        people.append((member, "member of 500+-author papers"))
    for rid, label in people:
        ms, value = median_ms(partial(count_collaborators, session, rid))
        table.add_row(
            f"count_collaborators, researcher {rid} ({label})", f"{ms:.1f}", f"{value:,} co-authors"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args(argv)
    engine = make_engine(normalize_database_url(args.database_url))
    table = Table(title=f"Hot spots — {engine.url.render_as_string(hide_password=True)}")
    table.add_column("statement")
    table.add_column("median ms", justify="right")
    table.add_column("size", justify="right")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            postgres_search(conn, table)
        else:
            sqlite_search(conn, table)
    with Session(engine) as session:
        profile_queries(session, table)
    engine.dispose()
    Console(width=160).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
