"""A strict stand-in for OpenAlex: canned responses by path, anything unexpected fails the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                request = httpx.Request("GET", f"http://{self.headers['host']}{self.path}")
                try:
                    response = fake.handle(request)
                except UnexpectedRequest:
                    response = httpx.Response(599, text="unexpected request")
                body = response.content
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "content-encoding",
                    ):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


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
