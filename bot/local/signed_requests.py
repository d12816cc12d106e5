"""Requests exactly as Slack sends them to an app, signed with the signing secret: the one builder
the local shell, the tests and the benchmarks share.

Shapes follow Slack's docs: slash command form fields; `block_actions`, `view_submission` and
`view_closed` payloads, form-encoded as one `payload` JSON field; Events API `event_callback`
envelopes as JSON.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

APP_ID = "A0LOCAL"
BOT_USER_ID = "U0BOT"
# The deprecated verification token Slack still sends; Bolt ignores it.
VERIFICATION_TOKEN = "local-verification-token"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


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


@dataclass(frozen=True)
class SignedRequest:
    """One request as Slack sends it: body, headers, and the response_url it names (if any)."""

    body: str
    headers: dict[str, str]
    response_url: str = ""


def trigger_id() -> str:
    """A trigger_id shaped like Slack's, fresh for every request (the app deduplicates by it)."""
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def signed_headers(
    secret: str, body: str, *, content_type: str = FORM, timestamp: int | None = None
) -> dict[str, str]:
    """Content type plus X-Slack-Request-Timestamp and X-Slack-Signature for `body`, signed now
    (or as if at `timestamp`, for stale and future signatures)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }


def sign(
    secret: str, body: str, *, content_type: str = FORM, response_url: str = "", **extra_headers: str
) -> SignedRequest:
    """`body` with its signed headers (and any others, e.g. Slack's retry headers)."""
    headers = {**signed_headers(secret, body, content_type=content_type), **extra_headers}
    return SignedRequest(body, headers, response_url)


def escape_typed(text: str) -> str:
    """Text a person typed as Slack sends it in a slash command: &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slash_command_body(actor: Actor, command: str, text: str, response_url: str) -> str:
    """The form body of a slash command invocation; `text` as Slack sends it (see escape_typed)."""
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
    element: Mapping[str, Any],
    *,
    block_id: str = "b1",
    option: dict[str, Any] | None = None,
    message: SourceMessage | None = None,
    view: dict[str, Any] | None = None,
    response_url: str | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """A `block_actions` payload for pressing a button (or choosing `option` of a menu) in
    block `block_id` of a message or of a view."""
    action: dict[str, Any] = {
        "type": element.get("type"),
        "action_id": element.get("action_id"),
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if option is not None:
        action["selected_option"] = option
    else:
        action.update(text=element.get("text"), value=element.get("value"))
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


def event_callback(
    team_id: str, event: dict[str, Any], *, event_id: str | None = None, bot_user_id: str = BOT_USER_ID
) -> str:
    """The JSON body of an Events API delivery of `event` in workspace `team_id`."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team_id, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )


def direct_message(actor: Actor, text: str, **fields: Any) -> dict[str, Any]:
    """A `message` event (subscription `message.im`): `actor` typed `text` in their DM with the
    app, `actor.channel_id` being that DM; `text` as Slack sends it (see escape_typed). `fields`
    add or override keys (`subtype`, `bot_id`, `thread_ts`)."""
    return {
        "type": "message",
        "channel": actor.channel_id,
        "user": actor.user_id,
        "text": text,
        "ts": f"{time.time():.6f}",
        "team": actor.team_id,
        "client_msg_id": str(uuid.uuid4()),
        "channel_type": "im",
        **fields,
    }
