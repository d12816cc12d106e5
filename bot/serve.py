"""The HTTP processes: gunicorn (threads) for production, each worker building its own runtime."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from bot.app import build_bolt_app
from bot.metrics import reset_multiprocess_dir, worker_exited
from bot.pools import ListenerPools, pools_of
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.web import WebApp
from services.digests.ledger import count_pending

# What a stopping worker keeps back from its grace period: gunicorn first lingers up to 2 s on
# kept-alive connections, and the try-again notices must go out before the arbiter's SIGKILL.
STOP_MARGIN_SECONDS = 5.0


def build_wsgi_app(settings: Settings) -> tuple[WebApp, ListenerPools]:
    """The WSGI callable for one process, and the pools its listener work runs on (migrations
    are applied by the launcher, not here)."""
    runtime = build_runtime(settings, migrate=False)
    bolt = build_bolt_app(settings, runtime.services, metrics=runtime.metrics)
    ack_engine = runtime.services.ack_engine
    # /healthz and the /metrics queue gauge use the request path's engine, with its bounded waits.
    app = WebApp(
        bolt,
        ack_engine,
        metrics=runtime.metrics,
        queue_depth=lambda: count_pending(ack_engine),
        orcid=runtime.services.orcid,
    )
    return app, pools_of(bolt)


class GunicornLogger(glogging.Logger):
    """Gunicorn's own messages go through the process's root handler (JSON lines, redacted)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True


class GunicornServer(BaseApplication):
    """Gunicorn with gthread workers, configured in code rather than a config file."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        self._pools: ListenerPools | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)
        self.cfg.set("worker_exit", self.finish_listener_work)
        self.cfg.set("child_exit", lambda _arbiter, worker: worker_exited(worker.pid))

    def load(self) -> WebApp:
        # Called in each worker after the fork, so no pooled connection crosses processes.
        app, self._pools = build_wsgi_app(self._settings)
        # Everything built so far lives as long as the worker: taking it out of the collector's
        # reach removes the 80–200 ms full collections measured under load (benchmarks/).
        gc.freeze()
        return app

    def finish_listener_work(self, _arbiter: Any, _worker: Any) -> None:
        """gunicorn's worker_exit hook, in the worker once its requests are answered: listener
        work gets what is left of the grace period; whoever still waits is told to try again."""
        if self._pools is None:
            return
        grace = self._settings.bzpeer_graceful_timeout
        if self._pools.stop(within=grace - min(STOP_MARGIN_SECONDS, grace / 2)):
            # The dropped work's threads would keep the process alive until the arbiter's
            # SIGKILL, and could still answer after their people were told to try again.
            logging.shutdown()
            os._exit(0)


def serve(settings: Settings, *, host: str, port: int, workers: int | None = None, threads: int = 8) -> None:
    """Run the web process on host:port until SIGTERM: gunicorn finishes in-flight requests
    first, then listener work gets the rest of BZPEER_GRACEFUL_TIMEOUT."""
    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", "2")),
        # gthread, with each request read whole by the event loop before a thread takes it.
        "worker_class": "bot.web_worker.BufferingThreadWorker",
        # Threads let a slow OpenAlex look-up wait without blocking other users' commands.
        "threads": threads,
        # A worker takes at most this many connections (requests still arriving, threads busy,
        # idle keep-alives); the rest of a burst waits in the shared backlog for whichever worker
        # frees up first. Slow clients hold slots here for at most web_worker.REQUEST_DEADLINE.
        # Gunicorn's default (1,000) let one worker grab 169 of 200 commands while the other
        # idled (benchmarks/RESULTS.md, issue 7).
        "worker_connections": threads * 4,
        "timeout": 60,
        "graceful_timeout": settings.bzpeer_graceful_timeout,
        "keepalive": 5,
        # bot/logs.py writes one line per request (with workspace, kind and latency) instead.
        "accesslog": None,
        "logger_class": GunicornLogger,
        # gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn); several
        # `bzpeer serve` processes on one box would fight over it, and nothing here uses it.
        "control_socket_disable": True,
    }
    reset_multiprocess_dir()  # before any worker writes its counts there
    GunicornServer(settings, options).run()
