"""Request bodies exactly as Slack sends them to an app, signed with the signing secret.

Shapes: slash command form fields (slack-facts §1.1), `block_actions`, `view_submission` and
`view_closed` payloads (§1.3), all form-encoded, interactive ones as one `payload` JSON field.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.local.block_render import Control

APP_ID = "A0LOCAL"
# The deprecated verification token Slack still sends; Bolt ignores it.
VERIFICATION_TOKEN = "local-verification-token"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Actor:
    """Who is typing, where: the workspace, the person and the conversation."""

    team_id: str
    user_id: str
    channel_id: str


@dataclass
class SourceMessage:
    """A message on screen whose buttons can be pressed."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    ephemeral: bool
    thread_ts: str | None = None


def trigger_id() -> str:
    """A trigger_id shaped like Slack's."""
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def signed_headers(verifier: SignatureVerifier, body: str) -> dict[str, str | Sequence[str]]:
    """Content type plus X-Slack-Request-Timestamp and X-Slack-Signature for `body`."""
    timestamp = str(int(time.time()))
    signature = verifier.generate_signature(timestamp=timestamp, body=body) or ""
    return {
        "content-type": FORM,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }


def slash_command_body(actor: Actor, command: str, text: str, response_url: str) -> str:
    """The form body of a slash command invocation, with the text escaped as Slack escapes it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": actor.team_id,
            "team_domain": "local",
            "channel_id": actor.channel_id,
            "channel_name": "directmessage" if actor.channel_id.startswith("D") else "local",
            "user_id": actor.user_id,
            "user_name": "local",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id(),
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """The form body Slack posts for interactions: one `payload` field holding JSON."""
    return urlencode({"payload": json.dumps(payload)})


def _envelope(kind: str, actor: Actor) -> dict[str, Any]:
    return {
        "type": kind,
        "user": {
            "id": actor.user_id,
            "username": "local",
            "name": "local",
            "team_id": actor.team_id,
        },
        "team": {"id": actor.team_id, "domain": "local"},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": trigger_id(),
    }


def block_actions(
    actor: Actor,
    control: Control,
    *,
    message: SourceMessage | None = None,
    view: dict[str, Any] | None = None,
    response_url: str | None = None,
    bot_user_id: str = "U0BOT",
) -> dict[str, Any]:
    """A `block_actions` payload for pressing `control` in a message or in a view."""
    action: dict[str, Any] = {
        "type": control.element.get("type"),
        "action_id": control.action_id,
        "block_id": control.block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if control.option is not None:
        action["selected_option"] = control.option
    else:
        action.update(text=control.element.get("text"), value=control.value)
    payload = _envelope("block_actions", actor)
    payload.update(actions=[action], state={"values": {}})
    if view is not None:
        payload.update(container={"type": "view", "view_id": view.get("id")}, view=view)
        return payload
    if message is None:
        raise ValueError("a block action comes from a message or a view")
    payload["container"] = {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": message.ephemeral,
    }
    payload["channel"] = {"id": message.channel, "name": message.channel.lower()}
    payload["response_url"] = response_url
    if not message.ephemeral:
        # Slack includes the source message only when it is not ephemeral; for ephemeral
        # messages apps get `container` alone (a captured real payload shows the same).
        payload["message"] = {
            "type": "message",
            "user": bot_user_id,
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
            **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
        }
    return payload


def view_submission(actor: Actor, view: dict[str, Any]) -> dict[str, Any]:
    """A `view_submission` payload for a view whose `state.values` are filled in."""
    return {**_envelope("view_submission", actor), "view": view, "response_urls": []}


def view_closed(actor: Actor, view: dict[str, Any]) -> dict[str, Any]:
    """A `view_closed` payload (sent only for views opened with notify_on_close)."""
    return {**_envelope("view_closed", actor), "view": view, "is_cleared": False}
