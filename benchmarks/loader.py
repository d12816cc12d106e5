"""Bulk loading into a migrated store: executemany on SQLite, COPY on PostgreSQL.

Secondary indexes (and, on PostgreSQL, foreign keys) are dropped before the load and rebuilt
from their own catalog definitions afterwards: building an index once over sorted data is far
cheaper than maintaining it row by row. Primary keys and unique constraints stay in place.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import services.store.models  # noqa: F401  (registers every table on SQLModel.metadata)

CHUNK = 10_000
Row = Sequence[Any]


class BulkLoader(Protocol):
    """What the generator needs from a database."""

    def prepare(self, tables: Sequence[str]) -> None: ...
    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int: ...
    def derive(self, statement: str) -> int: ...
    def finish(self) -> None: ...
    def size_bytes(self) -> int: ...
    def close(self) -> None: ...


def chunks(rows: Iterable[Row], size: int = CHUNK) -> Iterator[list[Row]]:
    """Lists of at most `size` rows."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def open_loader(engine: Engine, *, analyze_sqlite: bool = False) -> BulkLoader:
    """The loader for the engine's backend (the engine must be migrated and otherwise idle).

    SQLite gets no ANALYZE unless asked: the app never runs it, so its planner works without
    statistics; PostgreSQL's autovacuum analyzes a freshly loaded table on its own.
    """
    if engine.dialect.name == "postgresql":
        return PostgresLoader(engine)
    return SQLiteLoader(engine, analyze=analyze_sqlite)


class SQLiteLoader:
    """One connection, one transaction, no journal and no fsync while loading.

    A crash mid-load leaves a broken file; that is fine for a scratch store (--reset deletes it).
    """

    def __init__(self, engine: Engine, *, analyze: bool = False) -> None:
        self._path = str(engine.url.database)
        self._analyze = analyze
        self._dialect = engine.dialect
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, around the whole load.
        self._conn = sqlite3.connect(self._path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "cache_size=-524288",
            "temp_store=MEMORY",
            # Worker threads for the sorter: CREATE INDEX on millions of rows uses both cores.
            "threads=2",
            "foreign_keys=OFF",
        ):
            self._conn.execute(f"PRAGMA {pragma}")
        self._indexes: list[str] = []

    def prepare(self, tables: Sequence[str]) -> None:
        marks = ",".join("?" * len(tables))
        rows = self._conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            list(tables),
        ).fetchall()
        self._conn.execute("BEGIN")
        for name, sql in rows:
            self._conn.execute(f'DROP INDEX "{name}"')
            self._indexes.append(sql)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        convert = _converters(table, columns, self._dialect)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        count = 0
        for chunk in chunks(rows):
            if convert:
                chunk = [_apply(row, convert) for row in chunk]
            self._conn.executemany(sql, chunk)
            count += len(chunk)
        return count

    def derive(self, statement: str) -> int:
        """Fill a table from the loaded ones (INSERT … SELECT); returns the rows inserted."""
        return int(self._conn.execute(statement).rowcount)

    def finish(self) -> None:
        for sql in self._indexes:
            self._conn.execute(sql)
        self._indexes = []
        self._conn.execute("COMMIT")
        if self._analyze:
            self._conn.execute("ANALYZE")
        # The app opens the store in WAL mode; leave it that way.
        self._conn.execute("PRAGMA journal_mode=WAL")

    def size_bytes(self) -> int:
        return sum(
            os.path.getsize(self._path + suffix)
            for suffix in ("", "-wal")
            if os.path.exists(self._path + suffix)
        )

    def close(self) -> None:
        self._conn.close()


class PostgresLoader:
    """COPY into every table inside one transaction; indexes and foreign keys rebuilt at the end."""

    def __init__(self, engine: Engine) -> None:
        self._raw = engine.raw_connection()
        self._conn: Any = self._raw.driver_connection
        self._tables: list[str] = []
        self._indexes: list[str] = []
        self._foreign_keys: list[tuple[str, str, str]] = []

    def prepare(self, tables: Sequence[str]) -> None:
        self._tables = list(tables)
        with self._conn.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '512MB'")
            cur.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
                "FROM pg_constraint c WHERE c.contype = 'f' "
                "AND c.conrelid::regclass::text = ANY(%s)",
                (self._tables,),
            )
            self._foreign_keys = list(cur.fetchall())
            for table, name, _ in self._foreign_keys:
                cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            cur.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (self._tables,),
            )
            for name, definition in cur.fetchall():
                cur.execute(f'DROP INDEX "{name}"')
                self._indexes.append(definition)

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        count = 0
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def derive(self, statement: str) -> int:
        """Fill a table from the loaded ones (INSERT … SELECT); returns the rows inserted."""
        with self._conn.cursor() as cur:
            cur.execute(statement)
            return int(cur.rowcount)

    def finish(self) -> None:
        with self._conn.cursor() as cur:
            for definition in self._indexes:
                cur.execute(definition)
            for table, name, definition in self._foreign_keys:
                cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            # Rows came with explicit ids: move each serial past them for later inserts.
            for table in self._tables:
                if "id" not in SQLModel.metadata.tables[table].c:
                    continue
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
                sequence = cur.fetchone()[0]
                if sequence:
                    cur.execute(
                        f"SELECT setval(%s, COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)",
                        (sequence,),
                    )
            # Autovacuum would analyze these tables minutes after a load this size anyway.
            for table in self._tables:
                cur.execute(f"ANALYZE {table}")
        self._conn.commit()
        self._indexes, self._foreign_keys = [], []

    def size_bytes(self) -> int:
        with self._conn.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            return int(cur.fetchone()[0])

    def close(self) -> None:
        self._raw.close()


def _converters(table: str, columns: Sequence[str], dialect: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    """Bind processors (dates and datetimes on SQLite), so rows match what the ORM writes."""
    sa_table = SQLModel.metadata.tables[table]
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(columns):
        column_type = sa_table.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((index, processor))
    return found


def _apply(row: Row, convert: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    values = list(row)
    for index, processor in convert:
        if values[index] is not None:
            values[index] = processor(values[index])
    return tuple(values)
