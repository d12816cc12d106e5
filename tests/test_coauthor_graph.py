"""The stored co-authorship graph stays equal to what authorship says, whoever rewrites bylines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.openalex import records
from services.openalex.works import store_works
from services.research.coauthor_graph import DERIVE_SQL, MAX_AUTHORS_PER_WORK
from services.research.demo import DemoService
from services.store.engine import alembic_config, session_scope

NOW = datetime(2026, 11, 1, tzinfo=UTC)
Edges = dict[tuple[int, int], int]


def stored_edges(engine: Engine) -> Edges:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT researcher_id, coauthor_id, works FROM coauthor"))
        return {(r, c): n for r, c, n in rows}


def derived_edges(engine: Engine) -> Edges:
    with engine.connect() as conn:
        return {(r, c): n for r, c, n in conn.execute(text(DERIVE_SQL))}


def work(number: int, authors: list[int | None]) -> records.Work:
    """A work by authors A1, A2… (None: a name OpenAlex could not link to an author)."""
    return records.Work(
        openalex_id=f"W{number}",
        doi=None,
        title=f"Distinct title {number}",
        year=2026,
        publication_date=None,
        type="article",
        venue=None,
        landing_url=None,
        arxiv_id=None,
        is_preprint=False,
        abstract=None,
        authorships=tuple(
            records.AuthorshipRef(
                author_id=None if a is None else f"A{a}", name=f"Author {a}", orcid=None, position=i
            )
            for i, a in enumerate(authors)
        ),
        topics=(),
        is_authors_truncated=False,
    )


def test_rewritten_bylines_keep_the_graph_equal_to_authorship(engine: Engine) -> None:
    rng = random.Random(11)
    people: list[int | None] = [*range(1, 41), None]
    for step in range(30):
        # Works 1–12 are stored again and again with new bylines: authors come and go, a work
        # grows past MAX_AUTHORS_PER_WORK and shrinks back, names lose their OpenAlex id.
        batch = []
        for number in rng.sample(range(1, 13), 4):
            size = rng.choice([1, 2, 3, 5, 8, MAX_AUTHORS_PER_WORK, MAX_AUTHORS_PER_WORK + 1, 30])
            batch.append(work(number, [rng.choice(people) for _ in range(size)]))
        with session_scope(engine) as session:
            store_works(session=session, works=batch, now=NOW + timedelta(hours=step))
        assert stored_edges(engine) == derived_edges(engine), f"after step {step}"
    edges = stored_edges(engine)
    assert edges and all(n > 0 for n in edges.values())
    assert all(edges[(c, r)] == n for (r, c), n in edges.items())


def test_a_big_collaboration_adds_no_edges(engine: Engine) -> None:
    with session_scope(engine) as session:
        store_works(session=session, works=[work(1, list(range(1, MAX_AUTHORS_PER_WORK + 2)))], now=NOW)
    assert stored_edges(engine) == {}


def test_reloading_the_demo_changes_nothing(engine: Engine) -> None:
    DemoService(engine).load()
    first = stored_edges(engine)
    DemoService(engine).load()
    assert first and stored_edges(engine) == first == derived_edges(engine)


def test_the_migration_fills_the_graph_from_existing_authorships(engine: Engine) -> None:
    DemoService(engine).load()
    kept = stored_edges(engine)
    config = alembic_config(engine)
    command.downgrade(config, "0002")
    command.upgrade(config, "head")
    assert kept and stored_edges(engine) == kept
