"""Seen Slack deliveries (table `slack_event`): the first process to record a key acts on it,
every later copy (a Slack retry, a replayed request, another web process) sees it was done.

Most keys are recorded before their listener runs (`first_sighting`). An event whose effect is
in the store records its key in the transaction of that effect instead (`mark_delivery_seen`):
Slack retries an event until it gets a 200, and a key recorded before an effect that then
failed would turn that retry away.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlmodel import Session, col

from services.store.engine import session_scope
from services.store.models import SlackEvent, utcnow
from services.store.sql import conflict_insert

# Slack retries within minutes and signatures expire after five; a day of keys is plenty.
KEEP_FOR = timedelta(days=1)
# Each process prunes at most this often, so expiry costs one indexed DELETE per interval.
PURGE_EVERY_SECONDS = 600.0
_MAX_KEY = 255


def _record_statement(bind: Engine | Connection) -> Any:
    """INSERT of one key that does nothing on a conflict and returns the key only when it added
    the row (rowcount is not kept for INSERTs)."""
    table = SlackEvent.__table__  # type: ignore[attr-defined]
    return (
        conflict_insert(bind)(table)
        .values(key=bindparam("key"), seen_at=bindparam("seen_at"))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )


def mark_delivery_seen(*, session: Session, key: str, now: datetime) -> bool:
    """Record `key` in the session's transaction (no commit); False when it was recorded before."""
    statement = _record_statement(session.connection())
    return session.execute(statement, {"key": key[:_MAX_KEY], "seen_at": now}).first() is not None


class DedupeService:
    """Records delivery keys once; `first_sighting` is True only for the first copy anywhere."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._next_purge = 0.0
        self._record = _record_statement(engine)

    def first_sighting(self, key: str, *, now: datetime | None = None) -> bool:
        """Record `key`; False when any process recorded it before (primary-key conflict).

        Every request makes this check before its ack: one statement in autocommit, so one
        round trip to the database instead of BEGIN, INSERT and COMMIT.
        """
        now = now or utcnow()
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            inserted = conn.execute(self._record, {"key": key[:_MAX_KEY], "seen_at": now}).first() is not None
        if self._purge_due():
            self.purge(before=now - KEEP_FOR)
        return inserted

    def seen(self, key: str) -> bool:
        """Whether `key` was recorded, without recording it."""
        with self._engine.connect() as conn:
            found = conn.execute(select(col(SlackEvent.key)).where(col(SlackEvent.key) == key[:_MAX_KEY]))
            return found.first() is not None

    def purge(self, *, before: datetime) -> int:
        """Forget keys recorded before `before`; returns how many."""
        with session_scope(self._engine) as session:
            result = session.execute(delete(SlackEvent).where(col(SlackEvent.seen_at) < before))
            return int(cast(CursorResult[Any], result).rowcount or 0)

    def _purge_due(self) -> bool:
        with self._lock:
            clock = time.monotonic()
            if clock < self._next_purge:
                return False
            self._next_purge = clock + PURGE_EVERY_SECONDS
            return True
