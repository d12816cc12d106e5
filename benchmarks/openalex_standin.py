"""A local stand-in for OpenAlex's `/works` list, for the refresh benchmark, and the same over
real HTTP with faults, for the fault replay (benchmarks/faults.py).

It answers `filter=authorships.author.id:A1|A2|…[,from_publication_date:YYYY-MM-DD]` with the
works of those authors, cursor-paged (`per_page`, `cursor=*` then `meta.next_cursor`), through an
`httpx.MockTransport`; anything else is an error, so an unexpected request cannot pass unseen.
It counts what the client asked for: list requests (first pages), paging requests, results.

`OpenAlexServer` serves the same works, plus `/authors/{id}` and `/autocomplete/authors`, on
127.0.0.1 to processes (`OPENALEX_URL`), with faults chosen by a substring of the request target:
a delay, a request that never answers until `release()`, or a raw body (deep JSON). Poison records
(a NUL byte, a lone surrogate) need nothing special: `json.dumps` writes them as `\u0000` and
`\ud800` escapes, exactly as OpenAlex would send them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

WORK_PREFIX = "https://openalex.org/"


def work_json(
    openalex_id: str,
    title: str,
    authors: list[tuple[str, str]],
    *,
    published: date,
    venue: str,
    topic: tuple[str, str],
) -> dict[str, Any]:
    """A /works list entry with the fields the parser reads (DOI, venue, authors, one topic)."""
    doi = f"10.5555/{openalex_id.lower()}"
    return {
        "id": WORK_PREFIX + openalex_id,
        "doi": f"https://doi.org/{doi}",
        "title": title,
        "publication_year": published.year,
        "publication_date": published.isoformat(),
        "type": "article",
        "primary_location": {
            "landing_page_url": f"https://doi.org/{doi}",
            "source": {"id": "https://openalex.org/S900000001", "display_name": venue},
        },
        "authorships": [
            {"author": {"id": WORK_PREFIX + aid, "display_name": name}, "institutions": []}
            for aid, name in authors
        ],
        "topics": [{"id": WORK_PREFIX + topic[0], "display_name": topic[1], "count": 1}],
    }


@dataclass
class StandInCounts:
    """What the client asked for."""

    list_requests: int = 0  # cursor=* (one per batch of author ids)
    paging_requests: int = 0  # cursor=<next>
    results: int = 0
    ids_asked: int = 0  # author ids over all first pages
    largest_batch: int = 0
    largest_per_page: int = 0
    seconds: float = 0.0  # inside the stand-in (matching, JSON)
    pages_per_batch: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def requests(self) -> int:
        return self.list_requests + self.paging_requests


class WorksStandIn:
    """OpenAlex's /works list over an in-memory index of works by author id."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self._by_author: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._latency = latency
        self.counts = StandInCounts()

    def add(self, work: dict[str, Any]) -> None:
        """Serve this work to a filter on any of its authors."""
        for authorship in work["authorships"]:
            self._by_author[authorship["author"]["id"].rsplit("/", 1)[-1]].append(work)

    def reset_counts(self) -> None:
        self.counts = StandInCounts()

    def clear(self) -> None:
        """Serve no works at all (the counts stay)."""
        with self._lock:
            self._by_author.clear()

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one /works list request (400 for anything else)."""
        started = time.perf_counter()
        if request.url.path != "/works":
            return httpx.Response(400, json={"error": f"unexpected path {request.url.path}"})
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        filters = dict(part.split(":", 1) for part in query.get("filter", "").split(",") if ":" in part)
        if "authorships.author.id" not in filters:
            return httpx.Response(400, json={"error": "expected an author id filter"})
        ids = filters["authorships.author.id"].split("|")
        since = filters.get("from_publication_date")
        per_page = int(query.get("per_page", "25"))
        cursor = query.get("cursor", "*")
        seen: set[str] = set()
        matching = []
        for author in ids:
            for work in self._by_author.get(author, ()):
                if work["id"] not in seen and (since is None or work["publication_date"] >= since):
                    seen.add(work["id"])
                    matching.append(work)
        start = 0 if cursor == "*" else int(cursor)
        page = matching[start : start + per_page]
        following = start + per_page
        meta = {
            "count": len(matching),
            "per_page": per_page,
            "next_cursor": str(following) if following < len(matching) else None,
        }
        body = json.dumps({"meta": meta, "results": page}).encode()
        with self._lock:
            counts = self.counts
            if cursor == "*":
                counts.list_requests += 1
                counts.ids_asked += len(ids)
                counts.largest_batch = max(counts.largest_batch, len(ids))
            else:
                counts.paging_requests += 1
            counts.pages_per_batch[filters["authorships.author.id"]] += 1
            counts.results += len(page)
            counts.largest_per_page = max(counts.largest_per_page, per_page)
            counts.seconds += time.perf_counter() - started
        if self._latency:
            time.sleep(self._latency)  # a stand-in for OpenAlex's round trip, when asked for
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})


# ---------------------------------------------------------------------------------------------
# Over HTTP, with faults


def author_json(openalex_id: str, name: str, *, works_count: int = 1) -> dict[str, Any]:
    """An /authors/{id} body with the fields the parser reads."""
    return {
        "id": WORK_PREFIX + openalex_id,
        "display_name": name,
        "display_name_alternatives": [],
        "works_count": works_count,
        "cited_by_count": 0,
        "summary_stats": {"h_index": 0},
        "last_known_institutions": [],
        "topics": [],
    }


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
    """OpenAlex on 127.0.0.1: `/works` from a WorksStandIn, `/authors/{id}` from `authors`,
    `/autocomplete/authors` answering `candidates`; faults by substring of the target."""

    def __init__(self, works: WorksStandIn | None = None) -> None:
        self.works = works or WorksStandIn()
        self.authors: dict[str, dict[str, Any]] = {}
        self.candidates: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._in_flight = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                status, body = owner._answer(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
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

    def delay(self, match: str, seconds: float) -> None:
        """Answer requests whose target contains `match` after `seconds`."""
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

    def _answer(self, target: str) -> tuple[int, bytes]:
        decoded = unquote(target)
        with self._lock:
            self.requests.append(decoded)
            self._in_flight += 1
            faults = [f for f in self._faults if f.match in decoded]
        try:
            for fault in faults:
                if fault.hang:
                    self._released.wait(timeout=600)
                elif fault.delay:
                    time.sleep(fault.delay)
            raw = next((f.body for f in faults if f.body is not None), None)
            return (200, raw) if raw is not None else self._route(target)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _route(self, target: str) -> tuple[int, bytes]:
        path = urlsplit(target).path
        if path == "/works":
            response = self.works.handle(httpx.Request("GET", "http://openalex.local" + target))
            return response.status_code, response.content
        if path.startswith("/authors/"):
            author = self.authors.get(path.removeprefix("/authors/"))
            if author is None:
                return 404, b'{"error": "not found"}'
            return 200, json.dumps(author).encode()
        if path == "/autocomplete/authors":
            meta = {"count": len(self.candidates)}
            return 200, json.dumps({"meta": meta, "results": self.candidates}).encode()
        return 404, json.dumps({"error": f"unexpected path {path}"}).encode()

    def __enter__(self) -> OpenAlexServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
