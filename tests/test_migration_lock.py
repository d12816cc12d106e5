"""Several processes starting together on one fresh PostgreSQL store: one migrates, the others
wait for the advisory lock, none fails, and the store ends at head."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.store.engine import alembic_config, make_engine, normalize_database_url, upgrade

STARTERS = 6


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty PostgreSQL database of its own (no migrations applied)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    admin = make_engine(normalize_database_url(url))
    name = f"bzpeer_migrate_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_database_url(url)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_concurrent_upgrades_on_a_fresh_store_all_succeed(fresh_postgres: str) -> None:
    # One engine per starter, as separate `bzpeer serve` processes would have.
    engines = [make_engine(fresh_postgres) for _ in range(STARTERS)]
    barrier = threading.Barrier(STARTERS)
    failures: list[BaseException] = []

    def start(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            upgrade(engines[index])
        except BaseException as error:  # collected and asserted on below
            failures.append(error)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(STARTERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 90
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    try:
        assert not any(thread.is_alive() for thread in threads), "an upgrade never finished"
        assert failures == []
        head = ScriptDirectory.from_config(alembic_config(engines[0])).get_current_head()
        with engines[0].connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            locks = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            ).scalar()
        assert versions == [head]
        assert locks == 0, "the migration lock is released"
    finally:
        for engine in engines:
            engine.dispose()
