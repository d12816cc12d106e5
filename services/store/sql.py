"""Statement helpers that behave the same on SQLite and PostgreSQL: IN-lists cut into chunks, id
filters, and the INSERT construct with ON CONFLICT clauses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, any_, bindparam, cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

# IN-list and multi-row VALUES size: far below SQLite's and PostgreSQL's bind-parameter limits.
IN_LIST_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` values."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def id_filters(bind: Connection, column: Any, ids: Iterable[int]) -> Iterator[ColumnElement[bool]]:
    """WHERE clauses that together select the rows whose `column` is one of `ids` (none for no ids).

    PostgreSQL gets one `= ANY(array)` with a single parameter: the statement's text stays the
    same whatever the number of ids, so psycopg and the server reuse their parsed and planned
    forms, where an IN-list of 200 placeholders was converted anew on every call. SQLite gets
    IN-lists of at most IN_LIST_CHUNK.
    """
    values = sorted(set(ids))
    if not values:
        return
    if bind.dialect.name == "postgresql":
        yield column == any_(
            cast(bindparam(None, values, type_=postgresql.ARRAY(Integer)), postgresql.ARRAY(Integer))
        )
        return
    for chunk in chunks(values):
        yield column.in_(chunk)


def conflict_insert(bind: Engine | Connection) -> Callable[..., Any]:
    """The backend's INSERT construct, the one with ON CONFLICT clauses (`conflict_insert(engine)(table)`)."""
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no ON CONFLICT insert for {name}")
