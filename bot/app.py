"""Builds the Bolt app: one Web API client on SLACK_API_URL, every listener registered."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import slack_bolt.request.request as bolt_request
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.settings import Settings
from handlers import register_all
from services.container import Services


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's body parser without its bug: Bolt 1.30 drops any form body that merely contains
    the text "payload" (so `/peer payload` vanished); only a real `payload` field is JSON."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        parsed: dict[str, Any] = json.loads(body)
        return parsed
    params = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in params:
        payload: dict[str, Any] = json.loads(params["payload"])
        return payload
    return params


def web_client(settings: Settings, token: str | None = None) -> WebClient:
    """A Web API client on SLACK_API_URL that honours Slack's Retry-After on 429."""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=10)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_bolt_app(
    settings: Settings,
    services: Services,
    *,
    process_before_response: bool = False,
    authorize: Callable[..., AuthorizeResult] | None = None,
    socket_mode: bool = False,
) -> App:
    """The Bolt app with every listener; no module-level state."""
    bolt_request.parse_body = parse_body
    app = App(
        client=web_client(settings, None if authorize else settings.slack_bot_token),
        signing_secret=settings.slack_signing_secret or "",
        authorize=authorize,
        # auth.test happens on the first request instead of at import time.
        token_verification_enabled=False,
        request_verification_enabled=not socket_mode,
        process_before_response=process_before_response,
    )
    register_all(app, services, command=settings.bzpeer_command)
    return app
