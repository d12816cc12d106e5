"""Strict stand-ins for OpenAlex: canned responses by path through an `httpx.MockTransport`
(anything unexpected fails the test), the same over real HTTP for processes run as
subprocesses, with faults, and an OpenAlex that never answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

FIXTURES = Path(__file__).parent / "fixtures" / "openalex"
Responder = Callable[[httpx.Request], httpx.Response]


def fixture(name: str) -> Any:
    """A real OpenAlex response from tests/fixtures/openalex/."""
    return json.loads((FIXTURES / name).read_text("utf-8"))


class UnexpectedRequest(AssertionError):
    pass


class FakeOpenAlex:
    """Route table keyed by URL path; each route is a JSON body, a status, or a callable."""

    def __init__(self) -> None:
        self.routes: dict[str, Responder] = {}
        self.requests: list[httpx.Request] = []
        self.topics: list[dict[str, Any]] = []

    def add(
        self,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        def respond(_: httpx.Request) -> httpx.Response:
            if isinstance(body, str):
                return httpx.Response(status, text=body, headers=headers)
            return httpx.Response(status, json=body, headers=headers)

        self.routes[path] = respond

    def add_callable(self, path: str, responder: Responder) -> None:
        self.routes[path] = responder

    def add_topics(self, *topics: dict[str, Any]) -> None:
        """Serve these /topics/T… bodies, and /autocomplete/topics over their names: every word
        of `q` in a topic's name or description (any other request stays unexpected)."""
        for topic in topics:
            self.add(f"/topics/{topic['id'].rsplit('/', 1)[-1]}", topic)
        self.topics.extend(topics)

        def autocomplete(request: httpx.Request) -> httpx.Response:
            words = str(request.url.params.get("q", "")).casefold().split()
            if not words or set(request.url.params) - {"q", "api_key"}:
                raise UnexpectedRequest(f"unexpected OpenAlex request: {request.method} {request.url}")
            results = [
                {
                    "id": topic["id"],
                    "short_id": "topics/" + topic["id"].rsplit("/", 1)[-1],
                    "display_name": topic["display_name"],
                    "hint": topic.get("description"),
                    "works_count": topic.get("works_count"),
                    "cited_by_count": topic.get("cited_by_count"),
                    "entity_type": "topic",
                    "external_id": None,
                    "filter_key": "topics.id",
                }
                for topic in self.topics
                if all(
                    w in f"{topic['display_name']} {topic.get('description') or ''}".casefold() for w in words
                )
            ]
            return httpx.Response(200, json={"meta": {"count": len(results)}, "results": results[:10]})

        self.add_callable("/autocomplete/topics", autocomplete)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        responder = self.routes.get(request.url.path)
        if responder is None:
            raise UnexpectedRequest(f"unexpected OpenAlex request: {request.method} {request.url}")
        return responder(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """The same routes over real HTTP on 127.0.0.1:0, for processes run as subprocesses."""
        with OpenAlexServer(self.handle) as server:
            yield server.url


@dataclass
class _Fault:
    match: str  # a substring of the decoded request target (path and query)
    delay: float = 0.0
    hang: bool = False
    body: bytes | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # a burst of look-ups connects at once; the default backlog is 5


class OpenAlexServer:
    """OpenAlex over HTTP on 127.0.0.1:0 (`OPENALEX_URL` for a process): every GET is answered by
    `handle` (e.g. FakeOpenAlex.handle), an unexpected one with 599. Faults by a substring of the
    request target: a delay, a request held until `release()`, or a raw body (deep JSON). Counts
    the requests (`requests`, decoded targets) and the most it served at once (`peak`)."""

    def __init__(self, handle: Responder) -> None:
        self.handle = handle
        self.requests: list[str] = []
        self.peak = 0
        self._in_flight = 0
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                response = owner._answer(self.path, self.headers.get("host") or "openalex.local")
                body = response.content
                try:
                    self.send_response(response.status_code)
                    for name, value in response.headers.items():
                        if name.lower() not in ("content-length", "transfer-encoding", "content-encoding"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (its timeout) before the answer came

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="openalex-standin", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL for OPENALEX_URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def in_flight(self) -> int:
        """Requests being answered (or held) right now."""
        with self._lock:
            return self._in_flight

    def reset(self) -> None:
        """Forget the requests seen and the peak."""
        with self._lock:
            self.requests.clear()
            self.peak = 0

    def delay(self, match: str, seconds: float) -> None:
        """Answer requests whose target contains `match` ("" for all) after `seconds`."""
        with self._lock:
            self._faults.append(_Fault(match, delay=seconds))

    def hang(self, match: str) -> None:
        """Never answer requests whose target contains `match`, until `release()`."""
        with self._lock:
            self._released.clear()
            self._faults.append(_Fault(match, hang=True))

    def raw(self, match: str, body: bytes) -> None:
        """Answer requests whose target contains `match` with these bytes (HTTP 200, JSON)."""
        with self._lock:
            self._faults.append(_Fault(match, body=body))

    def release(self) -> None:
        """Drop every fault; held requests answer now."""
        with self._lock:
            self._faults.clear()
            self._released.set()

    def _answer(self, target: str, host: str) -> httpx.Response:
        decoded = unquote(target)
        with self._lock:
            self.requests.append(decoded)
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            faults = [f for f in self._faults if f.match in decoded]
        try:
            for fault in faults:
                if fault.hang:
                    self._released.wait(timeout=600)
                elif fault.delay:
                    time.sleep(fault.delay)
            raw = next((f.body for f in faults if f.body is not None), None)
            if raw is not None:
                return httpx.Response(200, content=raw, headers={"content-type": "application/json"})
            try:
                return self.handle(httpx.Request("GET", f"http://{host}{target}"))
            except UnexpectedRequest:
                return httpx.Response(599, text="unexpected request")
        finally:
            with self._lock:
                self._in_flight -= 1

    def __enter__(self) -> OpenAlexServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class SilentOpenAlex:
    """An OpenAlex that takes every request and never answers, on a clock of its own: a request
    moves the clock on by its read timeout, a retry's sleep by its delay. Give the client
    `clock=silent.clock, sleep=silent.sleep` and no test ever waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.read_timeouts: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def handle(self, request: httpx.Request) -> httpx.Response:
        read = request.extensions["timeout"]["read"]
        self.read_timeouts.append(read)
        self.now += read
        raise httpx.ReadTimeout("timed out", request=request)
