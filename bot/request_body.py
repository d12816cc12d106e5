"""The body of a request to /slack/events, parsed for Bolt: storable text, and only shapes Slack sends.

Bolt parses the body before it checks the signature, and builds the request's context from it
(team, user, channel) with code that assumes Slack's shapes: `{"team": 5}` or an event that is a
string raised there and answered 500, and JSON nested 100,000 levels deep exhausted the stack.
Here nothing raises. A body Slack would not send parses as an empty MalformedBody; the signature
check then answers it 401 when unsigned and 400 when signed (bot/app.py). Socket Mode's payloads
come parsed from Slack's socket and only need their text made storable (storable_socket_body).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from services.store.text import storable_tree

# Slack's deepest payloads (rich text inside a modal's state) nest about a dozen levels.
MAX_NESTING = 64

# The fields Bolt (building the context, matching listeners) and the listeners read from a
# payload and from the objects nested in it, and what Slack sends in each: text or null...
_TEXT = frozenset(
    {
        "id",
        "type",
        "subtype",
        "command",
        "callback_id",
        "action_id",
        "block_id",
        "value",
        "private_metadata",
        "team_id",
        "user_id",
        "channel_id",
        "enterprise_id",
        "app_installed_team_id",
        "user_team",
        "context_team_id",
        "context_enterprise_id",
        "api_app_id",
        "trigger_id",
        "response_url",
        "event_id",
        "ts",
        "thread_ts",
        "message_ts",
        "channel_type",
        "tab",
        "bot_id",
        "function_execution_id",
        "bot_access_token",
    }
)
# ...an id, or an object with one ("team": "T1" in events, {"id": "T1", ...} in interactions)...
_ID_OR_OBJECT = frozenset({"team", "user", "channel", "enterprise"})
# ...objects, checked by the same rules...
_OBJECTS = frozenset(
    {"event", "message", "previous_message", "item", "assistant_thread", "view", "container", "function_data"}
)
# ...lists of such objects...
_OBJECT_LISTS = frozenset({"actions", "authorizations", "response_urls"})
# ...and flags (booleans; forms send them as text).
_FLAGS = frozenset({"is_enterprise_install", "is_ext_shared_channel"})
# A slash command's text is top-level only (a button's `text` is an object).
_TOP_TEXT = frozenset({"text", "token"})
# Any of them may be null, except these, which Bolt indexes whenever they are present.
_NEVER_NULL = frozenset({"event", "view", "actions", "response_urls"})


class MalformedBody(dict[str, Any]):
    """An empty body standing in for one Slack would not send; `reason` says what was wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's body parser, total: JSON, a form, or a form whose `payload` field is JSON, with
    every string made storable (services.store.text.storable) where Slack's text enters.

    Unlike Bolt 1.30's, a form that merely contains the text "payload" stays a form (so
    `/peer payload` is a command); only a real `payload` field is parsed as JSON.
    """
    if not body:
        return MalformedBody("empty body")
    try:
        if content_type == "application/json" or body.startswith("{"):
            parsed = json.loads(body)
        else:
            params = dict(parse_qsl(body, keep_blank_values=True))
            parsed = json.loads(params["payload"]) if "payload" in params else params
    except RecursionError:  # the json module recurses once per level
        return MalformedBody("nested too deeply")
    except ValueError:
        return MalformedBody("not JSON")
    if not isinstance(parsed, dict):
        return MalformedBody("not a JSON object")
    if _nesting_exceeds(parsed, MAX_NESTING):
        return MalformedBody("nested too deeply")
    cleaned: dict[str, Any] = storable_tree(parsed)  # type: ignore[assignment]
    problem = _shape_problem(cleaned, top=True)
    if problem is None and len(cleaned.get("response_urls") or ()) > 1:
        # Bolt 1.30 logs a debug line through a context logger it has not set yet, and raises.
        # Only modals with several response_url_enabled inputs send more than one; ours don't.
        problem = "more than one response_url"
    return MalformedBody(problem) if problem else cleaned


def storable_socket_body(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Socket Mode's middleware: its payloads arrive parsed, never through parse_body, so their
    text is made storable here, before any listener reads it."""
    req.body = storable_tree(req.body)  # type: ignore[assignment]
    return next()


def _nesting_exceeds(value: object, limit: int) -> bool:
    # Iterative: the point is to refuse what would overflow a recursive walk later on.
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _shape_problem(payload: dict[str, Any], *, top: bool = False) -> str | None:
    """The first field whose type Slack never sends, as "'team' is not an id or an object"."""
    for key, value in payload.items():
        if value is None:
            if key in _NEVER_NULL:
                return f"{key!r} is null"
            continue
        if key in _TEXT or (top and key in _TOP_TEXT):
            if not isinstance(value, str):
                return f"{key!r} is not text"
        elif key in _FLAGS:
            if not isinstance(value, bool | str):
                return f"{key!r} is not a flag"
        elif key in _ID_OR_OBJECT:
            if isinstance(value, dict):
                problem = _shape_problem(value)
                if problem:
                    return f"{key}: {problem}"
            elif not isinstance(value, str):
                return f"{key!r} is not an id or an object"
        elif key in _OBJECTS:
            if not isinstance(value, dict):
                return f"{key!r} is not an object"
            problem = _shape_problem(value)
            if problem:
                return f"{key}: {problem}"
        elif key in _OBJECT_LISTS:
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                return f"{key!r} is not a list of objects"
            for item in value:
                problem = _shape_problem(item)
                if problem:
                    return f"{key}: {problem}"
    return None
