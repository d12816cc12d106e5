"""How many OpenAlex look-ups a member has in flight, counted in the store (table `lookup_slot`)
so that the limit holds across web processes: a member's presses land on whichever gunicorn
worker the kernel picks, and a count kept in one process let a third look-up through another.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.engine import Engine
from sqlmodel import col

from services.store.engine import session_scope
from services.store.models import LookupSlot, utcnow
from services.store.sql import conflict_insert

LOOKUPS_PER_MEMBER = 2
# A look-up ends within its OpenAlex budget (10 s) after it starts, and waits at most a few
# budgets in its pool's queue; a slot still held this long after it was taken belongs to a
# process that died without giving it back, and is free again.
HOLD_FOR = timedelta(minutes=5)


class LookupSlots:
    """Takes and gives back a member's look-up slots; `take` is None when all are held."""

    def __init__(self, engine: Engine, *, per_member: int = LOOKUPS_PER_MEMBER) -> None:
        self._engine = engine
        self.per_member = per_member
        table = LookupSlot.__table__  # type: ignore[attr-defined]
        insert = conflict_insert(engine)(table)
        # One statement per slot: a free slot is inserted, an expired one taken over, a held one
        # left alone (the WHERE of DO UPDATE), atomically on both databases.
        self._take = insert.on_conflict_do_update(
            index_elements=["team_id", "user_id", "slot"],
            set_={"token": insert.excluded.token, "held_until": insert.excluded.held_until},
            where=table.c.held_until < bindparam("now"),
        ).returning(table.c.slot)

    def take(self, team_id: str, user_id: str, *, now: datetime | None = None) -> str | None:
        """A token for one of the member's slots, or None when they hold them all."""
        now = now or utcnow()
        token = uuid.uuid4().hex
        row = {
            "team_id": team_id[:32],
            "user_id": user_id[:32],
            "token": token,
            "held_until": now + HOLD_FOR,
            "now": now,
        }
        with session_scope(self._engine) as session:
            for slot in range(self.per_member):
                if session.execute(self._take, {**row, "slot": slot}).first() is not None:
                    return token
        return None

    def give_back(self, token: str) -> None:
        """Free the slot `token` holds (nothing when it expired and was taken over)."""
        with session_scope(self._engine) as session:
            session.execute(delete(LookupSlot).where(col(LookupSlot.token) == token))
