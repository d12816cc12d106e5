"""A synthetic store of N researchers and M works, bulk-loaded in seconds to minutes.

    python -m benchmarks.synthetic --database-url sqlite:////tmp/bench.db \\
        --researchers 100000 --works 500000 --seed 42 --reset

The shape (who wrote what) comes from `benchmarks.graph`, the text from `benchmarks.corpus`,
the rows from `benchmarks.rows`; this module streams them through `benchmarks.loader` and
reports what each phase took. The same seed always produces the same store.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from benchmarks.abstracts import AbstractMaker
from benchmarks.corpus import InstitutionSpec, TextMaker, make_institutions, make_topics
from benchmarks.graph import Graph, build_graph, quantiles
from benchmarks.loader import BulkLoader, open_loader
from benchmarks.rows import (
    RESEARCHER_COLUMNS,
    WORK_COLUMNS,
    Cast,
    ShownKeys,
    authorship_rows,
    cast_researchers,
    name_rows,
    researcher_rows,
    researcher_topic_counts,
    stream,
    work_rows,
)
from benchmarks.vocab import REGIONS
from services.research.coauthor_graph import REBUILD_SQL
from services.store.engine import make_engine, normalize_database_url, upgrade

LOADED_TABLES = (
    "institution",
    "topic",
    "researcher",
    "researcher_name",
    "work",
    "work_topic",
    "authorship",
    "researcher_topic",
)


@dataclass
class Report:
    """Rows and seconds per phase, and facts about the generated shape."""

    phases: list[tuple[str, int, float]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    size_bytes: int = 0

    @contextmanager
    def phase(self, name: str) -> Iterator[list[int]]:
        """Time a phase; the caller appends its row count to the yielded list."""
        rows: list[int] = []
        start = time.perf_counter()
        yield rows
        self.phases.append((name, sum(rows), time.perf_counter() - start))

    @property
    def seconds(self) -> float:
        return sum(seconds for _, _, seconds in self.phases)


def prepare_store(url: str, *, reset: bool) -> Engine:
    """A migrated, empty store at `url` (emptied first with --reset)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and reset and parsed.database:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        if reset and engine.dialect.name == "postgresql":
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{table}"' for table in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        if conn.execute(text("SELECT count(*) FROM researcher")).scalar_one():
            raise SystemExit(f"{url} already holds researchers; pass --reset to start over")
    engine.dispose()
    return engine


def generate(url: str, researchers: int, works: int, seed: int, *, reset: bool, analyze: bool) -> Report:
    """Build the whole store and return what each phase took."""
    report = Report()
    url = normalize_database_url(url)
    with report.phase("migrate (alembic upgrade)"):
        engine = prepare_store(url, reset=reset)
    topic_rng = stream(seed, "topics")
    topic_names, topics_by_field = make_topics(topic_rng)
    institutions = make_institutions(stream(seed, "institutions"))
    with report.phase("shape (numpy: labs, authorships, topics)") as rows:
        graph = build_graph(researchers, works, seed, topics_by_field)
        rows.append(len(graph.auth_work))
    with report.phase("names (python)") as rows:
        cast = cast_researchers(graph, institutions, seed)
        rows.append(len(cast.names))
    loader: BulkLoader = open_loader(engine, analyze_sqlite=analyze)
    try:
        loader.prepare(LOADED_TABLES)
        _load_all(loader, report, graph, cast, institutions, topic_names, seed)
        with report.phase("indexes + constraints rebuilt"):
            loader.finish()
        # The stored co-authorship graph is derived from authorship, through its new indexes.
        with report.phase("coauthor (derived in SQL, index rebuilt)") as rows:
            loader.prepare(("coauthor",))
            rows.append(loader.derive(REBUILD_SQL))
            loader.finish()
        report.size_bytes = loader.size_bytes()
    finally:
        loader.close()
        engine.dispose()
    _describe(report, graph, cast)
    report.facts.append(("left to column defaults", ", ".join(unfilled_columns()) or "none"))
    return report


LOADED_COLUMNS: dict[str, tuple[str, ...]] = {
    "institution": ("id", "openalex_id", "ror", "name", "country_code", "domain"),
    "topic": ("id", "openalex_id", "name"),
    "researcher": RESEARCHER_COLUMNS,
    "researcher_name": ("id", "researcher_id", "name", "name_norm", "is_primary"),
    "work": WORK_COLUMNS,
    "work_topic": ("work_id", "topic_id"),
    "authorship": (
        "id",
        "work_id",
        "researcher_id",
        "position",
        "raw_name",
        "shown_year",
        "shown_date",
        "shown_type",
    ),
    "researcher_topic": ("researcher_id", "topic_id", "works"),
}


def unfilled_columns() -> list[str]:
    """Model columns the generator leaves to their defaults (a schema change shows up here)."""
    return [
        f"{table}.{column.name}"
        for table in LOADED_TABLES
        for column in SQLModel.metadata.tables[table].columns
        if column.name not in LOADED_COLUMNS[table]
    ]


