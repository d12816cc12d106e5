"""Typo search by name words: the word index is kept in step by every writer of researcher_name
(triggers, migration 0012), each query word is corrected against it, names are found by exact
words; on both databases, through search_names and through a signed `/peer` command."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import delete, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.research.demo import DemoService
from services.research.name_words import corrections, deletes, max_edits
from services.research.researchers import set_names
from services.research.search import search_names
from services.store.engine import alembic_config, session_scope
from services.store.models import Researcher, ResearcherName
from services.store.text import normalize_name
from tests.slack_support import SlackDriver, all_text
from tests.store_support import add_researcher

PEOPLE = [
    ("José Müller", ["J. Müller"]),
    ("Łukasz Dvořák", []),
    ("Rahul Basu", ["R. Basu"]),
    ("Li Wei", []),
    ("Wei Zhang", []),
    ("Иван Петров", []),
    ("Maximiliansson Oppenheimerstrasse", []),
]


def _add(session: Session, slug: str, name: str, alternatives: list[str]) -> int:
    researcher = Researcher(slug=slug, source="bzpeer", name=name)
    session.add(researcher)
    session.flush()
    assert researcher.id is not None
    set_names(session=session, researcher_id=researcher.id, primary=name, alternatives=alternatives)
    return researcher.id


@pytest.fixture
def store(engine: Engine) -> Engine:
    DemoService(engine).load()
    with session_scope(engine) as session:
        for n, (name, alternatives) in enumerate(PEOPLE):
            _add(session, f"person-{n}", name, alternatives)
    return engine


def _stored_words(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT word FROM name_word")).scalars())


def _expected_words(engine: Engine) -> set[str]:
    """What the word index must hold: each word of every stored name."""
    with engine.connect() as conn:
        norms = conn.execute(text("SELECT name_norm FROM researcher_name")).scalars()
        return {word for norm in norms for word in norm.split()}


def _variants(engine: Engine, word: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT variant FROM name_word_variant WHERE word = :w"), {"w": word})
        return set(rows.scalars())


def _assert_in_step(engine: Engine) -> None:
    words = _stored_words(engine)
    assert words == _expected_words(engine)
    with engine.connect() as conn:
        indexed = set(conn.execute(text("SELECT DISTINCT word FROM name_word_variant")).scalars())
    assert indexed == {word for word in words if len(word) >= 2}  # initials are found by themselves


def _names(engine: Engine, query: str) -> list[str]:
    with Session(engine) as session:
        matches = search_names(session=session, query=query)
        return [session.get(Researcher, m.researcher_id).name for m in matches]  # type: ignore[union-attr]


def test_word_index_holds_every_name_word_folded(store: Engine) -> None:
    _assert_in_step(store)
    words = _stored_words(store)
    assert {"jose", "muller", "j", "lukasz", "dvorak", "basu", "иван", "петров"} <= words
    assert not {"José", "Müller", "łukasz"} & words


@pytest.mark.parametrize("word", ["basu", "li", "dvorak", "петров", "oppenheimerstrasse"])
def test_delete_variants_in_the_store_are_those_python_makes(store: Engine, word: str) -> None:
    # The triggers' SQL and deletes() must agree letter for letter (substr counts characters).
    assert _variants(store, word) == deletes(word, 2)


def test_renames_and_deletes_keep_the_index_in_step(store: Engine) -> None:
    with session_scope(store) as session:
        rahul = session.exec(text("SELECT id FROM researcher WHERE slug = 'person-2'")).scalar_one()  # type: ignore[call-overload]
        # set_names drops "R. Basu" and adds a new alternative.
        set_names(session=session, researcher_id=rahul, primary="Rahul Basu", alternatives=["Rahul K. Basu"])
    _assert_in_step(store)
    assert "r" not in _stored_words(store) and "k" in _stored_words(store)
    with session_scope(store) as session:
        # A bulk insert as the OpenAlex upserts write names, an in-place rename, a cascaded delete.
        session.execute(
            insert(ResearcherName),
            [{"researcher_id": rahul, "name": "Rahul Bose", "name_norm": "rahul bose", "is_primary": False}],
        )
        session.execute(
            text("UPDATE researcher_name SET name_norm = 'rahul basuki' WHERE name_norm = 'rahul basu'")
        )
    _assert_in_step(store)
    assert "bose" in _stored_words(store) and "basuki" in _stored_words(store)
    with session_scope(store) as session:
        session.execute(delete(Researcher).where(Researcher.id == rahul))  # type: ignore[arg-type]
    _assert_in_step(store)
    assert "rahul" not in _stored_words(store) and "basuki" not in _stored_words(store)
    assert _variants(store, "basuki") == set()


def test_migration_fills_the_index_for_names_already_stored(store: Engine) -> None:
    config = alembic_config(store)
    command.downgrade(config, "0009")
    with session_scope(store) as session:
        _add(session, "before-0012", "Ada Lovelace-Byron", [])
    command.upgrade(config, "head")
    _assert_in_step(store)
    assert {"ada", "lovelace", "byron"} <= _stored_words(store)
    assert _names(store, "Ada Lovelaec")[0] == "Ada Lovelace-Byron"


def test_corrections_fix_typos_and_extend_prefixes(store: Engine) -> None:
    with Session(store) as session:
        goldstein, phil, li, nothing = corrections(session, ["goldstien", "phil", "li", "qwxz"])
    assert goldstein[0] == "goldstein"
    assert "phillip" in phil
    assert li[0] == "li"  # two letters: only the word itself, no guessing
    assert nothing == []


def test_short_words_forgive_fewer_typos() -> None:
    assert [max_edits(w) for w in ("li", "wei", "basu", "dvorak")] == [0, 1, 1, 2]
    assert deletes("ab", 2) == {"ab"}  # nothing shorter than two letters is indexed


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("JOSE MULLR", "José Müller"),  # case and accents folded, one deletion
        ("jösé müler", "José Müller"),  # accents typed where there are none, one deletion
        ("Lukasz Dvroak", "Łukasz Dvořák"),  # transposition
        ("Lukasz Dvorakk", "Łukasz Dvořák"),  # insertion
        ("Samydeep Bsu", "Samyadeep Basu"),  # one edit in each word
        ("Smayadep Basu", "Samyadeep Basu"),  # two edits in one long word
        ("Rahul Bsau", "Rahul Basu"),  # multi-word, the surname mistyped: not the other Basu
        ("Prof Rahul Basu", "Rahul Basu"),  # a word that is in no name
        ("Lu Wei", "Li Wei"),  # a two-letter word is not corrected; the other word finds him
        ("Wie Zhang", "Wei Zhang"),  # three letters, a transposition
        ("Иван Петорв", "Иван Петров"),  # any script
        ("Maximilianson Oppenheimerstrase", "Maximiliansson Oppenheimerstrasse"),  # past 10 letters
    ],
)
def test_typos_find_the_right_person_first(store: Engine, query: str, first: str) -> None:
    assert normalize_name(query) not in _expected_words(store)  # really a typo, not a stored name
    assert _names(store, query)[0] == first


def test_nothing_for_words_that_are_no_name(store: Engine) -> None:
    assert _names(store, "Qwertyx") == []
    assert _names(store, "zzzz qqqq xxxx") == []
    assert _names(store, "Qz") == []


def test_typo_command_opens_the_card(driver: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    add_researcher(runtime.services.engine, "Rahul Basu")
    driver.command("Smayadep Bsau")
    assert "Trust 13 - Unverified" in all_text(driver.last_reply())
    driver.command("Rahul Bsau")
    text_ = all_text(driver.last_reply())
    assert "Rahul Basu" in text_ and "Samyadeep" not in text_


def test_one_word_reads_whole_words_first_and_keeps_the_list(store: Engine) -> None:
    # Fewer whole-word names than a list holds: the substring path adds "Ana Basuki" after them.
    add_researcher(store, "Ana Basuki")
    names = _names(store, "Basu")
    assert names[:2] == ["Samyadeep Basu", "Rahul Basu"] and names[-1] == "Ana Basuki"
    assert _names(store, "Basuk")[0] == "Ana Basuki"  # part of a word: the substring path
    # Eight or more: the list is all whole-word names, the substring path is not needed.
    for n in range(8):
        add_researcher(store, f"Person{chr(97 + n)} Basu")
    names = _names(store, "Basu")
    assert len(names) == 8 and "Ana Basuki" not in names and names[0] == "Samyadeep Basu"
