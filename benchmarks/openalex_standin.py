"""A local stand-in for OpenAlex's `/works` list, for the refresh benchmark.

It answers `filter=authorships.author.id:A1|A2|…[,from_publication_date:YYYY-MM-DD]` with the
works of those authors, cursor-paged (`per_page`, `cursor=*` then `meta.next_cursor`), through an
`httpx.MockTransport`; anything else is an error, so an unexpected request cannot pass unseen.
It counts what the client asked for: list requests (first pages), paging requests, results.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs

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
