"""OpenAlex records for tests and benchmarks: /works and /authors bodies with the fields the
parser reads, and a stand-in for the /works list the refresh job and the importer page through."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.fake_openalex import UnexpectedRequest

OPENALEX = "https://openalex.org/"


def work_json(
    openalex_id: str,
    title: str,
    authors: Sequence[tuple[str, str]],
    *,
    published: date = date(2026, 11, 1),
    kind: str = "article",
    venue: str | None = "Journal of Tests",
    doi: str | None = None,
    topic: tuple[str, str] | None = None,
    cited_by_count: int | None = None,
) -> dict[str, Any]:
    """A /works list entry as OpenAlex sends it (only the fields the parser reads); `topic` is
    (id, name) of its one topic."""
    if kind == "preprint":
        arxiv = f"2611.{openalex_id[-5:]}"
        doi = doi or f"10.48550/arxiv.{arxiv}"
        source: dict[str, Any] | None = {"id": f"{OPENALEX}S4306400194", "display_name": "arXiv"}
        landing = f"https://arxiv.org/abs/{arxiv}"
    else:
        doi = doi or f"10.1234/{openalex_id.lower()}"
        source = {"id": f"{OPENALEX}S1", "display_name": venue} if venue else None
        landing = f"https://doi.org/{doi}"
    work: dict[str, Any] = {
        "id": OPENALEX + openalex_id,
        "doi": f"https://doi.org/{doi}",
        "title": title,
        "publication_year": published.year,
        "publication_date": published.isoformat(),
        "type": kind,
        "primary_location": {"landing_page_url": landing, "source": source},
        "authorships": [
            {"author": {"id": OPENALEX + aid, "display_name": name}, "institutions": []}
            for aid, name in authors
        ],
    }
    if topic is not None:
        work["topics"] = [{"id": OPENALEX + topic[0], "display_name": topic[1], "count": 1}]
    if cited_by_count is not None:
        work["cited_by_count"] = cited_by_count
    return work


def author_json(openalex_id: str, name: str, *, works_count: int = 1) -> dict[str, Any]:
    """An /authors/{id} body with the fields the parser reads."""
    return {
        "id": OPENALEX + openalex_id,
        "display_name": name,
        "display_name_alternatives": [],
        "works_count": works_count,
        "cited_by_count": 0,
        "summary_stats": {"h_index": 0},
        "last_known_institutions": [],
        "topics": [],
    }


def json_reply(body: Any, status: int = 200) -> httpx.Response:
    """A JSON reply with non-ASCII written as \\u escapes, as a JSON server may: so a lone
    surrogate ("\\ud800") travels as it does in the wild (httpx's `json=` cannot encode one)."""
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


@dataclass
class StandInCounts:
    """What the client asked the /works stand-in for."""

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
    """OpenAlex's /works list over an index of works by author id and by topic id: an OR filter
    over author ids (`authorships.author.id:A1|A2|…`) or topic ids (`topics.id:T1|T2|…`),
    `from_publication_date`, cursor paging (`per_page`, `cursor=*` then `meta.next_cursor`);
    works come in the order they were added.

    Every request's author ids are kept in `asked` and its per_page in `per_page_seen`, with
    totals in `counts`; `fail_when(predicate, status)` answers a status (with Retry-After on
    429) to requests whose ids match; `latency` stands in for OpenAlex's round trip."""

    def __init__(self, works: Iterable[dict[str, Any]] = (), *, latency: float = 0.0) -> None:
        self._by_author: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self._by_topic: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._latency = latency
        self.asked: list[list[str]] = []
        self.per_page_seen: list[int] = []
        self.faults: list[tuple[Callable[[list[str]], bool], int]] = []
        self.counts = StandInCounts()
        for work in works:
            self.add(work)

    def add(self, work: dict[str, Any]) -> None:
        """Serve this work to a filter on any of its authors."""
        with self._lock:
            order = next(self._order)
            for authorship in work["authorships"]:
                self._by_author[authorship["author"]["id"].rsplit("/", 1)[-1]].append((order, work))
            for topic in work.get("topics") or ():
                self._by_topic[topic["id"].rsplit("/", 1)[-1]].append((order, work))

    def clear(self) -> None:
        """Serve no works at all (what was asked stays)."""
        with self._lock:
            self._by_author.clear()
            self._by_topic.clear()

    def reset_counts(self) -> None:
        self.counts = StandInCounts()

    def fail_when(self, predicate: Callable[[list[str]], bool], status: int) -> None:
        self.faults.append((predicate, status))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Answer one /works list request; anything else is an UnexpectedRequest."""
        started = time.perf_counter()
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        filters = dict(part.split(":", 1) for part in query.get("filter", "").split(",") if ":" in part)
        key = next((k for k in ("authorships.author.id", "topics.id") if k in filters), None)
        if request.url.path != "/works" or key is None:
            raise UnexpectedRequest(f"unexpected OpenAlex request: {request.method} {request.url}")
        index = self._by_author if key == "authorships.author.id" else self._by_topic
        ids = filters[key].split("|")
        since = filters.get("from_publication_date")
        per_page = int(query.get("per_page", "25"))
        cursor = query.get("cursor", "*")
        with self._lock:
            self.asked.append(ids)
            self.per_page_seen.append(per_page)
            for predicate, status in self.faults:
                if predicate(ids):
                    headers = {"Retry-After": "3600"} if status == 429 else {}
                    return httpx.Response(status, json={"error": "fault"}, headers=headers)
            found = {
                order: work
                for value in ids
                for order, work in index.get(value, ())
                if since is None or work["publication_date"] >= since
            }
        matching = [found[order] for order in sorted(found)]
        start = 0 if cursor == "*" else int(cursor)
        page = matching[start : start + per_page]
        following = start + per_page
        meta = {
            "count": len(matching),
            "per_page": per_page,
            "next_cursor": str(following) if following < len(matching) else None,
        }
        reply = json_reply({"meta": meta, "results": page})
        self._count(cursor, ids, filters[key], len(page), per_page, started)
        if self._latency:
            time.sleep(self._latency)
        return reply

    def _count(
        self, cursor: str, ids: list[str], batch: str, results: int, per_page: int, started: float
    ) -> None:
        with self._lock:
            counts = self.counts
            if cursor == "*":
                counts.list_requests += 1
                counts.ids_asked += len(ids)
                counts.largest_batch = max(counts.largest_batch, len(ids))
            else:
                counts.paging_requests += 1
            counts.pages_per_batch[batch] += 1
            counts.results += results
            counts.largest_per_page = max(counts.largest_per_page, per_page)
            counts.seconds += time.perf_counter() - started
