"""Signed button presses (`block_actions`) through `app.dispatch`, for the benchmarks.

Commands go through `benchmarks.slash.SlashCommands`; a press reuses its app, local Slack and
signing secret, and builds the payload with `bot.shell_payloads` (the local shell's exact shapes).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from benchmarks.slash import SlashCommands
from bot.local.block_render import Control
from bot.local.signed_requests import Actor, SourceMessage, block_actions, interactive_body, signed_headers

# The same workspace, person and channel as benchmarks.slash's commands.
ACTOR = Actor(team_id="T0TEAM1", user_id="U0BENCH", channel_id="C0GENERAL")


def buttons(message: dict[str, Any]) -> dict[str, Control]:
    """The buttons of a reply (actions blocks and section accessories), by label."""
    found: dict[str, Control] = {}
    for index, block in enumerate(message.get("blocks", [])):
        block_id = str(block.get("block_id") or f"b{index}")
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                label = str(element["text"]["text"])
                found[label] = Control(len(found) + 1, label, block_id, element)
    return found


def press(driver: SlashCommands, message: dict[str, Any], control: Control) -> BoltResponse:
    """Press `control` on `message` (an ephemeral reply) as Slack would post it to the app."""
    source = SourceMessage(
        channel=ACTOR.channel_id,
        ts="1700000000.000100",
        text=str(message.get("text", "")),
        blocks=list(message.get("blocks", [])),
        ephemeral=True,
    )
    payload = block_actions(ACTOR, control, message=source, response_url=driver.local.response_url())
    body = interactive_body(payload)
    headers = signed_headers(SignatureVerifier(driver.secret), body)
    return driver.app.dispatch(BoltRequest(body=body, headers=headers))
