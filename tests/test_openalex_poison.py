"""Issue 14, finding 1: one poisoned OpenAlex record must not stop refresh or import for everyone.

Text from OpenAlex is made storable where it enters (a NUL byte dropped, a lone surrogate
replaced), and a record the store still refuses (here a trigger standing in for a constraint
that cleaning cannot satisfy) is skipped with one log line naming it, while the rest of its
batch, the later batches and the next cycle are stored with their digest items.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.refresh import RefreshService
from services.openalex.client import OpenAlexClient
from services.openalex.importer import ImportService
from services.research.identifiers import AuthorRef
from services.store.engine import is_postgres
from services.store.models import Delivery, Follow, Researcher, Work
from tests.digest_support import T0, add_member, author_id
from tests.fake_openalex import FakeOpenAlex
from tests.openalex_works import WorksStandIn, json_reply, work_json
from tests.test_cli import _env, bzpeer

NUL_TITLE = "Poison\u0000title"
SURROGATE_TITLE = "Lone \ud800 surrogate"
# What the store keeps of them: the NUL dropped, the surrogate replaced.
NUL_STORED = "Poisontitle"
SURROGATE_STORED = "Lone \ufffd surrogate"
REFUSED = "W3000000003"  # a record the store refuses whatever its text (see refuse_work)
ADA = author_id(1)


@pytest.fixture
def refuse_work(engine: Engine) -> Iterator[None]:
    """The store refuses to insert work REFUSED, as a constraint cleaning cannot satisfy would."""
    if is_postgres(engine):
        create = [
            f"""CREATE FUNCTION refuse_test_work() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.openalex_id = '{REFUSED}' THEN
                    RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END $$""",
            "CREATE TRIGGER refuse_test_work BEFORE INSERT ON work "
            "FOR EACH ROW EXECUTE FUNCTION refuse_test_work()",
        ]
        drop = ["DROP TRIGGER refuse_test_work ON work", "DROP FUNCTION refuse_test_work()"]
    else:
        create = [
            f"CREATE TRIGGER refuse_test_work BEFORE INSERT ON work WHEN NEW.openalex_id = '{REFUSED}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ]
        drop = ["DROP TRIGGER refuse_test_work"]
    with engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        # The PostgreSQL store outlives this test (later tests only empty its tables).
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def _followed(engine: Engine, count: int, *, at: datetime) -> list[str]:
    """`count` researchers followed by one member since `at`; their OpenAlex ids, sorted."""
    member = add_member(engine, "U0ALICE")
    ids = [author_id(n) for n in range(1, count + 1)]
    with Session(engine) as session:
        rows = [Researcher(slug=i, openalex_id=i, name=f"Researcher {i}") for i in ids]
        session.add_all(rows)
        session.flush()
        session.add_all(Follow(member_id=member, researcher_id=r.id or 0, created_at=at) for r in rows)
        session.commit()
    return ids


def _stored_titles(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(Work.title)))


def _queued_titles(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(Work.title).join(Delivery, col(Delivery.work_id) == col(Work.id))))


def _lines_naming(log: str, openalex_id: str) -> list[str]:
    return [line for line in log.splitlines() if openalex_id in line]


def _poisoned_batch(ids: list[str], **when: Any) -> list[dict[str, Any]]:
    """Batch one (the first 100 ids): the poisoned records, the refused one and a healthy one."""
    return [
        work_json("W3000000001", NUL_TITLE, [(ids[0], "One")], **when),
        work_json("W3000000002", SURROGATE_TITLE, [(ids[1], "Two")], **when),
        work_json(REFUSED, "Refused by the store", [(ids[2], "Three")], **when),
        work_json("W3000000004", "Healthy neighbour", [(ids[3], "Four")], **when),
    ]


# ---------------------------------------------------------------------------------------------
# bzpeer refresh and bzpeer import as real processes


@pytest.mark.slow
@pytest.mark.usefixtures("refuse_work")
def test_cli_refresh_stores_everything_but_the_refused_work_and_the_next_cycle_runs(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    ids = _followed(engine, 150, at=datetime.now(UTC) - timedelta(days=1))
    works = WorksStandIn(works=_poisoned_batch(ids, published=today))
    works.add(work_json("W3000000005", "Later batch paper", [(ids[120], "Later")], published=today))
    openalex = FakeOpenAlex()
    openalex.add_callable("/works", works)
    with openalex.serve() as url:
        env = _env(database_url, OPENALEX_URL=url)
        first = bzpeer("refresh", env=env, cwd=tmp_path)
        works.add(work_json("W3000000006", "Next cycle paper", [(ids[5], "Six")], published=today))
        second = bzpeer("refresh", env=env, cwd=tmp_path)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    for run in (first, second):
        assert "Traceback" not in run.stderr
        [skipped] = _lines_naming(run.stderr, REFUSED)  # one line per cycle, naming the work
        assert "skipped work" in skipped
    assert "4 works seen, 4 new" in first.stdout and "4 digest items queued" in first.stdout
    assert "1 work could not be stored" in first.stdout
    assert "1 new" in second.stdout and "1 digest item queued" in second.stdout
    stored = {NUL_STORED, SURROGATE_STORED, "Healthy neighbour", "Later batch paper", "Next cycle paper"}
    assert _stored_titles(engine) == stored
    assert _queued_titles(engine) == stored


@pytest.mark.slow
@pytest.mark.usefixtures("refuse_work")
def test_cli_import_of_an_author_with_poisoned_works_exits_0_without_a_traceback(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    openalex = FakeOpenAlex()
    openalex.add(f"/authors/{ADA}", {"id": f"https://openalex.org/{ADA}", "display_name": "Ada Lovelace"})
    works = _poisoned_batch([ADA] * 4)
    openalex.add_callable("/works", lambda _: json_reply({"meta": {"count": 4}, "results": works}))
    with openalex.serve() as url:
        result = bzpeer("import", ADA, env=_env(database_url, OPENALEX_URL=url), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Imported Ada Lovelace ({ADA}): 3 works" in result.stdout
    assert "1 work could not be stored" in result.stdout
    [skipped] = _lines_naming(result.stderr, REFUSED)
    assert "skipped work" in skipped
    assert _stored_titles(engine) == {NUL_STORED, SURROGATE_STORED, "Healthy neighbour"}


# ---------------------------------------------------------------------------------------------
# The same isolation in-process, where the log can be read record by record


@pytest.fixture
def standin() -> WorksStandIn:
    return WorksStandIn()


@pytest.fixture
def client(standin: WorksStandIn) -> Iterator[OpenAlexClient]:
    client = OpenAlexClient(
        "https://openalex.test", transport=httpx.MockTransport(standin), sleep=lambda _: None
    )
    yield client
    client.close()


@pytest.mark.usefixtures("refuse_work")
def test_a_work_the_store_refuses_costs_only_itself_in_a_refresh(
    engine: Engine, client: OpenAlexClient, standin: WorksStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _followed(engine, 150, at=T0 - timedelta(days=60))
    for work in _poisoned_batch(ids):
        standin.add(work)
    standin.add(work_json("W3000000005", "Later batch paper", [(ids[120], "Later")]))
    refresh = RefreshService(engine, client)

    with caplog.at_level(logging.INFO):
        report = refresh.refresh(now=T0)

    assert (report.batches_done, report.works_seen, report.items_queued, report.works_skipped) == (2, 4, 4, 1)
    [skipped] = [r.getMessage() for r in caplog.records if REFUSED in r.getMessage()]
    assert skipped.startswith(f"refresh batch 1: skipped work {REFUSED}, which the store refused")
    assert skipped.endswith(": refused by the test)")  # the driver's own words, on one line
    stored = {NUL_STORED, SURROGATE_STORED, "Healthy neighbour", "Later batch paper"}
    assert _stored_titles(engine) == _queued_titles(engine) == stored

    standin.add(work_json("W3000000006", "Next cycle paper", [(ids[5], "Six")]))
    again = refresh.refresh(now=T0 + timedelta(hours=6))
    assert (again.batches_done, again.works_new, again.items_queued, again.works_skipped) == (2, 1, 1, 1)
    assert "Next cycle paper" in _queued_titles(engine)


@pytest.mark.usefixtures("refuse_work")
def test_a_work_the_store_refuses_costs_only_itself_in_an_import(
    engine: Engine, openalex: FakeOpenAlex, caplog: pytest.LogCaptureFixture
) -> None:
    openalex.add(f"/authors/{ADA}", {"id": f"https://openalex.org/{ADA}", "display_name": "Ada Lovelace"})
    works = _poisoned_batch([ADA] * 4)
    openalex.add_callable("/works", lambda _: json_reply({"meta": {"count": 4}, "results": works}))
    client = OpenAlexClient("https://openalex.test", transport=openalex.transport(), sleep=lambda _: None)
    importer = ImportService(engine, client, clock=lambda: T0)

    with caplog.at_level(logging.WARNING):
        result = importer.import_author(AuthorRef("openalex", ADA))
    client.close()

    assert (result.name, result.works, result.works_skipped) == ("Ada Lovelace", 3, 1)
    [skipped] = [r.getMessage() for r in caplog.records if REFUSED in r.getMessage()]
    assert skipped.startswith(f"import of {ADA}: skipped work {REFUSED}, which the store refused")
    assert _stored_titles(engine) == {NUL_STORED, SURROGATE_STORED, "Healthy neighbour"}
