"""Signed `/peer` requests into a Bolt app, as Slack sends them (the benchmark's own driver).

tests/slack_support.py does the same for the test suite; the benchmark keeps a copy of the few
lines it needs so that `benchmarks` does not import the test package.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.local.slack_server import LocalSlack


@dataclass(frozen=True)
class SlashCommands:
    """Sends signed slash commands through `app.dispatch`; replies land on the local Slack."""

    app: App
    local: LocalSlack
    secret: str
    command_name: str = "/peer"

    def send(self, text: str) -> BoltResponse:
        """One signed `/peer TEXT`, with a fresh response_url on the local Slack."""
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T0TEAM1",
                "team_domain": "lab",
                "channel_id": "C0GENERAL",
                "channel_name": "general",
                "user_id": "U0BENCH",
                "user_name": "bench",
                "command": self.command_name,
                "text": text,
                "api_app_id": "A0APP",
                "is_enterprise_install": "false",
                "response_url": self.local.response_url(),
                # Slack issues one per invocation; the app's dedupe middleware drops repeats.
                "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:12]}",
            }
        )
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=timestamp, body=body)
        assert signature is not None
        headers: dict[str, str | Sequence[str]] = {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }
        return self.app.dispatch(BoltRequest(body=body, headers=headers))


def message_text(message: dict[str, Any]) -> str:
    """Every piece of text in a message (fallback and blocks), joined, as a person reads it."""
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
