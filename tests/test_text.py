"""services.store.text.storable: what enters from OpenAlex or Slack is made storable once."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from services.store.text import plural, storable, storable_tree


def test_drops_controls_but_tab_and_newline_and_replaces_lone_surrogates() -> None:
    assert storable("Poison\x00title") == "Poisontitle"
    assert storable("a\tb\nc\x1b[31m\r") == "a\tb\nc[31m"
    assert storable("half \ud800 pair") == "half \ufffd pair"
    assert storable("Łukasz — 🧪 ok") == "Łukasz — 🧪 ok"


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_text_becomes_utf8_without_nul_and_stays_put(text: str) -> None:
    cleaned = storable(text)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned
    assert storable(cleaned) == cleaned


def test_a_parsed_payload_is_cleaned_everywhere_keys_included() -> None:
    payload = json.loads('{"a": ["x\\u0000y", {"k\\u0001": "\\ud800"}], "n": 5, "t": true}')
    assert storable_tree(payload) == {"a": ["xy", {"k": "\ufffd"}], "n": 5, "t": True}


def test_a_payload_as_deep_as_json_allows_is_walked_without_recursion() -> None:
    depth = 900
    payload = json.loads("[" * depth + '"\\u0000end"' + "]" * depth)
    node = storable_tree(payload)
    for _ in range(depth):
        assert isinstance(node, list)
        node = node[0]
    assert node == "end"


def test_plural_counts_one_and_many_and_groups_thousands() -> None:
    assert plural(1, "work") == "1 work"
    assert plural(0, "work") == "0 works"
    assert plural(2, "published item") == "2 published items"
    assert plural(1200, "work") == "1,200 works"
    assert plural(3, "batch", "batches") == "3 batches"
