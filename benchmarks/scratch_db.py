"""Scratch stores for the benchmarks: a fresh SQLite file, or a new PostgreSQL database next to
the machine's test database, dropped afterwards unless kept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.store.engine import make_engine, normalize_database_url

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_database(url: str | None, *, keep: bool = False) -> Iterator[str]:
    """A fresh store: the given SQLite file (deleted first), or a new PostgreSQL database."""
    if url and make_url(normalize_database_url(url)).get_backend_name() == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield url
        return
    name = make_url(normalize_database_url(url)).database if url else "bzpeer_chaos"
    with scratch_postgres(name or "bzpeer_chaos", keep) as scratch:
        yield scratch


@contextmanager
def scratch_postgres(name: str, keep: bool, reuse: bool = False) -> Iterator[str]:
    """A new PostgreSQL database `name` next to ADMIN_URL (or the existing one, with `reuse`),
    dropped afterwards unless `keep`."""
    admin = make_engine(ADMIN_URL)
    if not reuse:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalize_database_url(ADMIN_URL))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        if not keep:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
