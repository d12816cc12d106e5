"""The one error handler: a clear ephemeral message with a short id that is also in the log.

A store that cannot be reached or written (down, locked, read-only) is not a bug and gets no
error id: the person is told to try again in a minute, and an event is answered 503 so that
Slack retries it instead of counting it as delivered.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookClient

from handlers.blocks import Reply, section
from services.store.engine import store_unavailable

log = logging.getLogger("bzpeer.errors")

STORE_DOWN_TEXT = "BZPEER can't reach its database right now — try again in a minute."


def error_reply(error_id: str) -> Reply:
    text = (
        f"Sorry, something went wrong on our side (error id `{error_id}`). "
        "Try again in a moment; if it keeps happening, give this id to your workspace admin."
    )
    return Reply(f"Something went wrong (error id {error_id})", [section(text)])


def store_down_reply() -> Reply:
    return Reply(STORE_DOWN_TEXT, [section(STORE_DOWN_TEXT)])


def report(error: Exception, body: dict[str, Any], client: WebClient | None = None) -> None:
    """Log the error (with a fresh id, unless the store is unavailable), and tell the person
    through the request's response_url, or (text typed in the bot's DM has none) in that DM."""
    if store_unavailable(error):
        _log_store_down(error)
        reply = store_down_reply()
    else:
        error_id = uuid.uuid4().hex[:8]
        log.exception("unhandled error %s", error_id, exc_info=error)
        reply = error_reply(error_id)
    response_url = response_url_of(body)
    event = body.get("event")
    event = event if isinstance(event, dict) else {}
    if response_url:
        WebhookClient(response_url).send(response_type="ephemeral", **reply.payload())
    elif client is not None and event.get("type") == "message" and event.get("channel_type") == "im":
        try:
            client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts"), **reply.payload()
            )
        except (SlackClientError, OSError, KeyError) as failed:
            log.warning("could not tell the person about the error in their DM: %s", failed)


def store_down_response(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """The answer to a request that failed because the store is unavailable.

    Events: 503, and Slack retries (a 200 would end its retries with the effect lost). Modal
    submissions: 503 too, so the modal stays open, with Slack's "trouble connecting" and the
    person's input kept for another try. Slash commands: the message in the ack itself, which
    needs no store and no extra call to Slack; anything else: the message by response_url.
    """
    if body.get("type") in ("event_callback", "view_submission"):
        _log_store_down(error)
        return BoltResponse(status=503, body="store unavailable, retry later")
    if "command" in body:
        _log_store_down(error)
        return BoltResponse(status=200, body={"response_type": "ephemeral", **store_down_reply().payload()})
    report(error, body)
    return BoltResponse(status=200, body="")


def _log_store_down(error: Exception) -> None:
    cause = getattr(error, "orig", None) or error
    first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    log.warning("store unavailable: %s: %s", type(cause).__name__, first_line)


def response_url_of(body: dict[str, Any]) -> str | None:
    """Where a request can be answered: a command's or button's response_url, or the first of a
    modal's response_urls (a modal has one only with a conversation select); events have none."""
    response_url = body.get("response_url")
    urls = body.get("response_urls")
    if not response_url and isinstance(urls, list):
        response_url = next((url.get("response_url") for url in urls if isinstance(url, dict)), None)
    return response_url if isinstance(response_url, str) and response_url else None


def register(app: App) -> None:
    """Install the app-wide error handler."""

    @app.error
    def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        if store_unavailable(error):
            return store_down_response(error, body)
        report(error, body)
        return BoltResponse(status=200, body="")
