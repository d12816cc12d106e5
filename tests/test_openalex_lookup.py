"""Nobody in the store → one click looks the researcher up on OpenAlex, imports and answers."""

from __future__ import annotations

from typing import Any

import httpx

from handlers.ids import Action
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.slack_support import SlackDriver, all_text, buttons, more_buttons

MEARMAN = "A5017898742"


def _serve_mearman(openalex: FakeOpenAlex) -> None:
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))


def _candidate(short_id: str, name: str, hint: str | None) -> dict[str, Any]:
    return {
        "id": f"https://openalex.org/{short_id}",
        "short_id": f"authors/{short_id}",
        "display_name": name,
        "hint": hint,
        "cited_by_count": 3,
        "works_count": 9,
        "entity_type": "author",
        "external_id": None,
        "filter_key": "authorships.author.id",
    }


def test_lookup_by_name_imports_the_single_match_and_shows_the_card(
    driver: SlackDriver, openalex: FakeOpenAlex
) -> None:
    openalex.add(
        "/autocomplete/authors",
        {"meta": {"count": 1}, "results": [_candidate(MEARMAN, "Joseph Mearman", "Bangor University")]},
    )
    _serve_mearman(openalex)
    driver.command("Joseph Mearman")
    offer = buttons(driver.last_reply())["Look up on OpenAlex"]
    driver.press(offer["action_id"], offer["value"])
    progress, card = driver.replies()[-2:]
    assert "Looking up “Joseph Mearman” on OpenAlex" in all_text(progress)
    assert card["replace_original"] is True
    text = all_text(card)
    assert "Joseph Mearman" in text and "8 works" in text and "Verification L1" in text
    assert more_buttons(driver, card)["OpenAlex ↗"]["url"] == f"https://openalex.org/{MEARMAN}"
    # Now it is in the store: the next command answers straight away.
    driver.command("Mearman")
    assert "8 works" in all_text(driver.last_reply())


def test_several_openalex_authors_give_an_import_pick_list(
    driver: SlackDriver, openalex: FakeOpenAlex
) -> None:
    openalex.add(
        "/autocomplete/authors",
        {
            "meta": {"count": 2},
            "results": [
                _candidate(MEARMAN, "Joseph Mearman", "Bangor University"),
                _candidate("A5000000001", "Joe Mearman", None),
            ],
        },
    )
    _serve_mearman(openalex)
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "J Mearman"}')
    choices = driver.last_reply()
    assert "several authors matching “J Mearman”" in all_text(choices)
    assert "Bangor University" in all_text(choices)
    first = next(b["accessory"] for b in choices["blocks"] if b.get("accessory"))
    assert first["text"]["text"] == "Import"
    # A screen reader hears whom each Import brings in, not "Import" twice.
    labels = [b["accessory"]["accessibility_label"] for b in choices["blocks"] if b.get("accessory")]
    assert labels[0].startswith("Import Joseph Mearman (Bangor University, ")
    assert labels[1].startswith("Import Joe Mearman")
    driver.press(first["action_id"], first["value"])
    assert "Joseph Mearman" in all_text(driver.last_reply())


def test_lookup_by_openalex_url_imports_directly(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    _serve_mearman(openalex)
    driver.command(f"https://openalex.org/{MEARMAN}")
    offer = buttons(driver.last_reply())["Look up on OpenAlex"]
    driver.press(offer["action_id"], offer["value"])
    assert "8 works" in all_text(driver.last_reply())


def test_each_failure_says_what_happened(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    openalex.add("/autocomplete/authors", {"error": "x"}, status=429, headers={"Retry-After": "7200"})
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')
    assert "request budget is spent for now; retry after 2.0 hours" in all_text(driver.last_reply())
    openalex.add("/autocomplete/authors", "<html>busy</html>", status=503)
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')
    assert "OpenAlex is unavailable right now" in all_text(driver.last_reply())
    openalex.add(f"/authors/{MEARMAN}", "<html>not found</html>", status=404)
    driver.press(Action.OPENALEX_IMPORT, f'{{"a": "{MEARMAN}"}}')
    assert f"OpenAlex has no author {MEARMAN}." in all_text(driver.last_reply())


def test_a_reply_nested_too_deeply_is_explained(driver: SlackDriver, openalex: FakeOpenAlex) -> None:
    deep = b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    openalex.add_callable(
        "/autocomplete/authors",
        lambda _: httpx.Response(200, content=deep, headers={"content-type": "application/json"}),
    )
    driver.press(Action.OPENALEX_LOOKUP, '{"q": "Joseph Mearman"}')
    text = all_text(driver.last_reply())
    assert "OpenAlex sent a reply that could not be read" in text and "nested too deeply" in text
    assert "error id" not in text  # explained, not a generic failure
