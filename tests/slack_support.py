"""Signed Slack requests for tests: slash commands and button presses through app.dispatch."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.local.signed_requests import trigger_id
from bot.local.slack_server import LocalSlack


def signed_headers(
    secret: str, body: str, *, content_type: str, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
    }


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
    sent: list[dict[str, Any]] = field(default_factory=list)

    def command_body(self, text: str, **overrides: str) -> str:
        form = {
            "token": "legacy",
            "team_id": overrides.get("team_id", self.team_id),
            "team_domain": "lab",
            "channel_id": self.channel_id,
            "channel_name": "general",
            "user_id": overrides.get("user_id", self.user_id),
            "user_name": "alice",
            "command": self.command_name,
            "text": text,
            "api_app_id": "A0APP",
            "is_enterprise_install": "false",
            "response_url": self.local.response_url(),
            "trigger_id": trigger_id(),
        }
        return urlencode(form)

    def command(self, text: str, **overrides: str) -> BoltResponse:
        body = self.command_body(text, **overrides)
        headers = signed_headers(self.secret, body, content_type="application/x-www-form-urlencoded")
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def action_body(
        self,
        action_id: str,
        value: str | None,
        *,
        user_id: str | None = None,
        team_id: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str:
        team = team_id or self.team_id
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "lab"},
            "user": {"id": user_id or self.user_id, "username": "alice", "team_id": team},
            "api_app_id": "A0APP",
            "token": "legacy",
            "container": {
                "type": "message",
                "message_ts": "1.2",
                "channel_id": self.channel_id,
                "is_ephemeral": True,
            },
            "trigger_id": trigger_id(),
            "channel": {"id": self.channel_id, "name": "general"},
            "message": {"type": "message", "ts": "1.2", "blocks": blocks or []},
            "response_url": self.local.response_url(),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "type": "button",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)})

    def press(self, action_id: str, value: str | None, **kwargs: Any) -> BoltResponse:
        body = self.action_body(action_id, value, **kwargs)
        headers = signed_headers(self.secret, body, content_type="application/x-www-form-urlencoded")
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def replies(self) -> list[dict[str, Any]]:
        """Bodies the app posted to response_urls, oldest first."""
        return [call.params for call in self.local.calls_to("response_url")]

    def last_reply(self) -> dict[str, Any]:
        replies = self.replies()
        assert replies, "the app sent no reply"
        return replies[-1]


def all_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message's blocks, joined, for assertions on what a person sees."""
    parts: list[str] = [message.get("text", "")]

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


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Buttons of a message by their label."""
    found: dict[str, dict[str, Any]] = {}
    for block in message.get("blocks", []):
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements = [*elements, block["accessory"]]
        for element in elements:
            if element.get("type") == "button":
                found[element["text"]["text"]] = element
    return found
