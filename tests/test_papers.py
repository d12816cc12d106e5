"""`/peer papers` end to end: the list, paging that replaces the message, filters, limits."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from bot.runtime import Runtime
from handlers.blocks import within_limits
from handlers.ids import Action
from handlers.research.paper_blocks import papers_message
from services.research.papers import PAGE_SIZE, PaperFilters
from tests.slack_support import SlackDriver, all_text, buttons
from tests.store_support import StoreBuilder

WORKS = 500


@pytest.fixture
def store(runtime: Runtime) -> StoreBuilder:
    return StoreBuilder(runtime.services.engine, prefix="papers")


@pytest.fixture
def prolific(store: StoreBuilder) -> int:
    """A researcher with 500 works whose records are as long and markup-heavy as records get."""
    author, *others = store.researchers(["Prolific Author", "Ana Ümlaut " + "x" * 200, "Bo & <Co>", "Cy"])
    store.works(
        [[author, *others]] * WORKS,
        author_count=40,
        title=lambda i: f"Paper {i:03d} " + "on robust & <fast> learning " * 15,
        type=lambda i: "preprint" if i % 2 else "article",
        year=lambda i: 2026 - i // 20,
        publication_date=lambda i: date(2026 - i // 20, 12 - (i % 20) // 2, 28 - (i % 2) * 10),
        venue=("Proceedings & <Transactions> " * 30)[:512],  # the column holds 512
        doi=lambda i: f"10.1234/prolific.{i}",
        abstract="Influence & <functions> approximate things. " * 20,
        cited_by_count=lambda i: 1_000_000_000 - i % 7,
        oa_url=lambda i: f"https://repository.example.org/{i}/" + "full-text" * 200,
    )
    return author


def _press(driver: SlackDriver, message: dict, label: str) -> dict:
    button = buttons(message)[label]
    driver.press(button["action_id"], button["value"])
    return driver.last_reply()


def _page_line(message: dict) -> str:
    found = re.search(r"Page \d+ of \d+ · items \d+–\d+ of \d+", all_text(message))
    assert found, all_text(message)
    return found.group(0)


def test_papers_of_the_demo_researcher(driver: SlackDriver) -> None:
    driver.command("papers Samyadeep Basu")
    reply = driver.last_reply()
    text = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "*Published work of Samyadeep Basu* · 2 published items" in text
    # Newest first, `type · year · venue`, the linked title, the byline, the abstract snippet.
    assert text.index("`preprint · 2021 · arXiv`") < text.index("`preprint · 2020 · arXiv`")
    assert "<https://arxiv.org/abs/2006.14651|Influence Functions in Deep Learning Are Fragile>" in text
    assert "Samyadeep Basu, Phillip Pope, Soheil Feizi\n" in text
    assert "Samyadeep Basu, Xuchen You, Soheil Feizi\n" in text
    assert "Influence functions approximate the effect of training samples" in text
    for block in reply["blocks"]:
        if block["type"] == "section" and "Influence functions approximate" in block["text"]["text"]:
            assert len(block["text"]["text"].rsplit("\n", 1)[-1]) <= 280
    assert "Page 1 of 1 · items 1–2 of 2" in text
    assert "← Previous" not in buttons(reply) and "Next →" not in buttons(reply)
    assert within_limits(reply["blocks"])


def test_the_card_papers_button_opens_the_list_below_the_card(driver: SlackDriver) -> None:
    driver.command("Samyadeep Basu")
    card = driver.last_reply()
    assert "Papers" in buttons(card)
    papers = _press(driver, card, "Papers")
    assert papers["replace_original"] is False
    assert "2 published items" in all_text(papers)


def test_paging_replaces_the_same_message_and_stops_at_both_ends(driver: SlackDriver, prolific: int) -> None:
    driver.command("papers Prolific Author")
    first = driver.last_reply()
    assert f"*Published work of Prolific Author* · {WORKS} published items" in all_text(first)
    assert _page_line(first) == "Page 1 of 100 · items 1–5 of 500"
    assert set(buttons(first)) == {"Next →"}
    second = _press(driver, first, "Next →")
    assert second["replace_original"] is True
    assert _page_line(second) == "Page 2 of 100 · items 6–10 of 500"
    assert set(buttons(second)) == {"← Previous", "Next →"}
    assert "Paper 005 on robust" in all_text(second) and "Paper 004" not in all_text(second)
    back = _press(driver, second, "← Previous")
    assert back["replace_original"] is True
    assert _page_line(back) == "Page 1 of 100 · items 1–5 of 500"
    assert "Paper 000 on robust" in all_text(back)
    # Straight to the end (a value as the Next button of page 99 carries it).
    driver.press(f"{Action.PAPERS_PAGE}:next", json.dumps({"r": prolific, "p": 100}))
    last = driver.last_reply()
    assert _page_line(last) == "Page 100 of 100 · items 496–500 of 500"
    assert set(buttons(last)) == {"← Previous"}
    assert within_limits(last["blocks"])


def test_every_page_of_500_worst_case_works_fits_slack(runtime: Runtime, prolific: int) -> None:
    seen: list[int] = []
    years: list[int] = []
    for number in range(1, WORKS // PAGE_SIZE + 1):
        page = runtime.services.papers.page(prolific, PaperFilters(), number)
        assert page is not None and page.page == number and len(page.works) == PAGE_SIZE
        payload = papers_message(page).payload()  # slack_sdk validates every block here
        assert within_limits(payload["blocks"]), number
        text = all_text(payload)
        assert "et al." in text
        assert "<fast>" not in text and "<Co>" not in text and "&lt;fast&gt;" in text
        seen += [w.id for w in page.works]
        years += [w.year or 0 for w in page.works]
    assert len(set(seen)) == WORKS
    assert years == sorted(years, reverse=True)
    cited: list[int] = []
    for number in range(1, WORKS // PAGE_SIZE + 1):
        page = runtime.services.papers.page(prolific, PaperFilters(sort="cited"), number)
        assert page is not None
        assert within_limits(papers_message(page).payload()["blocks"]), number
        cited += [w.cited_by_count or 0 for w in page.works]
    assert len(cited) == WORKS and cited == sorted(cited, reverse=True)


@pytest.mark.parametrize(
    ("page", "expected"), [(9999, "Page 100 of 100"), (-4, "Page 1 of 100"), (0, "Page 1")]
)
def test_a_tampered_page_number_is_clamped(
    driver: SlackDriver, prolific: int, page: int, expected: str
) -> None:
    driver.press(f"{Action.PAPERS_PAGE}:next", json.dumps({"r": prolific, "p": page}))
    assert expected in _page_line(driver.last_reply())


@pytest.mark.parametrize(
    "value", ['{"r": "1; DROP TABLE work"}', '{"r": 1, "p": "two"}', '{"r": 1, "y": 20}', "not json", None]
)
def test_an_edited_papers_value_is_refused_politely(driver: SlackDriver, value: str | None) -> None:
    driver.press(f"{Action.PAPERS_PAGE}:next", value)
    assert "That button is out of date" in all_text(driver.last_reply())


def test_filters_are_shown_and_each_can_be_removed(driver: SlackDriver) -> None:
    driver.command("papers Samyadeep Basu year:2021 type:preprint")
    filtered = driver.last_reply()
    text = all_text(filtered)
    assert "1 published item match `year:2021` · `type:preprint` (2 in all)" in text
    assert "Influence Functions in Deep Learning Are Fragile" in text
    assert "Second-Order Group Influence" not in text
    assert {"✕ year:2021", "✕ type:preprint"} <= set(buttons(filtered))
    unfiltered_year = _press(driver, filtered, "✕ year:2021")
    assert unfiltered_year["replace_original"] is True
    assert "2 published items match `type:preprint` (2 in all)" in all_text(unfiltered_year)
    assert set(buttons(unfiltered_year)) == {"✕ type:preprint"}
    plain = _press(driver, unfiltered_year, "✕ type:preprint")
    assert "*Published work of Samyadeep Basu* · 2 published items" in all_text(plain)
    assert "Filtered by" not in all_text(plain)


def test_nothing_matching_the_filters_says_so(driver: SlackDriver) -> None:
    driver.command("papers Samyadeep Basu type:article")
    reply = driver.last_reply()
    assert "None of the 2 published items of Samyadeep Basu match `type:article`." in all_text(reply)
    assert set(buttons(reply)) == {"✕ type:article"}


# One command per test: the app drops a second command with the driver's fixed trigger_id
# as a replay.
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ("type:article year:2023", "`article · 2023 · Journal of Results · preprint on arXiv`"),
        # The label says it has a preprint on arXiv: type:preprint finds it too.
        ("type:preprint", "`article · 2023 · Journal of Results · preprint on arXiv`"),
    ],
)
def test_a_published_preprint_is_listed_as_the_article_and_found_by_either_type(
    driver: SlackDriver, store: StoreBuilder, filters: str, expected: str
) -> None:
    (author,) = store.researchers(["Pat Published"])
    store.works(
        [[author]],
        type="preprint",
        year=2022,
        venue="arXiv",
        arxiv_id="2201.00001",
        published_doi="10.1000/final",
        published_venue="Journal of Results",
        published_year=2023,
    )
    driver.command(f"papers Pat Published {filters}")
    text = all_text(driver.last_reply())
    assert expected in text
    assert "https://doi.org/10.1000/final" in text and "1 published item match" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("papers Samyadeep Basu year:20x1", "`year:20x1` is not a year. Type four digits after `year:`"),
        ("papers Samyadeep Basu year:", "`year:` is not a year."),
        (
            "papers Samyadeep Basu type:book",
            "`type:book` is not a type I can filter on. Type `type:preprint`",
        ),
        ("papers Samyadeep Basu type:<b>", "`type:&lt;b&gt;` is not a type"),
        ("papers Basu year:2020 year:2021", "Give `year:` only once"),
        ("papers year:2021", "Type a researcher's name, OpenAlex id or ORCID after `/peer papers`"),
    ],
)
def test_bad_filters_say_what_to_type_instead(driver: SlackDriver, text: str, expected: str) -> None:
    driver.command(text)
    reply = driver.last_reply()
    assert expected in all_text(reply)
    assert "<b>" not in all_text(reply)


def test_a_researcher_without_works_gets_a_sentence(driver: SlackDriver, store: StoreBuilder) -> None:
    store.researchers(["Nora Noworks"])
    driver.command("papers Nora Noworks")
    reply = driver.last_reply()
    assert "*Published work of Nora Noworks* · 0 published items" in all_text(reply)
    assert "No works of Nora Noworks are in the store yet." in all_text(reply)
    assert not buttons(reply)


def test_a_pick_list_carries_the_filters_to_the_chosen_researcher(
    driver: SlackDriver, store: StoreBuilder
) -> None:
    store.researchers(["Rahul Basu"])
    driver.command("papers Basu year:2021")
    pick = driver.last_reply()
    assert "Several researchers match “Basu”" in all_text(pick)
    view = next(
        block["accessory"]
        for block in pick["blocks"]
        if block.get("accessory") and "Samyadeep" in block["text"]["text"]
    )
    assert view["action_id"] == Action.PAPERS
    driver.press(view["action_id"], view["value"])
    assert "1 published item match `year:2021` (2 in all)" in all_text(driver.last_reply())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ada Lovelace", "No researcher matching “Ada Lovelace”"),
        ("https://openalex.org/W2741809807", "is a work in OpenAlex, not an author"),
    ],
)
def test_unknown_people_and_ids_get_the_usual_answers(driver: SlackDriver, query: str, expected: str) -> None:
    driver.command(f"papers {query}")
    assert expected in all_text(driver.last_reply())