def _load_all(
    loader: BulkLoader,
    report: Report,
    graph: Graph,
    cast: Cast,
    institutions: list[InstitutionSpec],
    topic_names: list[str],
    seed: int,
) -> None:
    with report.phase("institution") as rows:
        rows.append(
            loader.load(
                "institution",
                LOADED_COLUMNS["institution"],
                (
                    (i + 1, f"I9{i + 1:08d}", s.ror, s.name, s.country_code, s.domain)
                    for i, s in enumerate(institutions)
                ),
            )
        )
    with report.phase("topic") as rows:
        rows.append(
            loader.load(
                "topic",
                LOADED_COLUMNS["topic"],
                ((i + 1, f"T9{i + 1:05d}", name) for i, name in enumerate(topic_names)),
            )
        )
    with report.phase("researcher") as rows:
        rows.append(loader.load("researcher", RESEARCHER_COLUMNS, researcher_rows(graph, cast, seed)))
    with report.phase("researcher_name (+ name-word triggers; FTS5 on SQLite)") as rows:
        rows.append(loader.load("researcher_name", LOADED_COLUMNS["researcher_name"], name_rows(cast)))
    keys = ShownKeys()  # the papers list's key of each work, for its authorship rows
    with report.phase("work (titles, abstracts)") as rows:
        texts = TextMaker(stream(seed, "text"), topic_names)
        abstracts = AbstractMaker(seed, topic_names)
        rows.append(loader.load("work", WORK_COLUMNS, work_rows(graph, texts, abstracts, seed, keys)))
    with report.phase("work_topic") as rows:
        pairs = zip((graph.topic_work + 1).tolist(), (graph.topic_topic + 1).tolist(), strict=True)
        rows.append(loader.load("work_topic", LOADED_COLUMNS["work_topic"], pairs))
    with report.phase("authorship") as rows:
        authorship = authorship_rows(graph, cast, seed, keys)
        rows.append(loader.load("authorship", LOADED_COLUMNS["authorship"], authorship))
    with report.phase("researcher_topic (derived in numpy)") as rows:
        person, topic, count = researcher_topic_counts(graph)
        triples = zip((person + 1).tolist(), (topic + 1).tolist(), count.tolist(), strict=True)
        rows.append(loader.load("researcher_topic", LOADED_COLUMNS["researcher_topic"], triples))


def _describe(report: Report, graph: Graph, cast: Cast) -> None:
    per_work = np.bincount(graph.auth_work, minlength=graph.m)
    q = quantiles(per_work, (0.5, 0.9, 0.99))
    report.facts.append(
        (
            "authors per work",
            f"median {q[0]}, p90 {q[1]}, p99 {q[2]}, max {q[3]}; "
            f"{int((per_work >= 100).sum())} works with ≥100, {int((per_work >= 500).sum())} with ≥500",
        )
    )
    q = quantiles(graph.works_of, (0.5, 0.9, 0.99))
    report.facts.append(("works per researcher", f"median {q[0]}, p90 {q[1]}, p99 {q[2]}, max {q[3]}"))
    primaries = [name.primary for name in cast.names]
    counts: dict[str, int] = {}
    for name in primaries:
        counts[name] = counts.get(name, 0) + 1
    unique = sum(1 for name in primaries if counts[name] == 1)
    common = max(counts.items(), key=lambda item: item[1])
    accented = sum(1 for name in primaries if not name.isascii())
    report.facts.append(
        (
            "names",
            f"{unique / len(primaries):.0%} unique full names; most shared: {common[0]} "
            f"×{common[1]}; {accented / len(primaries):.0%} with non-ASCII letters; "
            f"{sum(1 for n in cast.names if n.alternatives) / len(primaries):.0%} "
            f"with alternative names; {len(REGIONS)} naming regions",
        )
    )
    median_lab = int(np.median(np.diff(graph.lab_start)))
    report.facts.append(("labs", f"{graph.labs:,} (median {median_lab} researchers)"))


def print_report(report: Report, console: Console, *, title: str) -> None:
    """The load table: rows and seconds per phase, total, database size, shape facts."""
    table = Table(title=title)
    table.add_column("phase / table")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for name, rows, seconds in report.phases:
        table.add_row(name, f"{rows:,}" if rows else "", f"{seconds:.1f}")
    table.add_row("[b]total[/b]", "", f"[b]{report.seconds:.1f}[/b]")
    table.add_row("database size", f"{report.size_bytes / 2**20:,.0f} MiB", "")
    console.print(table)
    for label, value in report.facts:
        console.print(f"  {label}: {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--researchers", type=int, default=10_000)
    parser.add_argument("--works", type=int, help="default: 5 × researchers")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reset", action="store_true", help="empty the store first")
    parser.add_argument(
        "--analyze", action="store_true", help="run ANALYZE on SQLite too (the app never does)"
    )
    args = parser.parse_args(argv)
    works = args.works or 5 * args.researchers
    if args.researchers < 10 or works < 10:
        parser.error("--researchers and --works must be at least 10")
    console = Console()
    report = generate(
        args.database_url, args.researchers, works, args.seed, reset=args.reset, analyze=args.analyze
    )
    backend = make_url(normalize_database_url(args.database_url)).get_backend_name()
    print_report(
        report,
        console,
        title=f"{args.researchers:,} researchers, {works:,} works, seed {args.seed} ({backend})",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
