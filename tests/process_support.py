"""Real `bzpeer` processes for tests of the HTTP contract: start, wait until healthy, stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; True when it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_serve(env: dict[str, str], cwd: Path, *, workers: int = 1) -> tuple[subprocess.Popen[str], str]:
    """`bzpeer serve` on a free port, once /healthz answers: the process and its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: _healthy(base) or server.poll() is not None, timeout=30, interval=0.1):
        server.kill()
        raise AssertionError("bzpeer serve did not come up")
    if server.poll() is not None:
        raise AssertionError(f"bzpeer serve exited: {server.communicate()[0]}")
    return server, base
