"""Global Bolt middleware: never act twice on one Slack delivery, and bring a single-workspace
install's parked state back on its first request."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from services.slack_requests.dedupe import DedupeService
from services.workspaces.lifecycle import WorkspaceService

log = logging.getLogger("bzpeer.middleware")

Next = Callable[[], BoltResponse]
Middleware = Callable[..., BoltResponse]
_MAX_KEY = 255
# Events that arrive after the app lost access to the workspace; they must not un-park it.
REVOCATION_EVENTS = ("app_uninstalled", "tokens_revoked")
# Events whose listener records the delivery key in the transaction of the event's effect
# (handlers/events.py): Slack retries an event until it gets a 200, so a key recorded here,
# before an effect that then failed, would turn away the very retry that could complete it.
KEYED_BY_LISTENER = REVOCATION_EVENTS


def delivery_key(body: dict[str, Any]) -> str | None:
    """A key naming one Slack delivery, the same for every retry or replay of it.

    Events carry an `event_id`; commands and interactions a `trigger_id` that Slack issues once
    per invocation (plus, for button presses, the `action_ts`). Option look-ups have neither
    and change nothing, so they are never deduplicated.
    """
    if body.get("type") == "event_callback":
        event_id = body.get("event_id")
        return f"event:{event_id}" if event_id else None
    trigger_id = body.get("trigger_id")
    if "command" in body:
        parts = ["command", body.get("team_id"), body.get("user_id"), trigger_id]
    elif body.get("type") in ("block_actions", "view_submission", "shortcut", "message_action"):
        user = body.get("user") or {}
        team = (body.get("team") or {}).get("id") or user.get("team_id")
        action_ts = ((body.get("actions") or [{}])[0]).get("action_ts")
        if not (trigger_id or action_ts):
            return None
        parts = [str(body["type"]), team, user.get("id"), trigger_id, action_ts]
    else:
        return None
    if not trigger_id and parts[0] == "command":
        return None
    key = ":".join(str(part or "") for part in parts)
    if len(key) > _MAX_KEY:
        key = f"{parts[0]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def dedupe_middleware(dedupe: DedupeService) -> Middleware:
    """Ack a delivery seen before (by any process) with 200 and run no listener.

    A retry (`X-Slack-Retry-Num`) of a delivery that did reach us is dropped this way; a retry
    whose first attempt never arrived (a crashed process, a 5xx at the load balancer) is the
    first sighting and runs once, so the event is not lost either. When the store cannot record
    the key, the check raises and the app's error handler answers (an event: 503, so Slack
    retries it later).
    """

    def deduplicate(req: BoltRequest, next: Next) -> BoltResponse:
        key = delivery_key(req.body)
        retried = bool(req.headers.get("x-slack-retry-num"))
        if key is None and not retried:
            return next()
        if key is not None and _event_type(req.body) in KEYED_BY_LISTENER:
            if not dedupe.seen(key):
                req.context["delivery_key"] = key
                return next()
        elif key is not None and dedupe.first_sighting(key):
            return next()
        # A retry we cannot identify is dropped too: acting twice is worse than not at all.
        req.context["duplicate"] = True
        return BoltResponse(status=200, body="")

    return deduplicate


def _event_type(body: dict[str, Any]) -> str | None:
    if body.get("type") != "event_callback":
        return None
    event = body.get("event")
    return str(event.get("type")) if isinstance(event, dict) else None


def restore_once_middleware(workspaces: WorkspaceService) -> Middleware:
    """Single-workspace mode: un-park the workspace on the first request each process sees.

    An uninstall revokes SLACK_BOT_TOKEN, so a reinstall means a new token and a restart;
    the first request after it is the sign that the workspace is back. (With OAuth, the
    install callback does this instead.)
    """
    seen: set[str] = set()
    lock = threading.Lock()

    def restore(req: BoltRequest, next: Next) -> BoltResponse:
        team_id = req.context.team_id
        event = (req.body.get("event") or {}).get("type")
        if team_id and team_id not in seen and event not in REVOCATION_EVENTS:
            with lock:
                first = team_id not in seen
                seen.add(team_id)
            if first:
                workspaces.restore(team_id)
        return next()

    return restore
