"""Seen Slack deliveries (table `slack_event`): the first process to record a key acts on it,
every later copy (a Slack retry, a replayed request, another web process) sees it was done."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, delete
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import col

from services.db import conflict_insert, session_scope
from services.models import SlackEvent, utcnow

# Slack retries within minutes and signatures expire after five; a day of keys is plenty.
KEEP_FOR = timedelta(days=1)
# Each process prunes at most this often, so expiry costs one indexed DELETE per interval.
PURGE_EVERY_SECONDS = 600.0


class DedupeService:
    """Records delivery keys once; `first_sighting` is True only for the first copy anywhere."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._next_purge = 0.0
        table = SlackEvent.__table__  # type: ignore[attr-defined]
        self._record = (
            conflict_insert(engine)(table)
            .values(key=bindparam("key"), seen_at=bindparam("seen_at"))
            .on_conflict_do_nothing(index_elements=["key"])
            # A row comes back only when this INSERT added it (rowcount is not kept for INSERTs).
            .returning(table.c.key)
        )

    def first_sighting(self, key: str, *, now: datetime | None = None) -> bool:
        """Record `key`; False when any process recorded it before (primary-key conflict).

        Every request makes this check before its ack: one statement in autocommit, so one
        round trip to the database instead of BEGIN, INSERT and COMMIT.
        """
        now = now or utcnow()
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            inserted = conn.execute(self._record, {"key": key[:255], "seen_at": now}).first() is not None
        if self._purge_due():
            self.purge(before=now - KEEP_FOR)
        return inserted

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
