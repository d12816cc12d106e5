"""Modals for the local shell: the view stack Slack keeps, and view_submission state built from
what the person typed. No I/O here; the shell prompts and prints."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TEXT_INPUTS = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}
# A picker keeps its initial choice until changed (it cannot be emptied), so Enter keeps it.
_PICKER_INITIAL = {"datepicker": "initial_date", "timepicker": "initial_time"}
_SINGLE_CHOICE = frozenset({"static_select", "radio_buttons"})
_MULTI_CHOICE = frozenset({"multi_static_select", "checkboxes"})


def with_ids(blocks: Any) -> list[dict[str, Any]]:
    """Copy blocks, filling in the block_id (and input action_id) Slack generates when absent."""
    if not isinstance(blocks, list):
        return []
    filled = []
    for block in blocks:
        block = {**block, "block_id": block.get("block_id") or secrets.token_urlsafe(4)[:5]}
        element = block.get("element")
        if block.get("type") == "input" and isinstance(element, dict):
            block["element"] = {**element, "action_id": element.get("action_id") or "input"}
        filled.append(block)
    return filled


@dataclass(frozen=True)
class ModalInput:
    """One input block of a modal."""

    block_id: str
    action_id: str
    label: str
    element: dict[str, Any]
    optional: bool

    @property
    def options(self) -> list[dict[str, Any]]:
        """The choices of a select, radio or checkbox input."""
        return list(self.element.get("options") or [])

    @property
    def is_choice(self) -> bool:
        """True when the person picks options rather than typing."""
        return self.element.get("type") in _SINGLE_CHOICE | _MULTI_CHOICE

    @property
    def picker_initial(self) -> str | None:
        """A date or time picker's initial value ("09:00"), which it submits when left alone."""
        key = _PICKER_INITIAL.get(str(self.element.get("type")))
        value = self.element.get(key) if key else None
        return str(value) if value else None

    def state(self, answer: str | None) -> dict[str, Any]:
        """Slack's `state.values[block_id][action_id]` for a typed answer (None: untouched)."""
        kind = str(self.element.get("type"))
        state: dict[str, Any] = {"type": kind}
        answer = answer.strip() if answer is not None else None
        if kind in _TEXT_INPUTS:
            state[_TEXT_INPUTS[kind]] = answer or self.picker_initial
        elif kind in _SINGLE_CHOICE:
            chosen = self._choose(answer)
            state["selected_option"] = chosen[0] if chosen else None
        elif kind in _MULTI_CHOICE:
            state["selected_options"] = self._choose(answer)
        return state

    def _choose(self, answer: str | None) -> list[dict[str, Any]]:
        chosen = []
        for part in (answer or "").split(","):
            part = part.strip()
            for number, option in enumerate(self.options, start=1):
                label = str((option.get("text") or {}).get("text", ""))
                if part and part in (str(number), option.get("value"), label):
                    chosen.append(option)
                    break
        return chosen


def modal_inputs(view: Mapping[str, Any]) -> list[ModalInput]:
    """The input blocks of a view, in order."""
    inputs = []
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        label = str((block.get("label") or {}).get("text", block.get("block_id")))
        inputs.append(
            ModalInput(
                block_id=str(block["block_id"]),
                action_id=str(element.get("action_id")),
                label=label,
                element=element,
                optional=bool(block.get("optional")),
            )
        )
    return inputs


def answer_for(field: ModalInput, values: Mapping[str, str]) -> str | None:
    """The given answer for a field, looked up by action_id, block_id or label."""
    for key in (field.action_id, field.block_id, field.label):
        if key in values:
            return values[key]
    return None


def submitted_view(view: Mapping[str, Any], answers: list[tuple[ModalInput, str | None]]) -> dict[str, Any]:
    """The view as a view_submission payload carries it: with `state.values` filled in."""
    values: dict[str, dict[str, Any]] = {}
    for field, answer in answers:
        values.setdefault(field.block_id, {})[field.action_id] = field.state(answer)
    return {**view, "state": {"values": values}}


@dataclass
class AckOutcome:
    """What a view_submission ack does to the modal stack."""

    action: str  # close | update | push | clear | errors
    view: dict[str, Any] | None = None
    errors: dict[str, str] | None = None


def read_ack(body: str) -> AckOutcome:
    """Interpret the ack body of a view_submission (empty: close the submitted view)."""
    if not body:
        return AckOutcome("close")
    try:
        reply = json.loads(body)
    except ValueError:
        return AckOutcome("close")
    action = reply.get("response_action") if isinstance(reply, dict) else None
    if action == "errors":
        return AckOutcome("errors", errors=dict(reply.get("errors") or {}))
    if action in ("update", "push"):
        return AckOutcome(action, view=reply.get("view"))
    if action == "clear":
        return AckOutcome("clear")
    return AckOutcome("close")


class ModalStack:
    """The modal views on screen, most recent last (Slack keeps at most three)."""

    def __init__(self) -> None:
        self.views: list[dict[str, Any]] = []

    @property
    def top(self) -> dict[str, Any] | None:
        """The view the person sees, if any."""
        return self.views[-1] if self.views else None

    def apply_call(self, method: str, view: dict[str, Any]) -> str | None:
        """Follow a views.* call; returns a label for the view, or None if it is not on screen."""
        view = {**view, "blocks": with_ids(view.get("blocks"))}
        if method == "views.open":
            self.views = [view]
            return "modal opened"
        if method == "views.push":
            self.views.append(view)
            return "modal pushed"
        for index, shown in enumerate(self.views):
            if shown.get("id") == view.get("id"):
                self.views[index] = view
                return "modal updated" if index == len(self.views) - 1 else None
        return None

    def apply_ack(self, outcome: AckOutcome) -> None:
        """Follow a view_submission ack."""
        if outcome.action == "clear":
            self.views = []
        elif outcome.action == "close" and self.views:
            self.views.pop()
        elif outcome.action in ("update", "push") and outcome.view is not None:
            view = {**outcome.view, "blocks": with_ids(outcome.view.get("blocks"))}
            if outcome.action == "update" and self.views:
                view["id"] = self.views[-1].get("id")
                self.views[-1] = view
            else:
                view["id"] = f"V{secrets.token_hex(4).upper()}"
                self.views.append(view)
