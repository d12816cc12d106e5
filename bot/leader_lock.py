"""Who leads the schedulers: on PostgreSQL the holder of a session-level advisory lock, held on a
dedicated connection; on SQLite (one box, one scheduler) the single process."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot.runtime import Runtime
from services.store.engine import is_postgres

log = logging.getLogger(__name__)

# pg_try_advisory_lock(bigint) key shared by every scheduler of this app: "bzpeer" in ASCII.
LOCK_KEY = int.from_bytes(b"bzpeer", "big")


class Election(Protocol):
    def acquire(self) -> bool:
        """Try to become the active scheduler, without waiting."""
        ...

    def held(self) -> bool:
        """Still the active scheduler?"""
        ...

    def release(self) -> None:
        """Step down (also fine when the lock is already gone)."""
        ...


class SingleProcess:
    """SQLite: the one-box store has one scheduler, so it always leads."""

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock held on a dedicated connection.

    Not from the application pool: a pooled connection is shared and recycled, and the lock
    must live exactly as long as this process keeps its own session open. Behind PgBouncer the
    URL must be a direct or session-mode one (transaction pooling breaks session locks).
    """

    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        self.key = key
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Connection | None = None
        self.backend_pid: int | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def acquire(self) -> bool:
        try:
            if self._conn is None:
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self.backend_pid = self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            return bool(got)
        except DBAPIError as error:
            log.warning("scheduler lock: PostgreSQL unreachable (%s); retrying", type(error.orig).__name__)
            self._drop()
            return False

    def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            # A bigint key shows in pg_locks as classid (high 32 bits) and objid (low 32 bits).
            found = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": self.key >> 32, "low": self.key & 0xFFFFFFFF},
            ).scalar()
            return bool(found)
        except DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with suppress(DBAPIError):  # the session is gone, and the lock with it
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(DBAPIError):
                self._conn.close()
            self._conn = None
            self.backend_pid = None

    def dispose(self) -> None:
        self._drop()
        self._engine.dispose()


def election_for(runtime: Runtime) -> Election:
    """An advisory lock on PostgreSQL; on SQLite the single process simply leads."""
    engine = runtime.services.engine
    if is_postgres(engine):
        return AdvisoryLock(engine.url.render_as_string(hide_password=False))
    return SingleProcess()
