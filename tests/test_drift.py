"""The models and the migrations describe one schema: Alembic's autogenerate comparison of the
models against a store migrated to head finds nothing to change, on SQLite and on PostgreSQL.
The migrations are the schema's truth; when this fails, make the models say what the migrations
create (or, for a deliberate schema change, write the migration)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Index, Table, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

import services.store.models  # noqa: F401  (registers every table on SQLModel.metadata: follow the models if they move)

Difference = tuple[str, str, str]  # (operation, table, name of the table / index / column)

# slack_sdk's installation and OAuth-state stores (bot/installations.py): migration 0001 creates
# their tables (token columns wide enough for encrypted values); slack_sdk's own Table objects
# describe them, not our models.
_SLACK_STORES: set[Difference] = {
    ("remove_table", "slack_installations", "slack_installations"),
    ("remove_index", "slack_installations", "slack_installations_idx"),
    ("remove_table", "slack_bots", "slack_bots"),
    ("remove_index", "slack_bots", "slack_bots_idx"),
    ("remove_table", "slack_oauth_states", "slack_oauth_states"),
}

# What the migrations create on purpose outside the models, per database. Nothing else may differ.
IGNORED: dict[str, set[Difference]] = {
    "postgresql": _SLACK_STORES
    | {
        # Name search (services/research/search.py): a pg_trgm GIN index, which needs the extension that
        # migration 0001 creates first.
        ("remove_index", "researcher_name", "ix_researcher_name_trgm"),
        # Expertise search (services/research/expertise.py): the stored vector
        # to_tsvector('english', title || abstract) and its GIN index (migrations 0009, 0013),
        # and the same over every 32nd work (migration 0014).
        ("remove_column", "work", "fulltext"),
        ("remove_index", "work", "ix_work_fulltext"),
        ("remove_index", "work", "ix_work_fulltext_sample"),
        # Typo search (services/research/name_words.py, migration 0012): names by exact word, a
        # GIN index over string_to_array(name_norm, ' '); name words by prefix, varchar_pattern_ops.
        ("remove_index", "researcher_name", "ix_researcher_name_words"),
        ("remove_index", "name_word", "ix_name_word_prefix"),
    },
    "sqlite": _SLACK_STORES
    | {
        # Name search: an FTS5 trigram table over researcher_name, kept in step by triggers,
        # and the shadow tables SQLite keeps for it.
        *(
            ("remove_table", name, name)
            for name in (
                "researcher_name_fts",
                "researcher_name_fts_config",
                "researcher_name_fts_data",
                "researcher_name_fts_docsize",
                "researcher_name_fts_idx",
                # Typo search: an FTS5 unicode61 table over researcher_name, names by exact word
                # (migration 0012).
                "researcher_name_words",
                "researcher_name_words_config",
                "researcher_name_words_data",
                "researcher_name_words_docsize",
                "researcher_name_words_idx",
                # Expertise search: an FTS5 porter table over work title+abstract (migration 0009).
                "work_fts",
                "work_fts_config",
                "work_fts_data",
                "work_fts_docsize",
                "work_fts_idx",
            )
        ),
        # SQLite's reflection drops DESC from index columns, so Alembic sees another index and
        # proposes to rebuild it; test_every_index_is_stored_as_the_models_declare compares its SQL.
        ("remove_index", "authorship", "ix_authorship_researcher_shown"),
        ("add_index", "authorship", "ix_authorship_researcher_shown"),
    },
}


def _other_dialects_indexes(dialect: str) -> list[tuple[Table, Index]]:
    """Indexes the models declare for another database only (`Index.ddl_if(dialect=…)`)."""
    return [
        (table, index)
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if index._ddl_if is not None and index._ddl_if.dialect not in (None, dialect)
    ]


@contextmanager
def _models_for(dialect: str) -> Iterator[None]:
    # Alembic ignores ddl_if and keys indexes by name: of two same-named variants (the papers
    # index has one per database) it would compare whichever a set yields first. Hide the other
    # database's variants for the comparison.
    hidden = _other_dialects_indexes(dialect)
    for table, index in hidden:
        table.indexes.discard(index)
    try:
        yield
    finally:
        for table, index in hidden:
            table.indexes.add(index)


def _differences(conn: Connection) -> set[Difference]:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    with _models_for(conn.dialect.name):
        diffs = compare_metadata(context, SQLModel.metadata)
    found: set[Difference] = set()
    for diff in diffs:
        # Column changes come as a list of ("modify_…", schema, table, column, …) tuples.
        for op in diff if isinstance(diff, list) else [diff]:
            found.add(_describe(op))
    return found


def _describe(op: tuple[Any, ...]) -> Difference:
    kind = op[0]
    if kind.startswith("modify_"):
        return (kind, op[2], op[3])
    if kind in ("add_column", "remove_column"):
        return (kind, op[2], op[3].name)
    thing = op[1]
    table = thing.name if kind.endswith("_table") else thing.table.name
    return (kind, table, thing.name)


def test_models_match_the_migrated_store(engine: Engine) -> None:
    with engine.connect() as conn:
        found = _differences(conn)
        ignored = IGNORED[conn.dialect.name]
    assert found - ignored == set(), "the models and the migrations disagree"
    # Every excuse is still needed, so the list cannot outlive what it excuses.
    assert ignored - found == set(), "an ignored difference is gone: remove it from IGNORED"


def test_every_index_is_stored_as_the_models_declare(engine: Engine) -> None:
    """What Alembic does not compare: partial-index predicates (one live claim per profile),
    DESC and NULLS LAST. Each index the models declare for this database must be in the store
    with the definition the model's CREATE INDEX gives."""
    with engine.connect() as conn:
        dialect = conn.dialect.name
        hidden = {id(index) for _, index in _other_dialects_indexes(dialect)}
        declared = [
            index
            for table in SQLModel.metadata.sorted_tables
            for index in table.indexes
            if id(index) not in hidden
        ]
        assert declared
        for index in declared:
            ddl = str(CreateIndex(index).compile(dialect=conn.dialect))
            assert _stored_definition(conn, index.name) == _as_stored(conn, ddl, index.name), index.name
        conn.rollback()


def _stored_definition(conn: Connection, name: str | None) -> str:
    if conn.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = :name"
    found = conn.execute(text(sql), {"name": name}).scalar_one_or_none()
    assert found is not None, f"index {name} is not in the migrated store"
    return _squeeze(found.replace(f" {name} ON ", " twin ON ", 1))


def _as_stored(conn: Connection, ddl: str, name: str | None) -> str:
    """The definition the database keeps for this DDL: SQLite keeps the text; PostgreSQL
    normalises it, so build a twin index inside the test's transaction and read that back."""
    twin = ddl.replace(f" {name} ON ", " twin ON ", 1)
    if conn.dialect.name == "sqlite":
        return _squeeze(twin)
    conn.execute(text(twin))
    defined = conn.execute(
        text("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'twin'")
    ).scalar_one()
    conn.execute(text("DROP INDEX twin"))
    return _squeeze(defined)


def _squeeze(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()).lower()
