"""Slow clients against a real `bzpeer serve`: how long /healthz and a signed `/peer help` wait
while N connections trickle a byte a second (issue 14, finding 6).

    python -m benchmarks.slow_clients                    # 20 and 40 connections, every mode
    python -m benchmarks.slow_clients --clients 40 --modes body --workers 2

Modes (tests/process_support.SlowClients): `body` declares Content-Length 100000 and sends the
body a byte a second; `head` sends the request head a byte a second; `silent` sends a whole
`Connection: close` request, then never closes. The server runs as deployed: 2 workers
(WEB_CONCURRENCY's default) x 8 threads, on a scratch SQLite store with the demo data.
Each probe waits at most --probe-timeout seconds (">" in the table means it had not answered);
the slow connections are watched for --watch seconds from their start: did the server close them?
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.local.signed_requests import Actor, sign, slash_command_body
from bot.local.slack_server import LocalSlack
from tests.process_support import SlowClients, start_serve, stop

SECRET = "bench-slow-clients-secret"


def _timed(send: object, timeout: float) -> str:
    started = time.monotonic()
    try:
        status = send()  # type: ignore[operator]
    except httpx.TimeoutException:
        return f">{timeout:.0f} s (no answer)"
    return f"{time.monotonic() - started:.2f} s ({status})"


def measure(
    base: str, local: LocalSlack, *, clients: int, mode: str, probe_timeout: float, watch: float
) -> dict[str, str]:
    """Open the slow connections, wait until they hold whatever they can, then time both probes."""
    asker = Actor("T0TEAM1", "U0ALICE", "C0GENERAL")
    with SlowClients(base, clients, mode=mode) as slow:
        time.sleep(2)  # every slow connection has been accepted and is being read

        def health() -> int:
            return httpx.get(f"{base}/healthz", timeout=probe_timeout).status_code

        def help_command() -> int:
            signed = sign(SECRET, slash_command_body(asker, "/peer", "help", local.response_url()))
            return httpx.post(
                f"{base}/slack/events", content=signed.body, headers=signed.headers, timeout=probe_timeout
            ).status_code

        row = {"healthz": _timed(health, probe_timeout), "/peer help": _timed(help_command, probe_timeout)}
        time.sleep(max(0.0, slow.started + watch - time.monotonic()))
        closed = [at - slow.started for at in slow.closed_at if at is not None]
        statuses = {status for status in slow.statuses() if status}
        row["slow clients closed"] = f"{len(closed)}/{clients}" + (
            f" after {max(closed):.0f} s" if closed else ""
        )
        row["they got"] = ", ".join(sorted(statuses)) or "nothing"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[20, 40])
    parser.add_argument("--modes", nargs="+", default=["body", "head", "silent"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--probe-timeout", type=float, default=30)
    parser.add_argument("--watch", type=float, default=15, help="seconds to watch the slow connections")
    args = parser.parse_args(argv)
    rows: list[tuple[str, int, dict[str, str]]] = []
    with tempfile.TemporaryDirectory() as scratch, LocalSlack(team_id="T0TEAM1") as local:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "BZPEER_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{scratch}/store.db",
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=local.url,
        )
        subprocess.run(
            [sys.executable, "-m", "bot", "demo"], env=env, cwd=scratch, check=True, capture_output=True
        )
        for mode in args.modes:
            for clients in args.clients:
                # A fresh server per row: connections a row left stuck must not slow the next.
                server, base = start_serve(env, Path(scratch), workers=args.workers)
                try:
                    rows.append(
                        (
                            mode,
                            clients,
                            measure(
                                base,
                                local,
                                clients=clients,
                                mode=mode,
                                probe_timeout=args.probe_timeout,
                                watch=args.watch,
                            ),
                        )
                    )
                finally:
                    stop(server)
    print("| mode | slow connections | /healthz | signed /peer help | slow clients closed | they got |")
    print("|---|---|---|---|---|---|")
    for mode, clients, row in rows:
        cells = [mode, str(clients), *row.values()]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
