"""Citations, open-access links and `sort:cited` on the papers list, and the card's citations and
h-index, on a real OpenAlex author imported through the app (Joseph Mearman: 9 OpenAlex works,
one preprint/published pair, 8 items)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.values import PapersValue
from services.openalex.records import parse_work
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.slack_support import SlackDriver, all_text, buttons

MEARMAN = "A5017898742"
WORKS = "works_list_by_author_A5017898742_per_page50.json"


@pytest.fixture
def mearman(driver: SlackDriver, openalex: FakeOpenAlex) -> SlackDriver:
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    openalex.add("/works", fixture(WORKS))
    driver.press("openalex_import", json.dumps({"a": MEARMAN}))
    return driver


def _section_texts(reply: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]


def test_the_card_shows_citations_and_h_index(mearman: SlackDriver) -> None:
    text = all_text(mearman.last_reply())
    assert "41 citations · h-index 2" in text
    assert "4 close collaborators" in text


def test_sort_cited_lists_the_most_cited_first_and_pages_with_it(mearman: SlackDriver) -> None:
    mearman.command("papers Joseph Mearman sort:cited")
    first = mearman.last_reply()
    text = all_text(first)
    assert "8 published items, most cited first" in text
    works = _section_texts(first)[1:]
    assert "28 citations" in works[0] and "10 citations" in works[1]
    # The open-access copy OpenAlex knows is linked.
    assert (
        "<https://pure.aber.ac.uk/ws/files/6131784/jocch_alternative_respresentations.pdf|Open access ↗>"
        in (works[0])
    )
    next_page = buttons(first)["Next →"]
    carried = PapersValue.load(next_page["value"])
    assert carried is not None and (carried.page, carried.sort, carried.year) == (2, "cited", None)
    assert next_page["accessibility_label"] == "Next page of the papers of Joseph Mearman"
    mearman.press(next_page["action_id"], next_page["value"])
    second = mearman.last_reply()
    assert "Page 2 of 2 · items 6–8 of 8" in all_text(second)
    assert all("citations" in t and "28 citations" not in t for t in _section_texts(second)[1:])
    # sort:cited can be removed like a filter: newest first again.
    newest = buttons(second)["✕ sort:cited"]
    mearman.press(newest["action_id"], newest["value"])
    assert "most cited first" not in all_text(mearman.last_reply())


def test_type_preprint_finds_the_arxiv_version_the_label_shows(mearman: SlackDriver) -> None:
    mearman.command("papers Joseph Mearman type:preprint sort:cited")
    text = all_text(mearman.last_reply())
    assert "1 published item match `type:preprint` (8 in all), most cited first" in text
    assert "preprint on arXiv" in text and "<https://arxiv.org/abs/2108.04680|Open access ↗>" in text
    assert {"✕ type:preprint", "✕ sort:cited"} <= set(buttons(mearman.last_reply()))


@pytest.mark.parametrize("bad", ["sort:newest", "sort:", "sort:<b>"])
def test_a_bad_sort_says_what_to_type(driver: SlackDriver, bad: str) -> None:
    driver.command(f"papers Samyadeep Basu {bad}")
    text = all_text(driver.last_reply())
    assert "is not an order I know. Type `sort:cited` for the most cited first" in text
    assert "<b>" not in text


def test_buttons_from_before_sort_cited_still_load() -> None:
    old = PapersValue.load('{"r": 7, "p": 2, "y": 2021, "t": "preprint"}')
    assert old == PapersValue(researcher_id=7, page=2, year=2021, type="preprint")
    assert old is not None and old.sort is None
    assert PapersValue.load('{"r": 7, "s": "newest"}') is None


def test_citations_and_the_open_access_link_are_read_from_the_work() -> None:
    listed = {w["id"]: w for w in fixture(WORKS)["results"]}
    journal = parse_work(listed["https://openalex.org/W2250748100"])
    assert journal.cited_by_count == 28
    assert journal.oa_url == "https://pure.aber.ac.uk/ws/files/6131784/jocch_alternative_respresentations.pdf"
    closed = parse_work(listed["https://openalex.org/W3200026003"])
    assert (closed.cited_by_count, closed.oa_url) == (10, None)
    pdf_only = parse_work(
        {"id": "W1", "title": "x", "best_oa_location": {"pdf_url": "https://example.org/x.pdf"}}
    )
    assert (pdf_only.cited_by_count, pdf_only.oa_url) == (None, "https://example.org/x.pdf")
