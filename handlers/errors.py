"""The one error handler: a clear ephemeral message with a short id that is also in the log."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk.webhook import WebhookClient

from handlers.blocks.common import Reply, section

log = logging.getLogger("bzpeer.errors")


def error_reply(error_id: str) -> Reply:
    text = (
        f"Sorry, something went wrong on our side (error id `{error_id}`). "
        "Try again in a moment; if it keeps happening, give this id to your workspace admin."
    )
    return Reply(f"Something went wrong (error id {error_id})", [section(text)])


def report(error: Exception, body: dict[str, Any]) -> None:
    """Log the error with a fresh id, and tell the person through the request's response_url."""
    error_id = uuid.uuid4().hex[:8]
    log.exception("unhandled error %s", error_id, exc_info=error)
    response_url = body.get("response_url") or next(
        (url.get("response_url") for url in body.get("response_urls", []) if isinstance(url, dict)),
        None,
    )
    if isinstance(response_url, str) and response_url:
        WebhookClient(response_url).send(response_type="ephemeral", **error_reply(error_id).payload())


def register(app: App) -> None:
    """Install the app-wide error handler."""

    @app.error
    def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
        report(error, body)
        return BoltResponse(status=200, body="")
