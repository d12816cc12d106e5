"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (shared store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator chose."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Background work (the scheduler, migrations, imports) waits this long for SQLite's write lock.
BACKGROUND_BUSY_SECONDS = 30
# The request path's waits (make_engine(bounded=True)). Slack drops an answer after 3 s, so a
# request that cannot get a connection, a lock or its statement through by then is better
# answered "unavailable" at once (an event with a 503, which Slack retries) than left hanging.
REQUEST_WAIT_SECONDS = 2
REQUEST_STATEMENT_SECONDS = 3
# PostgreSQL's "the server is up but takes no writes": a read-only transaction (a standby,
# default_transaction_read_only). Connection losses, lock and statement timeouts and SQLite's
# "database is locked" are OperationalErrors already.
_READ_ONLY_SQLSTATE = "25006"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, bounded: bool = False) -> Engine:
    """An engine tuned for the backend: WAL and foreign keys on SQLite, a pinged pool on PostgreSQL.

    `bounded`: the request path's engine, whose every wait on the store (connecting, a pool
    slot, SQLite's write lock, a PostgreSQL lock or statement) ends within a few seconds.
    """
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_memory = is_in_memory(url)
        busy = REQUEST_WAIT_SECONDS if bounded else BACKGROUND_BUSY_SECONDS
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": busy}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, wal=not in_memory)
        return engine
    if bounded:
        waits: dict[str, Any] = {
            "pool_timeout": REQUEST_WAIT_SECONDS,
            "connect_args": {
                "connect_timeout": REQUEST_WAIT_SECONDS,
                "options": f"-c lock_timeout={REQUEST_WAIT_SECONDS * 1000}"
                f" -c statement_timeout={REQUEST_STATEMENT_SECONDS * 1000}",
            },
        }
    else:
        waits = {}
    return create_engine(
        url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800, **waits
    )


def is_in_memory(url: str) -> bool:
    """Whether `url` names an in-memory SQLite store (one per engine, so never shared)."""
    parsed = make_url(normalize_database_url(url))
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def store_unavailable(error: BaseException) -> bool:
    """Whether `error` says the store cannot be reached or written right now (down, locked,
    read-only, out of connections), a state worth retrying later, rather than a bug."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == _READ_ONLY_SQLSTATE


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if wal:
            # WAL lets the web thread read while the scheduler writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to an existing engine (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


# pg_advisory_lock(bigint) key held around migrations by every process of this app: "bzpeerdb" in
# ASCII (the schedulers' leader lock, bot/scheduler.py, is another key).
MIGRATION_LOCK_KEY = int.from_bytes(b"bzpeerdb", "big")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; a no-op when the store is current.

    On PostgreSQL, under a session-level advisory lock: N web processes starting together would
    otherwise all find the store behind and race to create the same tables. One migrates, the
    others wait for the lock, then find the store current. SQLite has one box and its own write
    lock, so nothing changes there.
    """
    if not is_postgres(engine):
        command.upgrade(alembic_config(engine), revision)
        return
    # Autocommit: the lock's connection holds no transaction open while Alembic migrates on its own.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def write_retrying_once(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run `work` in one unit of work; if it lost a race on a unique key (two first uses, a double
    click, two claims at once), run it once more: the retry sees the winner's row."""
    try:
        with session_scope(engine) as session:
            return work(session)
    except IntegrityError:
        with session_scope(engine) as session:
            return work(session)
