"""The HTTP processes: gunicorn (threads) for production, each worker building its own runtime."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.app import build_bolt_app
from bot.runtime import build_runtime
from bot.settings import Settings
from bot.web import WebApp


def build_wsgi_app(settings: Settings) -> WebApp:
    """The WSGI callable for one process (migrations are applied by the launcher, not here)."""
    runtime = build_runtime(settings, migrate=False)
    return WebApp(build_bolt_app(settings, runtime.services), runtime.services.engine)


class GunicornServer(BaseApplication):
    """Gunicorn with gthread workers, configured in code rather than a config file."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WebApp:
        # Called in each worker after the fork, so no pooled connection crosses processes.
        return build_wsgi_app(self._settings)


def serve(settings: Settings, *, port: int, workers: int | None = None, threads: int = 8) -> None:
    """Run the web process until SIGTERM (gunicorn finishes in-flight requests first)."""
    options = {
        "bind": f"0.0.0.0:{port}",
        "workers": workers or int(os.environ.get("WEB_CONCURRENCY", "2")),
        "worker_class": "gthread",
        # Threads let a slow OpenAlex look-up wait without blocking other users' commands.
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": None,
    }
    GunicornServer(settings, options).run()
