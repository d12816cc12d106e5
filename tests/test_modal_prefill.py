"""The local shell's modal form keeps what its inputs were pre-filled with unless the person
changes them, as Slack does (an edit of the headline alone must not untick "open to collaborate")."""

from __future__ import annotations

from typing import Any

from bot.local.modals import ModalInput, modal_inputs, submitted_view

OPEN = {"text": {"type": "plain_text", "text": "Open to collaborate"}, "value": "open"}
DAILY = {"text": {"type": "plain_text", "text": "Daily"}, "value": "daily"}
WEEKLY = {"text": {"type": "plain_text", "text": "Weekly"}, "value": "weekly"}


def _field(element: dict[str, Any]) -> ModalInput:
    return ModalInput("b", "a", "Label", {"action_id": "a", **element}, optional=True)


def test_inputs_left_alone_submit_what_they_were_pre_filled_with() -> None:
    text = _field({"type": "plain_text_input", "initial_value": "My headline"})
    assert text.state(None)["value"] == "My headline"
    assert text.state("New")["value"] == "New"
    assert text.state("")["value"] is None  # cleared ("-" in the shell)
    boxes = _field({"type": "checkboxes", "options": [OPEN], "initial_options": [OPEN]})
    assert boxes.state(None)["selected_options"] == [OPEN]
    assert boxes.state("")["selected_options"] == []
    select = _field({"type": "static_select", "options": [DAILY, WEEKLY], "initial_option": WEEKLY})
    assert select.state(None)["selected_option"] == WEEKLY
    assert select.state("1")["selected_option"] == DAILY
    grouped = _field({"type": "static_select", "option_groups": [{"options": [DAILY, WEEKLY]}]})
    assert grouped.state("Weekly")["selected_option"] == WEEKLY
    time = _field({"type": "timepicker", "initial_time": "09:00"})
    assert time.state(None)["selected_time"] == time.state("")["selected_time"] == "09:00"
    assert _field({"type": "datepicker", "initial_date": "2026-01-02"}).state(None)["selected_date"] == (
        "2026-01-02"
    )
    assert _field({"type": "users_select", "initial_user": "U1"}).state(None)["selected_user"] == "U1"
    assert _field({"type": "users_select"}).state("U2")["selected_user"] == "U2"
    many = _field({"type": "multi_users_select", "initial_users": ["U1", "U2"]})
    assert many.state(None)["selected_users"] == ["U1", "U2"]
    assert (
        _field({"type": "conversations_select", "initial_conversation": "C1"}).state(None)[
            "selected_conversation"
        ]
        == "C1"
    )
    assert _field({"type": "checkboxes", "options": [OPEN]}).initial_shown is None
    assert boxes.initial_shown == "Open to collaborate"


def test_editing_only_the_headline_keeps_open_to_collaborate() -> None:
    view = {
        "blocks": [
            {
                "type": "input",
                "block_id": "headline",
                "label": {"type": "plain_text", "text": "Headline"},
                "element": {"type": "plain_text_input", "action_id": "headline", "initial_value": "Old"},
            },
            {
                "type": "input",
                "block_id": "open",
                "label": {"type": "plain_text", "text": "Invitations"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "open",
                    "options": [OPEN],
                    "initial_options": [OPEN],
                },
            },
        ]
    }
    fields = modal_inputs(view)
    values = submitted_view(view, [(f, "New" if f.block_id == "headline" else None) for f in fields])
    state = values["state"]["values"]
    assert state["headline"]["headline"]["value"] == "New"
    assert state["open"]["open"]["selected_options"] == [OPEN]
