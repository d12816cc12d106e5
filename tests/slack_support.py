"""Talking to the app as Slack does, in tests and benchmarks: signed commands, button presses,
modal submissions and Home tab events through `app.dispatch` (bodies and signatures from
bot/local/signed_requests.py), and reading back what a person would see."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest

from bot.local.signed_requests import (
    FORM,
    JSON,
    Actor,
    SourceMessage,
    block_actions,
    direct_message,
    event_callback,
    interactive_body,
    signed_headers,
    slash_command_body,
    view_submission,
)
from bot.local.slack_server import LocalSlack, RecordedCall


@dataclass
class SlackDriver:
    """Talks to the app as Slack would, and reads back what the app sent to the local Slack."""

    app: App
    local: LocalSlack
    secret: str
    command_name: str = "/peer"
    team_id: str = "T0TEAM1"
    user_id: str = "U0ALICE"
    channel_id: str = "C0GENERAL"

    def actor(
        self, *, user_id: str | None = None, team_id: str | None = None, channel_id: str | None = None
    ) -> Actor:
        """The driver's person, workspace and channel, or someone else somewhere else."""
        return Actor(team_id or self.team_id, user_id or self.user_id, channel_id or self.channel_id)

    def dispatch(
        self, body: str, *, content_type: str = FORM, extra_headers: Mapping[str, str] | None = None
    ) -> BoltResponse:
        """Sign `body` and hand it to the app, as Slack's POST to /slack/events (with any
        `extra_headers`, e.g. Slack's X-Slack-Retry-Num)."""
        headers: dict[str, str | Sequence[str]] = {
            **signed_headers(self.secret, body, content_type=content_type),
            **(extra_headers or {}),
        }
        response = self.app.dispatch(BoltRequest(body=body, headers=headers))
        if content_type == FORM:
            show_command_ack(self.local, body, response)
        return response

    def command_body(self, text: str, *, user_id: str | None = None, team_id: str | None = None) -> str:
        """`/peer TEXT` (text as Slack sends it) with a fresh response_url on the local Slack."""
        actor = self.actor(user_id=user_id, team_id=team_id)
        return slash_command_body(actor, self.command_name, text, self.local.response_url())

    def command(self, text: str, *, user_id: str | None = None, team_id: str | None = None) -> BoltResponse:
        """Send `/peer TEXT`; the reply lands on the local Slack (see `last_reply`)."""
        return self.dispatch(self.command_body(text, user_id=user_id, team_id=team_id))

    def action_body(
        self, action_id: str, value: str | None, *, user_id: str | None = None, team_id: str | None = None
    ) -> str:
        """A press of a button `action_id` carrying `value`, on an ephemeral reply."""
        button = {"type": "button", "action_id": action_id, "value": value}
        return _press_body(self, button, self.actor(user_id=user_id, team_id=team_id))

    def press(self, action_id: str, value: str | None, **who: str | None) -> BoltResponse:
        """Press a button `action_id` carrying `value` (as `user_id` / `team_id` if given)."""
        return self.dispatch(self.action_body(action_id, value, **who))

    def replies(self) -> list[dict[str, Any]]:
        """Bodies the app posted to response_urls, oldest first."""
        return [call.params for call in self.local.calls_to("response_url")]

    def last_reply(self) -> dict[str, Any]:
        replies = self.replies()
        assert replies, "the app sent no reply"
        return replies[-1]


def show_command_ack(local: LocalSlack, body: str, response: BoltResponse) -> None:
    """A slash command's ack goes back to Slack, which shows a message in it as it shows a
    response_url post (so `replies()` reads both)."""
    form = parse_qs(body)
    if "command" in form and response.status == 200:
        local.show_ack(form["response_url"][0], response.body)


def _press_body(
    driver: SlackDriver,
    button: dict[str, Any],
    actor: Actor,
    *,
    block_id: str = "b1",
    ephemeral: bool = True,
    message_ts: str = "1.2",
) -> str:
    message = SourceMessage(actor.channel_id, message_ts, "", [], ephemeral)
    payload = block_actions(
        actor, button, block_id=block_id, message=message, response_url=driver.local.response_url()
    )
    return interactive_body(payload)


def press(
    driver: SlackDriver,
    button: dict[str, Any],
    *,
    block_id: str = "b1",
    ephemeral: bool = True,
    user_id: str | None = None,
    team_id: str | None = None,
    channel_id: str | None = None,
    message_ts: str = "1.2",
) -> BoltResponse:
    """Press a button in a message: ephemeral (cards, lists) or not (digest DMs, shared cards),
    in the driver's channel or in the given one (a DM, the group DM of an invitation)."""
    actor = driver.actor(user_id=user_id, team_id=team_id, channel_id=channel_id)
    body = _press_body(driver, button, actor, block_id=block_id, ephemeral=ephemeral, message_ts=message_ts)
    return driver.dispatch(body)


