"""The publication list's key on authorship (shown_year, shown_date, shown_type) stays equal to
what work says, whoever rewrites works, and the list it serves keeps the order and filters of a
list sorted from work itself."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.openalex import records
from services.openalex.works import store_works
from services.research.demo import DemoService
from services.research.papers import WORK_TYPES, PaperFilters, count_papers, list_papers
from services.research.profiles import CARD_WORKS, ProfileService
from services.store.engine import alembic_config, session_scope

NOW = datetime(2026, 11, 1, tzinfo=UTC)
Keys = dict[int, tuple[Any, Any, Any]]

STORED_SQL = "SELECT id, shown_year, shown_date, shown_type FROM authorship"
# What the list shows, derived afresh from work (as migration 0004 fills it).
DERIVED_SQL = """
SELECT authorship.id, authorship.researcher_id, authorship.work_id,
       coalesce(work.published_year, work.year),
       work.publication_date,
       CASE WHEN work.published_openalex_id IS NOT NULL OR work.published_doi IS NOT NULL
            THEN 'article' ELSE work.type END
FROM authorship JOIN work ON work.id = authorship.work_id
"""


def stored_keys(engine: Engine) -> Keys:
    with engine.connect() as conn:
        return {row[0]: tuple(row[1:]) for row in conn.execute(text(STORED_SQL))}


def derived_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(DERIVED_SQL)))


def derived_keys(engine: Engine) -> Keys:
    return {row[0]: tuple(row[3:]) for row in derived_rows(engine)}


def version(number: int, *, preprint: bool, rng: random.Random, authors: list[str]) -> records.Work:
    """One version of paper `number` (preprint W1…, published W2…) with a random year, date, DOI
    and type; versions sharing an author pair up as one work row (random_batch always adds A1)."""
    year = rng.choice([None, 2019, 2020, 2021, 2022])
    day = rng.choice([None, date(year or 2020, rng.randint(1, 12), rng.randint(1, 28))])
    openalex_id = f"W{1 if preprint else 2}{number:04d}"
    return records.Work(
        openalex_id=openalex_id,
        doi=rng.choice([None, f"10.1000/{openalex_id}"]),
        title=f"Paper {number} on keys",
        year=year,
        publication_date=day,
        type="preprint" if preprint else rng.choice(["article", "article", "book-chapter"]),
        venue="arXiv" if preprint else "Journal of Keys",
        landing_url=None,
        arxiv_id=None,
        is_preprint=preprint,
        abstract=None,
        authorships=tuple(
            records.AuthorshipRef(author_id=a, name=f"Author {a}", orcid=None, position=i)
            for i, a in enumerate(authors)
        ),
        topics=(),
        is_authors_truncated=False,
    )


def random_batch(rng: random.Random) -> list[records.Work]:
    """A few papers seen again: the preprint, the published version or both, each with a new
    year, date, DOI and byline (A1 sometimes twice on it)."""
    batch = []
    for number in rng.sample(range(16), 4):
        authors = ["A1", *rng.sample(["A2", "A3", "A4", "A5"], rng.randint(0, 2))]
        if rng.random() < 0.2:
            authors.append("A1")
        for preprint in rng.choice([(True,), (False,), (True, False), (False, True)]):
            batch.append(version(number, preprint=preprint, rng=rng, authors=authors))
    return batch


def expected_list(engine: Engine, researcher_id: int, filters: PaperFilters) -> list[int]:
    """The researcher's works in list order, sorted here from the work-derived key: newest year
    first, then newest date, then highest id; unknown years and dates last."""
    with engine.connect() as conn:
        # A published preprint is listed as the article and still has its preprint version.
        preprints = {row[0] for row in conn.execute(text("SELECT id FROM work WHERE type = 'preprint'"))}

    def of_type(work_id: int, kind: str) -> bool:
        return filters.type in (None, kind) or (filters.type == "preprint" and work_id in preprints)

    works = {
        work_id: (year, day)
        for _, rid, work_id, year, day, kind in derived_rows(engine)
        if rid == researcher_id and filters.year in (None, year) and of_type(work_id, kind)
    }

    def newest_first(work_id: int) -> tuple[Any, ...]:
        year, day = works[work_id]
        return (year is not None, year or 0, day is not None, day or 0, work_id)

    return sorted(works, key=newest_first, reverse=True)


def check_list(engine: Engine, researcher_id: int) -> None:
    """Every filter the list offers, paged three at a time, against the order sorted from work."""
    every = [PaperFilters(), *(PaperFilters(type=t) for t in WORK_TYPES)]
    every += [PaperFilters(year=y) for y in (2019, 2020, 2021, 2022)]
    every += [PaperFilters(year=2021, type=t) for t in WORK_TYPES]
    with Session(engine) as session:
        for filters in every:
            want = expected_list(engine, researcher_id, filters)
            assert count_papers(session=session, researcher_id=researcher_id, filters=filters) == len(want)
            got = [
                work.id
                for offset in range(0, len(want) + 3, 3)
                for work in list_papers(
                    session=session, researcher_id=researcher_id, filters=filters, offset=offset, limit=3
                )
            ]
            assert got == want, filters
    # The card's newest works are the list's first, in the same order.
    card = ProfileService(engine).profile(researcher_id)
    assert card is not None
    assert [work.id for work in card.recent_works] == expected_list(engine, researcher_id, every[0])[
        :CARD_WORKS
    ]


def first_author(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM researcher WHERE openalex_id = 'A1'")).scalar_one())


def test_rewritten_works_keep_the_key_equal_to_work(engine: Engine) -> None:
    rng = random.Random(7)
    for step in range(40):
        # Preprint then published version, published then preprint (the row's main columns move
        # aside), both at once, and either seen again with a new year and date: in that last
        # case for a preprint, its byline is not rewritten, only the key is brought in step.
        with session_scope(engine) as session:
            store_works(session=session, works=random_batch(rng), now=NOW + timedelta(hours=step))
        assert stored_keys(engine) == derived_keys(engine), f"after step {step}"
        check_list(engine, first_author(engine))
    with engine.connect() as conn:
        published = conn.execute(text("SELECT count(*) FROM work WHERE published_openalex_id IS NOT NULL"))
        assert published.scalar_one() > 0


def test_a_preprint_seen_again_moves_its_published_work_in_the_list(engine: Engine) -> None:
    rng = random.Random(3)
    published = version(0, preprint=False, rng=rng, authors=["A1"])
    preprint = version(0, preprint=True, rng=rng, authors=["A1"])
    later = [
        version(1, preprint=False, rng=rng, authors=["A1"]),
        version(1, preprint=True, rng=rng, authors=["A1"]),
    ]
    with session_scope(engine) as session:
        store_works(session=session, works=[published], now=NOW)
        store_works(session=session, works=later, now=NOW)
        store_works(session=session, works=[preprint], now=NOW)  # the published one moves aside
    for year, day in ((2024, date(2024, 3, 1)), (None, None), (2018, date(2018, 1, 1))):
        again = dataclasses.replace(preprint, year=year, publication_date=day)
        with session_scope(engine) as session:
            store_works(session=session, works=[again], now=NOW)
        assert stored_keys(engine) == derived_keys(engine)
        check_list(engine, first_author(engine))


def test_a_researcher_twice_on_one_byline_is_listed_and_carded_once(engine: Engine) -> None:
    rng = random.Random(11)
    twice = version(0, preprint=False, rng=rng, authors=["A1", "A2", "A1"])
    with session_scope(engine) as session:
        store_works(
            session=session, works=[twice, version(1, preprint=False, rng=rng, authors=["A1"])], now=NOW
        )
    check_list(engine, first_author(engine))
    card = ProfileService(engine).profile(first_author(engine))
    assert card is not None and len(card.recent_works) == 2


def test_reloading_the_demo_keeps_the_key(engine: Engine) -> None:
    DemoService(engine).load()
    DemoService(engine).load()
    keys = stored_keys(engine)
    assert keys and keys == derived_keys(engine)


def test_the_migration_fills_the_key_from_work(engine: Engine) -> None:
    DemoService(engine).load()
    rng = random.Random(5)
    for _ in range(10):
        with session_scope(engine) as session:
            store_works(session=session, works=random_batch(rng), now=NOW)
    undated = dataclasses.replace(version(20, preprint=True, rng=rng, authors=["A2"]), year=None)
    with session_scope(engine) as session:
        store_works(session=session, works=[undated], now=NOW)
    kept = stored_keys(engine)
    config = alembic_config(engine)
    command.downgrade(config, "0003")
    command.upgrade(config, "head")
    assert kept and stored_keys(engine) == kept
    assert {kind for _, _, kind in kept.values()} == {"article", "book-chapter", "preprint"}
    assert {year for year, _, _ in kept.values()} >= {None, 2019}
