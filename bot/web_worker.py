"""The gunicorn worker of `bzpeer serve`: gthread, except that a request reaches a thread only once
all of it has arrived, and that slow clients are closed by the event loop without waiting on them.

gunicorn's request threads read the request head and body themselves, blocking on the socket: 20
clients that declared a 100 kB body and sent a byte a second held every thread, and /healthz and
signed commands waited behind them (issue 14). Here the worker's event loop (the thread that
accepts) reads each request without blocking and hands it to the thread pool only when its head
and its Content-Length bytes are all there, as a buffering proxy would. A request still
incomplete REQUEST_DEADLINE seconds after its connection was taken up is answered 408 and closed;
a connection that sent nothing by then is closed silently. A slow client therefore costs a
connection slot (at most `worker_connections` per worker), never a thread.

gunicorn also closes each connection by waiting, on the event loop, up to 2 s for the client's FIN:
20 clients that never close stopped a worker from accepting for 40 s. Closing is done here by
the event loop too, without blocking: half-close, then drain whatever arrives until the client
closes or LINGER_SECONDS pass.

Tied to gunicorn 27's gthread worker (enqueue_req, finish_request, murder_pending, TConn), hence
the version range in pyproject.toml. Plain HTTP/1.1 only: TLS ends at the load balancer.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import ThreadWorker

from bot.logs import log_request, new_request_id
from bot.web import MAX_BODY_BYTES

# Slack's requests arrive from its datacenters in milliseconds, and it gives up on an answer after
# 3 s: a request that takes longer than this to arrive is not Slack, or too late to matter.
REQUEST_DEADLINE = 5.0
# Far above any real head (Slack's are under 2 kB), far below what a client could make us buffer.
MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 2.0
# A client that keeps sending after the answer is not worth reading further than this.
MAX_DRAIN_BYTES = 64 * 1024
_RECV_BYTES = 64 * 1024


@dataclass(frozen=True)
class Refusal:
    """An answer the event loop gives itself, without a thread: status line and log kind."""

    status: str
    kind: str

    def response(self) -> bytes:
        """The whole HTTP response, closing the connection."""
        text = self.status.split(" ", 1)[1].lower().encode()
        return (
            f"HTTP/1.1 {self.status}\r\nContent-Type: text/plain\r\nContent-Length: {len(text)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode() + text


TIMED_OUT = Refusal("408 Request Timeout", "incomplete request")
TOO_LARGE = Refusal("413 Content Too Large", "request too large")
HEAD_TOO_LARGE = Refusal("431 Request Header Fields Too Large", "request too large")
# Slack sends Content-Length; a chunked body has no length to wait for.
LENGTH_REQUIRED = Refusal("411 Length Required", "chunked request")


def request_size(data: bytes | bytearray, *, searched: int = 0) -> int | Refusal | None:
    """Bytes of the first request in `data` (head and body) once its head is complete, None
    before that, or the refusal for a request this server does not take. `searched`: how much
    of `data` an earlier call already found without the end of the head.

    A malformed Content-Length counts as no body: gunicorn's parser then answers it 400 from the
    head alone, without waiting for anything.
    """
    end = data.find(b"\r\n\r\n", max(0, searched - 3), MAX_HEAD_BYTES + 4)
    if end < 0:
        return HEAD_TOO_LARGE if len(data) > MAX_HEAD_BYTES else None
    length = 0
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return LENGTH_REQUIRED
        if name == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length > MAX_BODY_BYTES:
        return TOO_LARGE
    return end + 4 + length


@dataclass(eq=False)
class _Arrival:
    """A request being received: what came so far, when it must be complete."""

    deadline: float
    started: float = field(default_factory=time.perf_counter)
    data: bytearray = field(default_factory=bytearray)
    size: int | Refusal | None = None
    searched: int = 0  # bytes of `data` known not to hold the end of the head


def _due(arrival: _Arrival) -> bool:
    """Whether the request has all arrived, or is to be refused already."""
    if arrival.size is None:
        # A head trickled in a byte at a time is searched once, not once per byte.
        arrival.size = request_size(arrival.data, searched=arrival.searched)
        arrival.searched = len(arrival.data)
    return isinstance(arrival.size, Refusal) or (
        arrival.size is not None and len(arrival.data) >= arrival.size
    )


class BufferingThreadWorker(ThreadWorker):
    """gthread with requests buffered by the event loop (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arrivals: dict[Any, _Arrival] = {}
        self._complete: set[Any] = set()
        self._lingering: dict[socket.socket, float] = {}

    def enqueue_req(self, conn: Any) -> None:
        """Called for a new connection, a kept-alive one that became readable, and one whose
        last read went past its request: start receiving; a complete request goes to a thread."""
        if conn in self._complete:
            self._complete.discard(conn)
            super().enqueue_req(conn)
            return
        arrival = _Arrival(deadline=time.monotonic() + REQUEST_DEADLINE)
        if conn.parser is not None:  # bytes of the next request, read ahead by the last one
            arrival.data += conn.parser.unreader.take_buffered()
        self._arrivals[conn] = arrival
        conn.sock.setblocking(False)
        if _due(arrival):
            self._settle(conn, arrival)
        else:
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        """gunicorn's, except that a connection to close lingers on the event loop instead of
        blocking it (see the module docstring)."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is False:
            self._linger(conn.sock)
        else:
            super().finish_request(conn, fs)

    def murder_pending(self) -> None:
        """gunicorn's expiry of idle connections, plus requests past their deadline and
        connections done lingering; runs on every turn of the event loop (at least once a second)."""
        super().murder_pending()
        now = time.monotonic()
        for conn, arrival in list(self._arrivals.items()):
            if arrival.deadline <= now:
                self.poller.unregister(conn.sock)
                del self._arrivals[conn]
                if arrival.data:
                    self._refuse(conn, arrival, TIMED_OUT)
                else:  # as gunicorn does with a connection that never sent anything
                    self._close(conn.sock)
        for sock, deadline in list(self._lingering.items()):
            if deadline <= now:
                self._close(sock)

    def _on_readable(self, conn: Any, _: Any) -> None:
        arrival = self._arrivals[conn]
        try:
            chunk = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            arrival.data += chunk
            if not _due(arrival):
                return
        self.poller.unregister(conn.sock)
        if chunk:
            self._settle(conn, arrival)
        else:  # the client went away before finishing its request
            del self._arrivals[conn]
            self._close(conn.sock)

    def _settle(self, conn: Any, arrival: _Arrival) -> None:
        """Refuse the request, or hand it, complete, to a thread."""
        del self._arrivals[conn]
        if isinstance(arrival.size, Refusal):
            self._refuse(conn, arrival, arrival.size)
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(arrival.data))
        conn.data_ready = True  # so the thread does not wait for the socket to become readable
        self._complete.add(conn)
        self.enqueue_req(conn)

    def _refuse(self, conn: Any, arrival: _Arrival, refusal: Refusal) -> None:
        log_request(
            started=arrival.started,
            status=int(refusal.status[:3]),
            kind=refusal.kind,
            request_id=new_request_id(),
        )
        # A few hundred bytes into a send buffer nothing else has written to: does not block.
        with contextlib.suppress(OSError):
            conn.sock.send(refusal.response())
        self._linger(conn.sock)

    def _linger(self, sock: socket.socket) -> None:
        """Close after the client has read the answer: half-close, drain until its FIN."""
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(sock)
            return
        self._lingering[sock] = time.monotonic() + LINGER_SECONDS
        self.poller.register(sock, selectors.EVENT_READ, partial(self._drain, 0))

    def _drain(self, drained: int, sock: socket.socket) -> None:
        try:
            chunk = sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        drained += len(chunk)
        if chunk and drained <= MAX_DRAIN_BYTES:
            self.poller.modify(sock, selectors.EVENT_READ, partial(self._drain, drained))
        else:
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        if self._lingering.pop(sock, None) is not None:
            self.poller.unregister(sock)
        self.nr_conns -= 1
        with contextlib.suppress(OSError):
            sock.close()
