"""The simplest alternative to `bzpeer serve`: the same Bolt app on Bolt's built-in development
server (`App.start`, a single-threaded stdlib `http.server.HTTPServer`), for benchmarks.bench_load.

    python -m benchmarks.bolt_devserver --port 3000      # environment as for `bzpeer serve`

The app is built as `bot/serve.py` builds each gunicorn worker (`build_wsgi_app`: runtime without
migrations, `build_bolt_app`, then `gc.freeze()`), with the same JSON-line logging as
`bzpeer serve`, so the HTTP server is the only difference. Bolt binds 0.0.0.0; nothing here is
meant for anything but loopback benchmarks.
"""

from __future__ import annotations

import argparse
import gc
import logging

from bot.app import build_bolt_app
from bot.logs import configure_logging
from bot.runtime import build_runtime
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Build the app and serve it until killed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bolt_devserver", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    settings = Settings()
    secrets = [settings.slack_bot_token, settings.slack_signing_secret, settings.openalex_api_key]
    configure_logging(json_lines=True, level=logging.INFO, secrets=secrets)
    runtime = build_runtime(settings, migrate=False)
    app = build_bolt_app(settings, runtime.services)
    gc.freeze()
    try:
        # No access log: gunicorn runs with accesslog None; the app logs one line per request.
        app.start(port=args.port, http_server_logger_enabled=False)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
