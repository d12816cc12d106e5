"""Knowing when the app's background listener work is done, so the shell can wait exactly as
long as needed before rendering a turn."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from slack_bolt import App

from bot.pools import ListenerPools


class _CountingExecutor(Executor):
    """Wraps Bolt's listener executor to know when background listener work is done."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self._pending = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `fn` on the wrapped executor, counting it until it finishes."""
        with self._lock:
            self._pending += 1
        future = self.inner.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    @property
    def idle(self) -> bool:
        """True when no submitted task is queued or running."""
        with self._lock:
            return self._pending == 0

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the wrapped executor down."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


def count_listener_tasks(app: App) -> _CountingExecutor | ListenerPools | None:
    # Lazy listeners run on Bolt's executor after dispatch() returns; counting its tasks lets
    # the shell wait exactly as long as needed. These are private attributes of Bolt 1.30, so
    # fall back to waiting for quiet alone if they are not there.
    runner = getattr(app, "_listener_runner", None)
    pools = getattr(runner, "lazy_listener_runner", None)
    if isinstance(pools, ListenerPools):
        return pools  # the app's own runner knows when its work (on both pools) is done
    inner = getattr(runner, "listener_executor", None)
    if runner is None or not isinstance(inner, Executor):
        return None
    if isinstance(inner, _CountingExecutor):
        return inner
    counting = _CountingExecutor(inner)
    runner.listener_executor = counting
    lazy = getattr(runner, "lazy_listener_runner", None)
    if lazy is not None and getattr(lazy, "executor", None) is inner:
        lazy.executor = counting
    return counting
