"""Signed Slack payloads for follows, digests and the Home tab: presses from any surface,
`view_submission` and `app_home_opened`, shaped like Slack's (slack-facts §1.3)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest
from sqlalchemy.engine import Engine

from services.research.researchers import set_names
from services.store.engine import session_scope
from services.store.models import Researcher
from tests.slack_support import SlackDriver, signed_headers

FORM = "application/x-www-form-urlencoded"
_TRIGGERS = itertools.count(1)


def _envelope(kind: str, driver: SlackDriver, user_id: str | None, team_id: str | None) -> dict[str, Any]:
    team = team_id or driver.team_id
    return {
        "type": kind,
        "team": {"id": team, "domain": "lab"},
        "user": {"id": user_id or driver.user_id, "username": "someone", "team_id": team},
        "api_app_id": "A0APP",
        "token": "legacy",
        # Slack issues one trigger_id per invocation (the app deduplicates deliveries by it).
        "trigger_id": f"{int(time.time())}.{next(_TRIGGERS)}.abcd",
    }


def _dispatch_form(driver: SlackDriver, payload: dict[str, Any]) -> BoltResponse:
    body = urlencode({"payload": json.dumps(payload)})
    headers: dict[str, str | Sequence[str]] = {**signed_headers(driver.secret, body, content_type=FORM)}
    return driver.app.dispatch(BoltRequest(body=body, headers=headers))


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
    channel = channel_id or driver.channel_id
    payload = _envelope("block_actions", driver, user_id, team_id)
    payload.update(
        container={
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        channel={"id": channel, "name": "general"},
        response_url=driver.local.response_url(),
        actions=[_action(button, block_id)],
    )
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    return _dispatch_form(driver, payload)


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
    payload = _envelope("block_actions", driver, user_id, team_id)
    payload.update(
        container={"type": "view", "view_id": view.get("id")},
        view=view,
        actions=[_action(button, block_id)],
    )
    return _dispatch_form(driver, payload)


def _action(button: dict[str, Any], block_id: str) -> dict[str, Any]:
    return {
        "action_id": button["action_id"],
        "block_id": block_id,
        "type": "button",
        "text": button.get("text"),
        "value": button.get("value"),
        "action_ts": f"{time.time():.6f}",
    }


def submit_view(
    driver: SlackDriver,
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    *,
    user_id: str | None = None,
    team_id: str | None = None,
) -> BoltResponse:
    """Submit a modal with `state.values` (block_id → {action_id → state})."""
    payload = _envelope("view_submission", driver, user_id, team_id)
    payload.update(view={**view, "state": {"values": values}}, response_urls=[])
    return _dispatch_form(driver, payload)


def open_home(
    driver: SlackDriver, *, user_id: str | None = None, team_id: str | None = None, tab: str = "home"
) -> BoltResponse:
    """An `app_home_opened` Events API delivery (JSON)."""
    team = team_id or driver.team_id
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user_id or driver.user_id,
                "channel": "D0HOME",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
            "authorizations": [
                {"team_id": team, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )
    headers: dict[str, str | Sequence[str]] = {
        **signed_headers(driver.secret, body, content_type="application/json")
    }
    return driver.app.dispatch(BoltRequest(body=body, headers=headers))


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


def add_researcher(engine: Engine, name: str, *, openalex_id: str | None = None) -> int:
    """A researcher (no works) searchable by name."""
    with session_scope(engine) as session:
        researcher = Researcher(
            slug=name.lower().replace(" ", "-"), source="bzpeer", name=name, openalex_id=openalex_id
        )
        session.add(researcher)
        session.flush()
        assert researcher.id is not None
        set_names(session=session, researcher_id=researcher.id, primary=name)
        return researcher.id