def press_in_view(
    driver: SlackDriver,
    view: dict[str, Any],
    button: dict[str, Any],
    *,
    block_id: str = "b1",
    user_id: str | None = None,
    team_id: str | None = None,
) -> BoltResponse:
    """Press a button in a view (the Home tab): no response_url, a `view` container."""
    actor = driver.actor(user_id=user_id, team_id=team_id)
    return driver.dispatch(interactive_body(block_actions(actor, button, block_id=block_id, view=view)))


def submit_view(
    driver: SlackDriver,
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    *,
    user_id: str | None = None,
    team_id: str | None = None,
) -> BoltResponse:
    """Submit a modal with `state.values` (block_id → {action_id → state})."""
    filled = {**view, "state": {"values": values}}
    actor = driver.actor(user_id=user_id, team_id=team_id)
    return driver.dispatch(interactive_body(view_submission(actor, filled)))


def open_home(
    driver: SlackDriver, *, user_id: str | None = None, team_id: str | None = None, tab: str = "home"
) -> BoltResponse:
    """An `app_home_opened` Events API delivery (JSON)."""
    event = {"type": "app_home_opened", "user": user_id or driver.user_id, "channel": "D0HOME", "tab": tab}
    return driver.dispatch(event_callback(team_id or driver.team_id, event), content_type=JSON)


def dm_body(
    driver: SlackDriver,
    text: str,
    *,
    user_id: str | None = None,
    channel_id: str = "D0ALICE",
    event_id: str | None = None,
    **fields: Any,
) -> str:
    """The Events API delivery (JSON) of `text` typed in a DM with the app (see direct_message)."""
    actor = driver.actor(user_id=user_id, channel_id=channel_id)
    return event_callback(driver.team_id, direct_message(actor, text, **fields), event_id=event_id)


def send_dm(driver: SlackDriver, text: str, **kwargs: Any) -> BoltResponse:
    """Type `text` to the app in its DM (the Messages tab); the answer is a chat.postMessage."""
    return driver.dispatch(dm_body(driver, text, **kwargs), content_type=JSON)


def published_home(driver: SlackDriver, user_id: str | None = None) -> dict[str, Any]:
    """The newest Home tab view the app published for a user."""
    calls = [
        c
        for c in driver.local.calls_to("views.publish")
        if c.params.get("user_id") == (user_id or driver.user_id)
    ]
    assert calls, "the app published no Home tab"
    view = calls[-1].params["view"]
    return json.loads(view) if isinstance(view, str) else view


# -- reading messages --------------------------------------------------------------------------


def all_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message's blocks, joined, for assertions on what a person sees."""
    parts: list[str] = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)


def placed_elements(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) of every element of a message or view that can be pressed or chosen
    (in actions blocks and section accessories), in order; blocks without an id get "b<index>"."""
    for index, block in enumerate(message.get("blocks", [])):
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            yield str(block.get("block_id") or f"b{index}"), element


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Buttons of a message by their label."""
    return {e["text"]["text"]: e for _, e in placed_elements(message) if e.get("type") == "button"}


def more_buttons(driver: SlackDriver, card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Press a card's "More…" and return the buttons it offers (collaborators, graph, share, links)."""
    more = buttons(card)["More…"]
    driver.press(more["action_id"], more["value"])
    return buttons(driver.last_reply())


def button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The button with that action_id in a message or view."""
    for _, element in placed_elements(message):
        if element.get("action_id") == action_id:
            return dict(element)
    raise AssertionError(f"no {action_id} button in {all_text(message)[:300]!r}")


def element_ids(message: dict[str, Any]) -> set[str]:
    """Every action_id of a message's buttons and menus."""
    return {str(e["action_id"]) for _, e in placed_elements(message) if e.get("action_id")}


# -- accessibility -----------------------------------------------------------------------------


def sent_surfaces(call: RecordedCall) -> list[dict[str, Any]]:
    """The messages and views one recorded call carried (blocks as lists, JSON decoded)."""
    params = call.params
    surfaces: list[dict[str, Any]] = []
    view = params.get("view")
    if view:
        surfaces.append(json.loads(view) if isinstance(view, str) else dict(view))
    blocks = params.get("blocks")
    if blocks:
        surfaces.append({"blocks": json.loads(blocks) if isinstance(blocks, str) else blocks})
    return surfaces


def unlabelled_buttons(surface: dict[str, Any]) -> list[str]:
    """Buttons of a message or view without an accessibility_label of 1–75 characters, as
    "text (action_id)"."""
    found = []
    for block in surface.get("blocks", []):
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            label = element.get("accessibility_label")
            if element.get("type") == "button" and not (isinstance(label, str) and 0 < len(label) <= 75):
                found.append(f"{element['text']['text']} ({element.get('action_id')}): {label!r}")
    return found


def assert_buttons_labelled(calls: list[RecordedCall]) -> None:
    """Fail when any message or view sent to Slack has a button a screen reader cannot name."""
    missing = [
        f"{call.method}: {problem}"
        for call in calls
        for surface in sent_surfaces(call)
        for problem in unlabelled_buttons(surface)
    ]
    assert not missing, "buttons without a usable accessibility_label:\n" + "\n".join(missing)
