"""Builds the Bolt app: one Web API client on SLACK_API_URL, every listener registered."""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any
from urllib.error import URLError

import slack_bolt.request.request as bolt_request
from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.listener.thread_runner import ThreadListenerRunner
from slack_bolt.middleware.request_verification import RequestVerification
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier

from bot.logs import LoggingApp
from bot.metrics import Metrics
from bot.middleware import dedupe_middleware, restore_once_middleware
from bot.oauth import oauth_app_options
from bot.pools import ListenerPools
from bot.request_body import MalformedBody, parse_body, storable_socket_body
from bot.settings import Settings
from handlers.background import answered
from handlers.listeners import register_all
from services.container import Services


class StrictSignatureVerifier(SignatureVerifier):
    """slack_sdk's verifier, except that a timestamp that is not a number is simply invalid.

    slack_sdk raises ValueError on one; Bolt then hands the exception, with the request's
    unverified body, to the app's error handler, which would answer 200 and post an error
    message to whatever `response_url` the forger wrote into the body.
    """

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        try:
            int(timestamp or "")
        except (TypeError, ValueError):
            return False
        return super().is_valid(body, timestamp, signature)


class StrictRequestVerification(RequestVerification):
    """Bolt's signature check with the strict verifier, logging a refusal without the body
    (Bolt logs the raw body at INFO: the typed text and the request's response_url).

    A signed body Slack would not send (bot/request_body.py) stops here with a 400; an unsigned
    one gets the 401 of any unsigned request, so a forger learns nothing about the parser.
    """

    def __init__(self, signing_secret: str) -> None:
        super().__init__(signing_secret)
        self._strict = StrictSignatureVerifier(signing_secret=signing_secret)

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        body = req.body
        if isinstance(body, MalformedBody):
            return super().process(
                req=req, resp=resp, next=lambda: BoltResponse(status=400, body={"error": body.reason})
            )
        return super().process(req=req, resp=resp, next=next)

    @property
    def verifier(self) -> SignatureVerifier:
        return self._strict

    def _debug_log_error(self, signature: str, timestamp: str, body: str) -> None:
        self.logger.info("Invalid request signature detected (timestamp: %.20s)", timestamp)


def _harden_request_verification(app: App, signing_secret: str) -> None:
    # Bolt has no public hook for its verification middleware; swap it in place, so it still
    # runs before authorization (which would otherwise look tokens up for unsigned requests).
    middleware = app._middleware_list
    for index, item in enumerate(middleware):
        if type(item) is RequestVerification:
            middleware[index] = StrictRequestVerification(signing_secret)


# slack_sdk's handler sleeps for whatever Retry-After says, on the calling thread. Longer than
# this, the call fails now instead (a digest stays pending for the next cycle) rather than holding
# the scheduler for minutes or hours, past the lease that keeps a digest from going out twice.
MAX_RETRY_AFTER_SECONDS = 30


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retries a 429 after its Retry-After, when that wait is a number of at most `max_wait` s."""

    def __init__(self, max_retry_count: int = 2, max_wait: int = MAX_RETRY_AFTER_SECONDS) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        waits = [v for k, v in response.headers.items() if k.lower() == "retry-after"]
        if not waits:
            return True  # slack_sdk then waits a second or two
        value = waits[0][0] if isinstance(waits[0], list | tuple) and waits[0] else waits[0]
        try:
            return 0 <= int(str(value)) <= self.max_wait
        except ValueError:
            return False


# Seconds a Web API call may take before the client gives up on it.
SLACK_TIMEOUT = 10


def web_client(
    settings: Settings, token: str | None = None, *, timeout: int = SLACK_TIMEOUT, wait_on_429: bool = True
) -> WebClient:
    """A Web API client on SLACK_API_URL that honours Slack's Retry-After on 429 (short waits;
    `wait_on_429=False`: the 429 goes to the caller, who waits without blocking other work).

    A call is retried by the client only when it never reached Slack (refused, no route: a
    URLError). slack_sdk's default also retries a connection reset or dropped mid-answer, which
    for chat.postMessage posts the message a second time; those surface to the caller, and the
    digest and invitation senders look the message up by its key instead.
    """
    retries: list[RetryHandler] = [ConnectionErrorRetryHandler(error_types=[URLError])]
    if wait_on_429:
        retries.append(BoundedRateLimitRetryHandler(max_retry_count=2))
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=timeout, retry_handlers=retries)


class ContextExecutor(ThreadPoolExecutor):
    """A pool for listener work; each task runs in a copy of its submitter's context, so a lazy
    listener's log lines carry the request id of the request that started it.

    On Linux its threads run at a lower CPU priority (nice is per thread there): when a burst
    of commands saturates the cores, the request threads that ack go first and the work waits,
    instead of 32 busy listener threads starving the 8 that answer Slack.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers, thread_name_prefix, initializer=_lower_priority)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


