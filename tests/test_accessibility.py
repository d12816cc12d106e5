"""Buttons a screen reader can tell apart: every button carries an accessibility_label (≤ 75
characters) naming its person or work. Every message and view sent in every end-to-end test is
also checked, by the `local_slack` fixture (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.runtime import Runtime
from handlers.blocks import MAX_ACCESSIBILITY_LABEL, accessibility_label, button
from handlers.ids import Action
from handlers.values import ResearcherValue
from tests.slack_support import (
    SlackDriver,
    all_text,
    open_home,
    placed_elements,
    published_home,
    unlabelled_buttons,
)
from tests.store_support import add_researcher

SEED = "Samyadeep Basu"


def _labels(message: dict[str, Any]) -> list[str]:
    return [e["accessibility_label"] for _, e in placed_elements(message) if e.get("type") == "button"]


def test_a_label_is_cut_at_a_word_within_75_characters_after_escaping() -> None:
    long = "Follow " + "Bartholomew-Alexander " * 8
    label = accessibility_label(long)
    assert len(label) <= MAX_ACCESSIBILITY_LABEL and label.endswith("…")
    assert label.startswith("Follow Bartholomew-Alexander")
    entities = accessibility_label("Import " + "R&D " * 40)
    assert len(entities) <= MAX_ACCESSIBILITY_LABEL
    assert "&amp;" in entities and not entities.rstrip("…").endswith(("&", "&a", "&am", "&amp"))
    assert accessibility_label("Follow  <b>\nJane") == "Follow &lt;b&gt; Jane"


def test_the_button_helper_sets_the_label() -> None:
    element = button("Follow", action_id=Action.FOLLOW, value="{}", label="Follow Jane Doe").to_dict()
    assert element["text"]["text"] == "Follow"
    assert element["accessibility_label"] == "Follow Jane Doe"


def test_the_check_finds_missing_and_overlong_labels() -> None:
    surface = {
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Follow"}, "action_id": "a"},
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Mute"},
                        "action_id": "b",
                        "accessibility_label": "x" * 76,
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Ok"},
                        "action_id": "c",
                        "accessibility_label": "Ok",
                    },
                ],
            }
        ]
    }
    assert [p.split(" (")[0] for p in unlabelled_buttons(surface)] == ["Follow", "Mute"]


def test_the_following_list_names_each_researcher(driver: SlackDriver, runtime: Runtime) -> None:
    add_researcher(runtime.services.engine, "Rahul Basu")
    driver.command(f"follow {SEED}")
    driver.command("follow Rahul Basu")
    driver.command("following")
    labels = _labels(driver.last_reply())
    assert "Unfollow Samyadeep Basu" in labels and "Mute Rahul Basu" in labels
    assert len(set(labels)) == len(labels)


def test_a_pick_list_tells_its_view_buttons_apart(driver: SlackDriver, runtime: Runtime) -> None:
    add_researcher(runtime.services.engine, "Rahul Basu")
    driver.command("Basu")
    pick = driver.last_reply()
    assert "Several researchers match" in all_text(pick)
    labels = _labels(pick)
    assert any(label.startswith("View Samyadeep Basu") for label in labels)
    assert any(label.startswith("View Rahul Basu") for label in labels)


@pytest.mark.parametrize("name_length", [40, 120])
def test_the_home_tab_labels_fit_with_long_names(
    driver: SlackDriver, runtime: Runtime, name_length: int
) -> None:
    name = ("Wolfeschlegelsteinhausen " * 20)[:name_length].strip()
    researcher_id = add_researcher(runtime.services.engine, name)
    driver.press(Action.FOLLOW, ResearcherValue(researcher_id=researcher_id).dump())
    open_home(driver)
    home = published_home(driver)
    labels = _labels(home)
    assert not unlabelled_buttons(home)
    assert all(len(label) <= MAX_ACCESSIBILITY_LABEL for label in labels)
    assert any(label.startswith("Unfollow Wolfeschlegelsteinhausen") for label in labels)
