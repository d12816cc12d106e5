"""`bzpeer serve` with one change, for benchmarks.bench_load: Bolt's listener executor widened.

    python -m benchmarks.serve_variant --listener-threads 32 --port 3000 --workers 2 --threads 8

Bolt runs every listener (and so every `ack()`) on `App(listener_executor=…)`, by default a
`ThreadPoolExecutor(max_workers=5)` per process, and the request thread waits for that `ack()`.
This launcher builds the app exactly as `bot/serve.py` does, then swaps in a wider pool, the change
proposed in benchmarks/RESULTS.md (in bot/app.py it would be one `listener_executor=` argument).
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App

import bot.serve
from bot.cli import main as bzpeer


def widen_listener_executor(app: App, threads: int) -> None:
    """Run the app's listeners (and lazy listeners) on a pool of `threads` threads."""
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="bolt-listener")
    runner = app.listener_runner
    runner.listener_executor = executor
    runner.lazy_listener_runner.executor = executor  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    """Patch the app builder `bot.serve` uses, then run `bzpeer serve` with the other arguments."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_variant", description=__doc__)
    parser.add_argument("--listener-threads", type=int, required=True)
    args, rest = parser.parse_known_args(argv)
    original = bot.serve.build_bolt_app

    def build_bolt_app(*a: Any, **kw: Any) -> App:
        app = original(*a, **kw)
        widen_listener_executor(app, args.listener_threads)
        return app

    bot.serve.build_bolt_app = build_bolt_app  # each gunicorn worker builds its app after the fork
    return bzpeer(["serve", *rest])


if __name__ == "__main__":
    raise SystemExit(main())
