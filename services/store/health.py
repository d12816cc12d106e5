"""What /healthz reports: whether the store can take a write right now."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.store.models import SlackEvent

# No delivery key looks like this, so the probe's DELETE matches no row.
_PROBE_KEY = "healthz:probe"


def check_writable(engine: Engine) -> None:
    """Raise unless the store takes a write within the engine's waits.

    A DELETE that matches nothing, rolled back: it needs what every request's first write (the
    dedupe key) needs, SQLite's write lock or a writable PostgreSQL table that no one has
    locked, and it leaves nothing behind, so frequent polling costs no row and no commit.
    """
    with engine.connect() as conn:  # closed without a commit: rolled back
        conn.execute(delete(SlackEvent).where(col(SlackEvent.key) == _PROBE_KEY))
