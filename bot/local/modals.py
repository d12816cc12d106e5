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
# Slack submits what an input was pre-filled with unless the person changes it, so a left-alone
# input (Enter in the shell) keeps its initial value, option(s), date, time, user or channel.
_INITIAL = {
    "plain_text_input": "initial_value",
    "email_text_input": "initial_value",
    "url_text_input": "initial_value",
    "number_input": "initial_value",
    "datepicker": "initial_date",
    "timepicker": "initial_time",
}
_PICKER_INITIAL = {"datepicker": "initial_date", "timepicker": "initial_time"}
_SINGLE_CHOICE = frozenset({"static_select", "radio_buttons"})
_MULTI_CHOICE = frozenset({"multi_static_select", "checkboxes"})
# Selects of workspace objects: the typed answer is an id (U…, C…); state key, initial key.
_ID_SELECTS = {
    "users_select": ("selected_user", "initial_user"),
    "conversations_select": ("selected_conversation", "initial_conversation"),
    "channels_select": ("selected_channel", "initial_channel"),
    "multi_users_select": ("selected_users", "initial_users"),
    "multi_conversations_select": ("selected_conversations", "initial_conversations"),
    "multi_channels_select": ("selected_channels", "initial_channels"),
}


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
        """The choices of a select, radio or checkbox input (those of option groups too)."""
        grouped = [o for g in self.element.get("option_groups") or [] for o in g.get("options") or []]
        return list(self.element.get("options") or []) + grouped

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

    @property
    def initial_shown(self) -> str | None:
        """What the input is pre-filled with, as the person reads it (None: empty)."""
        kind = str(self.element.get("type"))
        if kind in _INITIAL:
            value = self.element.get(_INITIAL[kind])
            return str(value) if value else None
        if kind in _SINGLE_CHOICE | _MULTI_CHOICE:
            chosen = self._initial_options()
            return ", ".join(_option_label(o) for o in chosen) or None
        if kind in _ID_SELECTS:
            value = self.element.get(_ID_SELECTS[kind][1])
            return ", ".join(value) if isinstance(value, list) else (str(value) if value else None)
        return None

    def state(self, answer: str | None) -> dict[str, Any]:
        """Slack's `state.values[block_id][action_id]` for a typed answer (None: left alone, so
        the input submits what it was pre-filled with, as in Slack)."""
        kind = str(self.element.get("type"))
        state: dict[str, Any] = {"type": kind}
        answer = answer.strip() if answer is not None else None
        if kind in _TEXT_INPUTS:
            initial = self.element.get(_INITIAL[kind]) or None
            if answer is None or (not answer and kind in _PICKER_INITIAL):
                state[_TEXT_INPUTS[kind]] = initial  # left alone (a picker cannot be emptied)
            else:
                state[_TEXT_INPUTS[kind]] = answer or None
        elif kind in _SINGLE_CHOICE:
            chosen = self._choose(answer) if answer else self._initial_options()
            state["selected_option"] = chosen[0] if chosen else None
        elif kind in _MULTI_CHOICE:
            state["selected_options"] = self._initial_options() if answer is None else self._choose(answer)
        elif kind in _ID_SELECTS:
            key, initial_key = _ID_SELECTS[kind]
            many = kind.startswith("multi_")
            if answer is None:
                initial = self.element.get(initial_key)
                state[key] = initial if initial is not None else ([] if many else None)
            else:
                ids = [part.strip() for part in answer.split(",") if part.strip()]
                state[key] = ids if many else (ids[0] if ids else None)
        return state

    def _initial_options(self) -> list[dict[str, Any]]:
        if self.element.get("initial_option"):
            return [self.element["initial_option"]]
        return list(self.element.get("initial_options") or [])

    def _choose(self, answer: str | None) -> list[dict[str, Any]]:
        chosen = []
        for part in (answer or "").split(","):
            part = part.strip()
            for number, option in enumerate(self.options, start=1):
                label = _option_label(option)
                if part and part in (str(number), option.get("value"), label):
                    chosen.append(option)
                    break
        return chosen


def _option_label(option: Mapping[str, Any]) -> str:
    return str((option.get("text") or {}).get("text", ""))


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