LISTENER_NICENESS = 10


def _lower_priority() -> None:
    if sys.platform == "linux":
        # Lowering one's own priority is always allowed; if a sandbox refuses, keep it as it is.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LISTENER_NICENESS)


def _copy_lazy_requests_once(runner: ThreadListenerRunner) -> None:
    """Bolt hands each lazy listener a copy of its request made twice over: `to_copyable()` builds
    a new request from the raw HTTP body (its own body and context, the context's custom values
    deep-copied), then that copy is deep-copied whole, Web API client included. The second copy
    was a tenth of a command's CPU (benchmarks/cpu_profile.py) and guards nothing over HTTP: the
    request thread only reads the original after its ack. A Socket Mode request's copy shares
    the parsed body, so it is still copied deep."""
    build = runner._build_lazy_request

    def build_once(request: BoltRequest, lazy_func_name: str) -> BoltRequest:
        if request.mode != "http":
            return build(request, lazy_func_name)
        copied = request.to_copyable()
        copied.lazy_only = True
        copied.lazy_function_name = lazy_func_name
        # As Bolt's own: what cannot be copied is handed over as is.
        copied.context["listener_runner"] = runner
        for name in ("get_thread_context", "save_thread_context"):
            if request.context.get(name) is not None:
                copied.context[name] = request.context[name]
        return copied

    setattr(runner, "_build_lazy_request", build_once)  # noqa: B010 - Bolt has no hook for it


def _skip_lazy_when_answered(runner: ThreadListenerRunner) -> None:
    """Bolt starts a listener's lazy functions whatever its ack half did; a slash command whose
    ack carried the answer (handlers/background.py `mark_answered`) has none left to run, so its
    request is neither copied nor queued."""
    start = runner._start_lazy_function

    def start_unless_answered(lazy_func: Callable[..., None], request: BoltRequest) -> None:
        if not answered(request.context):
            start(lazy_func, request)

    setattr(runner, "_start_lazy_function", start_unless_answered)  # noqa: B010 - no hook either


class InlineExecutor(Executor):
    """Runs each task at once in the caller's thread: dispatch() returns after the lazy
    listeners' work too (tests and benchmarks that time a reply)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # kept on the future, as a pool would
            future.set_exception(error)
        return future


def build_bolt_app(
    settings: Settings,
    services: Services,
    *,
    listener_executor: Executor | None = None,
    lookup_executor: Executor | None = None,
    authorize: Callable[..., AuthorizeResult] | None = None,
    socket_mode: bool = False,
    metrics: Metrics | None = None,
) -> App:
    """The Bolt app with every listener; no module-level state.

    Bolt answers Slack when a listener's ack half returns (process_before_response); every
    listener is lazy, so its work comes after the ack (handlers/background.py) on
    `listener_executor`, by default a pool of BZPEER_LISTENER_THREADS, and OpenAlex look-ups on
    `lookup_executor`, by default a pool of BZPEER_LOOKUP_THREADS (bot/pools.py). An injected
    listener executor (tests, benchmarks) runs the look-ups too unless a lookup executor is given.
    """
    bolt_request.parse_body = parse_body
    oauth = settings.oauth_enabled and authorize is None
    client = web_client(settings, None if authorize or oauth else settings.slack_bot_token)
    # Multi-workspace install: /slack/install, /slack/oauth_redirect, per-workspace tokens.
    auth = oauth_app_options(settings, services, client) if oauth else {"authorize": authorize}
    listeners = listener_executor or ContextExecutor(
        max_workers=settings.bzpeer_listener_threads, thread_name_prefix="bolt-listener"
    )
    lookups = (
        lookup_executor
        or listener_executor
        or ContextExecutor(max_workers=settings.bzpeer_lookup_threads, thread_name_prefix="openalex-lookup")
    )
    app = LoggingApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # auth.test happens on the first request instead of at import time.
        token_verification_enabled=False,
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        listener_executor=listeners,
        **auth,
    )
    # Bolt's own runner would put every lazy listener, OpenAlex look-ups too, on the one pool.
    app.listener_runner.lazy_listener_runner = ListenerPools(
        listeners,
        lookups,
        lookup_threads=settings.bzpeer_lookup_threads,
        slots=services.lookup_slots,
        logger=app.logger,
    )
    _copy_lazy_requests_once(app.listener_runner)
    _skip_lazy_when_answered(app.listener_runner)
    if socket_mode:
        app.use(storable_socket_body)
    else:
        _harden_request_verification(app, settings.slack_signing_secret or "")
    app.use(dedupe_middleware(services.dedupe))
    if not (oauth or authorize):
        app.use(restore_once_middleware(services.workspaces))
    register_all(app, services, command=settings.bzpeer_command)
    app.metrics = metrics
    return app
