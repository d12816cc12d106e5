"""Where listener work runs once Slack has its ack, and what a stopping worker does with it.

Bolt hands every lazy listener to its lazy-listener runner; this one puts OpenAlex look-ups and
imports on a small pool of their own, so a slow OpenAlex holds up other look-ups only, never
`/peer help`; lets a member have at most two look-ups in flight, whichever processes
run them (services.lookup_slots); and remembers whom each unfinished request is for, so that a
worker told to stop can tell them to try again.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.lazy_listener.internals import build_runnable_function
from slack_bolt.lazy_listener.runner import LazyListenerRunner
from slack_bolt.request import BoltRequest
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import SQLAlchemyError

from bot.logs import request_kind
from handlers import messages
from handlers.background import runs_on_lookup_pool
from handlers.blocks import Reply
from handlers.errors import response_url_of
from services.openalex.lookup_slots import LookupSlots

log = logging.getLogger("bzpeer.pools")

# Each look-up may take OpenAlex's whole budget: one admitted behind more than this many waiting
# per look-up thread would wait minutes, so it is turned away ("busy") instead.
WAITING_LOOKUPS_PER_THREAD = 4
# The try-again notices of a stopping worker go out side by side, each given this long.
NOTICE_THREADS = 8
NOTICE_TIMEOUT_SECONDS = 3


@dataclass(eq=False)
class _Request:
    """The lazy work of one Slack request, and whom to tell if it is dropped."""

    kind: str
    team_id: str
    user_id: str
    response_url: str | None
    lookup_slot: str | None = None  # the token of the member's look-up slot this work holds
    running: int = 0
    futures: list[Future[Any]] = field(default_factory=list)

    @classmethod
    def of(cls, body: dict[str, Any]) -> _Request:
        user, team, event = (_part(body, key) for key in ("user", "team", "event"))
        return cls(
            kind=request_kind(body),
            team_id=str(user.get("team_id") or team.get("id") or body.get("team_id") or ""),
            user_id=str(user.get("id") or body.get("user_id") or event.get("user") or ""),
            response_url=response_url_of(body),
        )

    @property
    def member(self) -> tuple[str, str]:
        return self.team_id, self.user_id


class ListenerPools(LazyListenerRunner):
    """Bolt's lazy-listener runner with a listener pool and an OpenAlex look-up pool."""

    def __init__(
        self,
        listeners: Executor,
        lookups: Executor,
        *,
        lookup_threads: int,
        slots: LookupSlots,
        logger: logging.Logger,
    ) -> None:
        self.logger = logger
        self._listeners = listeners
        self._lookups = lookups
        self._lookup_threads = lookup_threads
        self._slots = slots
        self._lock = threading.Lock()
        self._pending: set[_Request] = set()
        self._lookups_in_flight = 0

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Queue a lazy listener on its pool (in the request thread, so no Web API call here)."""
        work = _Request.of(request.body)
        run = build_runnable_function(func=function, logger=self.logger, request=request)
        if not runs_on_lookup_pool(function):
            self._submit(work, [(self._listeners, run)])
            return
        admitted, notice = self._admit(work)
        tasks: list[tuple[Executor, Callable[[], None]]] = []
        if notice is not None:
            tasks.append((self._listeners, functools.partial(_tell, work.response_url, notice)))
        if admitted:
            tasks.append((self._lookups, run))
        self._submit(work, tasks)

    @property
    def idle(self) -> bool:
        """True when no lazy work is queued or running."""
        with self._lock:
            return not self._pending

    def stop(self, *, within: float) -> int:
        """Give unfinished work `within` seconds, then drop what is left: queued work never
        starts, and whoever is still waiting is told to try again (and it is logged).
        Returns how many requests were dropped."""
        deadline = time.monotonic() + within
        while not self.idle and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            dropped = list(self._pending)
        for work in dropped:
            for future in work.futures:
                future.cancel()  # only work that has not started yet is cancelled
        with ThreadPoolExecutor(NOTICE_THREADS, thread_name_prefix="bzpeer-stop") as notices:
            list(notices.map(_tell_dropped, dropped))
        return len(dropped)

    def _admit(self, work: _Request) -> tuple[bool, Reply | None]:
        with self._lock:
            if (
                self._lookups_in_flight - self._lookup_threads
                >= self._lookup_threads * WAITING_LOOKUPS_PER_THREAD
            ):
                return False, messages.lookups_busy()
        # In the store, not in this process: the member's other presses may run elsewhere.
        token = self._slots.take(*work.member)
        if token is None:
            return False, messages.lookup_limit(self._slots.per_member)
        with self._lock:
            waiting = self._lookups_in_flight - self._lookup_threads
            self._lookups_in_flight += 1
            work.lookup_slot = token
        return True, (messages.lookup_queued(waiting) if waiting >= 0 else None)

    def _submit(self, work: _Request, tasks: list[tuple[Executor, Callable[[], None]]]) -> None:
        # Counted before any starts: a notice done first must not end the request (and free
        # its look-up place) while the look-up itself is still to be submitted.
        with self._lock:
            self._pending.add(work)
            work.running += len(tasks)
        for pool, run in tasks:
            future = pool.submit(run)
            with self._lock:
                work.futures.append(future)
            # Called at once when the future is already done (an inline executor in tests).
            future.add_done_callback(lambda _: self._finished(work))

    def _finished(self, work: _Request) -> None:
        with self._lock:
            work.running -= 1
            if work.running:
                return
            self._pending.discard(work)
            token, work.lookup_slot = work.lookup_slot, None
            if token is not None:
                self._lookups_in_flight -= 1
        if token is not None:
            try:
                self._slots.give_back(token)
            except SQLAlchemyError as error:  # the store is down: the slot frees itself in minutes
                log.warning("look-up slot not given back (%s); it expires on its own", type(error).__name__)


def _part(body: dict[str, Any], key: str) -> dict[str, Any]:
    part = body.get(key)
    return part if isinstance(part, dict) else {}


def pools_of(app: App) -> ListenerPools:
    """The runner build_bolt_app gave the app."""
    runner = app.listener_runner.lazy_listener_runner
    assert isinstance(runner, ListenerPools), "build the app with bot.app.build_bolt_app"
    return runner


def _tell(response_url: str | None, reply: Reply) -> None:
    if response_url:
        WebhookClient(response_url).send(response_type="ephemeral", replace_original=False, **reply.payload())


def _tell_dropped(work: _Request) -> None:
    told = False
    if work.response_url:
        client = WebhookClient(work.response_url, timeout=NOTICE_TIMEOUT_SECONDS)
        try:
            reply = messages.restarted().payload()
            told = client.send(response_type="ephemeral", replace_original=False, **reply).status_code == 200
        except OSError as error:  # Slack unreachable: the log line below is all there is
            log.info("try-again notice not sent (%s)", error)
    log.warning(
        "work dropped at shutdown",
        extra={"bzpeer": {"work": work.kind, "team_id": work.team_id, "user_id": work.user_id, "told": told}},
    )
