"""Slow clients against a real `bzpeer serve` (issue 14, finding 6): they neither hold the request
threads nor stay connected, and what the server does not take is refused from the head alone."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from bot.web_worker import HEAD_TOO_LARGE, LENGTH_REQUIRED, TOO_LARGE, request_size
from tests.conftest import SIGNING_SECRET
from tests.process_support import SlowClients, bot_env, start_serve, wait_until
from tests.slack_support import SlackDriver, all_text

# Before the fix neither answered within 25 s of 20 slow connections; Slack itself allows 3 s.
PROMPT = 3.0


class Served:
    """A running `bzpeer serve` as deployed (2 workers x 8 threads)."""

    def __init__(self, server: subprocess.Popen[str], base: str) -> None:
        self.server, self.base = server, base

    def stop(self) -> list[dict[str, object]]:
        """SIGTERM, then the request log lines it wrote."""
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
        output = self.server.communicate(timeout=40)[0]
        lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        return [line for line in lines if line["logger"] == "bzpeer.request"]


@pytest.fixture
def serve(database_url: str, tmp_path: Path, local_slack: LocalSlack) -> Iterator[Served]:
    env = bot_env(database_url, local_slack.url, SIGNING_SECRET)
    subprocess.run(
        [sys.executable, "-m", "bot", "demo"], env=env, check=True, cwd=tmp_path, capture_output=True
    )
    served = Served(*start_serve(env, tmp_path, workers=2))
    try:
        yield served
    finally:
        served.stop()


def _timed(call: object) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return time.monotonic() - started, response


@pytest.mark.slow
def test_slow_clients_neither_hold_the_server_nor_stay(serve: Served, local_slack: LocalSlack) -> None:
    base = serve.base
    driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
    with (
        SlowClients(base, 20, mode="body") as bodies,
        SlowClients(base, 10, mode="head") as heads,
        SlowClients(base, 10, mode="silent") as silent,
    ):
        time.sleep(2)  # every slow connection is taken up and trickling
        took, health = _timed(lambda: httpx.get(f"{base}/healthz", timeout=30))
        assert health.status_code == 200 and took < PROMPT
        body = driver.command_body("help")
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
        took, ack = _timed(
            lambda: httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=30)
        )
        assert ack.status_code == 200 and took < PROMPT
        assert "/peer" in all_text(ack.json())  # help comes in the ack
        # A few seconds after they started, every slow client has been answered and closed.
        everyone = (bodies, heads, silent)
        assert wait_until(lambda: all(None not in c.closed_at for c in everyone), timeout=20)
        assert bodies.statuses() == ["HTTP/1.1 408 Request Timeout"] * 20
        assert heads.statuses() == ["HTTP/1.1 408 Request Timeout"] * 10
        assert silent.statuses() == ["HTTP/1.1 200 OK"] * 10
    timed_out = [line for line in serve.stop() if line["status"] == 408]
    assert len(timed_out) == 30 and {line["kind"] for line in timed_out} == {"incomplete request"}


def _exchange(base: str, *pieces: bytes, pause: float = 0.3) -> bytes:
    host, _, port = base.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(pause)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.slow
def test_requests_are_taken_whole_and_refused_from_their_head(serve: Served) -> None:
    base = serve.base
    # A body in two pieces, a pipelined second request split mid-head: both served.
    two = _exchange(
        base,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHo",
        b"st: x\r\nConnection: close\r\n\r\n",
    )
    assert two.count(b"HTTP/1.1 200 OK") == 2
    split = _exchange(
        base,
        b'POST /slack/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 8\r\n\r\n{"a"',
        b": 1}",
    )
    assert split.startswith(b"HTTP/1.1 401")  # read whole, then refused for its missing signature
    # Refused at once, before any body: too large, chunked, an endless head.
    huge = _exchange(base, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
    assert huge.startswith(b"HTTP/1.1 413 Content Too Large")
    chunked = _exchange(
        base, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"
    )
    assert chunked.startswith(b"HTTP/1.1 411 Length Required")
    assert _exchange(base, b"GET / HTTP/1.1\r\nX: " + b"x" * 70_000).startswith(b"HTTP/1.1 431")
    # Kept-alive connections still serve one request after another.
    with httpx.Client(base_url=base, timeout=10) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    statuses = sorted(int(str(line["status"])) for line in serve.stop())
    assert statuses == [401, 411, 413, 431]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except ConnectionRefusedError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(("options", "everywhere"), [((), True), (("--host", "127.0.0.1"), False)])
def test_bzpeer_serve_listens_on_every_interface_unless_told_one(
    database_url: str, tmp_path: Path, options: tuple[str, ...], everywhere: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    env.update(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    server, base = start_serve(env, tmp_path, options=options)
    try:
        port = int(base.rsplit(":", 1)[1])
        # 127.0.0.2 is this host too, on an address other than the one --host names.
        assert _answers("127.0.0.1", port) and _answers("127.0.0.2", port) is everywhere
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=40)


def test_request_size_reads_the_head_alone() -> None:
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\ncontent-length: 12\r\n\r\n"
    assert request_size(head[:-2]) is None
    assert request_size(head, searched=len(head) - 2) == len(head) + 12  # "\r\n" + "\r\n" across two reads
    assert request_size(head) == len(head) + 12
    assert request_size(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 27
    malformed = head.replace(b"12", b"-1")
    assert request_size(malformed) == len(malformed)  # gunicorn's parser answers 400 from the head
    assert request_size(head.replace(b"12", b"1000001")) is TOO_LARGE
    assert request_size(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") is LENGTH_REQUIRED
    assert request_size(b"GET / HTTP/1.1\r\nX: " + b"x" * 70_000) is HEAD_TOO_LARGE
