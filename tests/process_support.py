"""Real `bzpeer` processes for tests of the HTTP contract: start, wait until healthy, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


def bot_env(database_url: str, slack_api_url: str, signing_secret: str, **extra: str) -> dict[str, str]:
    """The environment of a single-workspace `bzpeer` process for a test: this process's own,
    without the developer's Slack, OpenAlex or BZPEER settings, on the test's store and Slack."""
    prefixes = ("SLACK_", "TEST_", "OPENALEX_", "BZPEER_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_API_URL=slack_api_url,
        **extra,
    )
    return env


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_serve(
    env: dict[str, str], cwd: Path, *, workers: int = 1, options: Sequence[str] = ()
) -> tuple[subprocess.Popen[str], str]:
    """`bzpeer serve` on a free port, once /healthz answers: the process and its base URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", str(workers), *options],
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


def stop(process: subprocess.Popen[Any], *, timeout: float = 40) -> Any:
    """SIGTERM `process` and wait for it (SIGKILL after `timeout` s); what it wrote, if piped."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


# A request head that promises a body of `declared` bytes, as the slow-body client of issue 14 sends.
def _slow_body_head(host: str, declared: int) -> bytes:
    return (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()


class SlowClients:
    """`count` connections to a server that trickle one byte a second and never finish.

    mode "body": the whole head at once, then the body a byte at a time (Content-Length 100000);
    mode "head": the request head itself a byte at a time;
    mode "silent": a complete GET /healthz with `Connection: close`, then neither reading nor
    closing (a client that leaves the server waiting for its FIN).
    What each connection got back (a status line, or nothing) is kept in `answers`.
    """

    def __init__(self, base: str, count: int, *, mode: str = "body", declared: int = 100_000) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self._address = (host, int(port))
        self._count, self._mode, self._declared = count, mode, declared
        self._stop = threading.Event()
        self._socks: list[socket.socket] = []
        self.answers: list[bytes] = []
        self.closed_at: list[float | None] = []
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowClients:
        host = f"{self._address[0]}:{self._address[1]}"
        for _ in range(self._count):
            sock = socket.create_connection(self._address, timeout=5)
            if self._mode == "body":
                sock.sendall(_slow_body_head(host, self._declared))
            elif self._mode == "silent":
                sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            sock.setblocking(False)
            self._socks.append(sock)
        self.answers = [b""] * self._count
        self.closed_at = [None] * self._count
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self._socks:
            sock.close()

    def _trickle(self) -> None:
        head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        sent = 0
        while not self._stop.is_set():
            for index, sock in enumerate(self._socks):
                if self.closed_at[index] is not None:
                    continue
                self._read(index, sock)
                if self._mode == "silent" or self.closed_at[index] is not None:
                    continue
                byte = head[sent % len(head) : sent % len(head) + 1] if self._mode == "head" else b"x"
                try:
                    sock.send(byte)
                except OSError:
                    self.closed_at[index] = time.monotonic()
            sent += 1
            self._stop.wait(1.0)

    def _read(self, index: int, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.closed_at[index] = time.monotonic()
                return
            self.answers[index] += data

    def statuses(self) -> list[str]:
        """The status line each connection got, "" when none came (yet)."""
        return [answer.split(b"\r\n", 1)[0].decode("latin-1") if answer else "" for answer in self.answers]
