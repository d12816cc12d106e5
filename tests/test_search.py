"""Name search on the demo store and a few crafted names, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.research.demo import DemoService
from services.research.researchers import set_names
from services.research.search import search_names
from services.store.engine import session_scope
from services.store.models import Researcher


@pytest.fixture
def store(engine: Engine) -> Engine:
    DemoService(engine).load()
    with session_scope(engine) as session:
        for slug, name, alternatives in [
            ("jose-muller", "José Müller", ["J. Müller"]),
            ("lukasz-dvorak", "Łukasz Dvořák", []),
            ("rahul-basu", "Rahul Basu", []),
            ("li-wei", "Li Wei", []),
        ]:
            researcher = Researcher(slug=slug, source="bzpeer", name=name)
            session.add(researcher)
            session.flush()
            assert researcher.id is not None
            set_names(
                session=session,
                researcher_id=researcher.id,
                primary=name,
                alternatives=alternatives,
            )
    return engine


def _names(engine: Engine, query: str) -> list[str]:
    with Session(engine) as session:
        matches = search_names(session=session, query=query)
        return [session.get(Researcher, m.researcher_id).name for m in matches]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Samyadeep Basu", "Samyadeep Basu"),
        ("samyadep basu", "Samyadeep Basu"),  # one typo
        ("Samyadeep", "Samyadeep Basu"),  # partial
        ("jose muller", "José Müller"),  # accents folded
        ("JOSÉ MÜLLER", "José Müller"),
        ("lukasz dvorak", "Łukasz Dvořák"),  # letters NFKD keeps whole
        ("Phil Pope", "Phillip Pope"),  # alternative name
        ("Li", "Li Wei"),  # shorter than a trigram
        ("Goldstien", "Tom Goldstein"),  # transposition typo
    ],
)
def test_finds_the_right_person_first(store: Engine, query: str, first: str) -> None:
    assert _names(store, query)[0] == first


def test_shared_surname_ranks_both_and_more_works_first(store: Engine) -> None:
    names = _names(store, "Basu")
    assert names[:2] == ["Samyadeep Basu", "Rahul Basu"]


def test_nothing_for_unrelated_text(store: Engine) -> None:
    assert _names(store, "zzzz qqqq") == []
    assert _names(store, "   ") == []
    assert _names(store, "%_%") == []
