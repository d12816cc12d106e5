"""Shared fixtures: a fresh migrated store per test, on SQLite or (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from bot.app import InlineExecutor, build_bolt_app
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from services.openalex.client import OpenAlexClient
from services.store.engine import make_engine, normalize_database_url, upgrade
from tests.fake_openalex import FakeOpenAlex
from tests.slack_support import SlackDriver, assert_buttons_labelled

SIGNING_SECRET = "test-signing-secret"

_SLACK_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "SLACK_SCOPES",
    "SLACK_USER_SCOPES",
    "SLACK_REDIRECT_URI",
    "SLACK_INSTALL_PATH",
    "SLACK_REDIRECT_URI_PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "DATABASE_URL",
    "OPENALEX_URL",
    "OPENALEX_API_KEY",
    "BZPEER_COMMAND",
    "BZPEER_SECRET_KEY",
    "BZPEER_REVIEW_CHANNEL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Bolt and our settings read these silently; a developer's shell must not leak into tests.
    for name in _SLACK_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # so no stray .env is read


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalize_database_url(url) if url else None


@pytest.fixture(scope="session")
def _store_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated store made once per session: a SQLite file to copy, or a PostgreSQL database."""
    pg_url = _postgres_url()
    if pg_url is None:
        path = tmp_path_factory.mktemp("template") / "store.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)
        return
    admin = make_engine(pg_url)
    name = f"bzpeer_test_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(engine: Engine) -> None:
    try:
        with engine.begin() as conn:
            # A connection an earlier test left inside a transaction would block TRUNCATE forever;
            # fail this test loudly instead, naming what holds the lock.
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ).scalars()
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    except OperationalError as error:
        with engine.connect() as conn:
            holders = conn.execute(
                text(
                    "SELECT state, left(query, 200) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
        pytest.fail(f"an earlier test left a connection holding locks: {holders}: {error}")


@pytest.fixture
def database_url(_store_template: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated store for this test alone."""
    if _postgres_url() is None:
        target = tmp_path / "store.db"
        shutil.copyfile(_store_template, target)
        yield f"sqlite:///{target}"
        return
    engine = make_engine(_store_template)
    _truncate_all(engine)
    engine.dispose()
    yield _store_template


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on this test's empty, migrated store."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def local_slack() -> Iterator[LocalSlack]:
    """The fake Slack Web API and response_url endpoint, a real HTTP server on 127.0.0.1:0.

    Every message and view a test made the app send is checked afterwards for buttons a screen
    reader could not tell apart (no accessibility_label, or one over Slack's 75 characters)."""
    with LocalSlack(team_id="T0TEAM1") as local:
        yield local
        assert_buttons_labelled(local.calls)


@pytest.fixture
def openalex() -> FakeOpenAlex:
    return FakeOpenAlex()


@pytest.fixture
def settings(database_url: str, local_slack: LocalSlack) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=local_slack.url,
        OPENALEX_URL="https://openalex.test",
    )


@pytest.fixture
def runtime(settings: Settings, openalex: FakeOpenAlex) -> Iterator[Runtime]:
    client = OpenAlexClient(settings.openalex_url, transport=openalex.transport(), sleep=lambda _: None)
    runtime = build_runtime(settings, openalex=client)
    runtime.services.demo.load()
    yield runtime
    runtime.close()


@pytest.fixture
def driver(runtime: Runtime, local_slack: LocalSlack) -> SlackDriver:
    """Signed requests into the real Bolt app (acks wait for the listener, so no sleeps)."""
    app = build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor())
    return SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
