"""Exactly once across Slack timeouts (issue 14): a Slack client never sends again a request
that reached Slack; the senders look the message up instead."""

from __future__ import annotations

from http.client import RemoteDisconnected
from urllib.error import URLError

from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.state import RetryState

from bot.app import web_client
from bot.settings import Settings


def test_the_web_client_never_resends_a_request_that_reached_slack(settings: Settings) -> None:
    handlers = web_client(settings).retry_handlers
    request = HttpRequest(method="POST", url=settings.slack_api_url + "chat.postMessage", headers={})

    def retried(error: Exception) -> bool:
        return any(h.can_retry(state=RetryState(), request=request, error=error) for h in handlers)

    assert retried(URLError(ConnectionRefusedError()))  # it never left this machine
    # Dropped or timed out mid-answer: Slack may have posted it; the senders look it up instead.
    assert not any(retried(e) for e in (ConnectionResetError(), RemoteDisconnected(), TimeoutError()))
