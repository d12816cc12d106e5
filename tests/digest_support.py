"""Test helpers for the refresh job and digests: an OpenAlex /works stand-in and store set-up."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.compose import DigestView
from services.digests.port import RecipientGone, SentMessage, TemporaryFailure
from services.store.models import Delivery, Follow, Member, Researcher, Work

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def author_id(n: int) -> str:
    return f"A5{n:09d}"


def work_json(
    openalex_id: str,
    title: str,
    authors: Sequence[tuple[str, str]],
    *,
    published: date = date(2026, 11, 1),
    kind: str = "article",
    venue: str | None = "Journal of Tests",
    doi: str | None = None,
) -> dict[str, Any]:
    """A /works list entry as OpenAlex sends it (only the fields the parser reads)."""
    if kind == "preprint":
        arxiv = f"2611.{openalex_id[-5:]}"
        doi = doi or f"10.48550/arxiv.{arxiv}"
        source: dict[str, Any] | None = {"id": "https://openalex.org/S4306400194", "display_name": "arXiv"}
        landing = f"https://arxiv.org/abs/{arxiv}"
    else:
        doi = doi or f"10.1234/{openalex_id.lower()}"
        source = {"id": "https://openalex.org/S1", "display_name": venue} if venue else None
        landing = f"https://doi.org/{doi}"
    return {
        "id": f"https://openalex.org/{openalex_id}",
        "doi": f"https://doi.org/{doi}",
        "title": title,
        "publication_year": published.year,
        "publication_date": published.isoformat(),
        "type": kind,
        "primary_location": {"landing_page_url": landing, "source": source},
        "authorships": [
            {"author": {"id": f"https://openalex.org/{aid}", "display_name": name}, "institutions": []}
            for aid, name in authors
        ],
    }


@dataclass
class WorksStandIn:
    """OpenAlex's /works list: OR filter over author ids, from_publication_date, cursor paging.

    `fail_when(predicate, status)` answers a status (with Retry-After on 429) to matching
    requests; every request's author ids are recorded in `asked`.
    """

    works: list[dict[str, Any]] = field(default_factory=list)
    asked: list[list[str]] = field(default_factory=list)
    per_page_seen: list[int] = field(default_factory=list)
    faults: list[tuple[Callable[[list[str]], bool], int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, work: dict[str, Any]) -> None:
        with self.lock:
            self.works.append(work)

    def fail_when(self, predicate: Callable[[list[str]], bool], status: int) -> None:
        self.faults.append((predicate, status))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        filters = dict(part.split(":", 1) for part in query["filter"].split(","))
        ids = filters["authorships.author.id"].split("|")
        since = (
            date.fromisoformat(filters["from_publication_date"])
            if "from_publication_date" in filters
            else None
        )
        per_page = int(query.get("per_page", "25"))
        with self.lock:
            self.asked.append(ids)
            self.per_page_seen.append(per_page)
            for predicate, status in self.faults:
                if predicate(ids):
                    headers = {"Retry-After": "3600"} if status == 429 else {}
                    return httpx.Response(status, json={"error": "fault"}, headers=headers)
            matching = [
                w
                for w in self.works
                if any(a["author"]["id"].rsplit("/", 1)[-1] in ids for a in w["authorships"])
                and (since is None or date.fromisoformat(w["publication_date"]) >= since)
            ]
        cursor = query.get("cursor", "*")
        start = 0 if cursor == "*" else int(cursor)
        page = matching[start : start + per_page]
        following = start + per_page
        meta = {"count": len(matching), "next_cursor": str(following) if following < len(matching) else None}
        return json_reply({"meta": meta, "results": page})


def json_reply(body: Any, status: int = 200) -> httpx.Response:
    """A JSON reply with non-ASCII written as \\u escapes, as a JSON server may: so a lone
    surrogate ("\\ud800") travels as it does in the wild (httpx's `json=` cannot encode one)."""
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


# -- store set-up ---------------------------------------------------------------------------------


def add_researcher(engine: Engine, openalex_id: str, name: str) -> int:
    with Session(engine) as session:
        row = Researcher(slug=openalex_id, openalex_id=openalex_id, name=name)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def add_member(
    engine: Engine,
    user_id: str,
    *,
    team_id: str = "T0TEAM1",
    frequency: str = "daily",
    at: str = "09:00",
    tz: str | None = None,
) -> int:
    with Session(engine) as session:
        row = Member(team_id=team_id, user_id=user_id, digest_frequency=frequency, digest_time=at, tz=tz)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def follow(engine: Engine, member_id: int, researcher_id: int, *, at: datetime, muted: bool = False) -> None:
    with Session(engine) as session:
        session.add(Follow(member_id=member_id, researcher_id=researcher_id, created_at=at, muted=muted))
        session.commit()


def ledger_rows(engine: Engine, member_id: int | None = None) -> list[Delivery]:
    with Session(engine) as session:
        query = select(Delivery).order_by(col(Delivery.id))
        if member_id is not None:
            query = query.where(col(Delivery.member_id) == member_id)
        return list(session.exec(query))


# -- senders --------------------------------------------------------------------------------------


class Crash(Exception):
    """Stands for the process dying in the middle of a delivery cycle."""


@dataclass
class RecordingSender:
    """A DigestSender that records digests; it can crash on the n-th send or fail per user."""

    crash_on: int | None = None  # 1-based send number that raises Crash
    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    rate_limited: set[str] = field(default_factory=set)
    sent: list[DigestView] = field(default_factory=list)
    posted: dict[str, SentMessage] = field(default_factory=dict)  # by message key
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fit(self, digest: DigestView) -> DigestView:
        return digest

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        with self.lock:
            self.calls += 1
            if self.crash_on is not None and self.calls == self.crash_on:
                raise Crash(f"crash on send {self.calls}")
            if user_id in self.gone:
                raise RecipientGone("user_not_found")
            if user_id in self.failing:
                raise TemporaryFailure("HTTP 500")
            if user_id in self.rate_limited:
                raise TemporaryFailure("429 after the retries", rate_limited=True)
            self.sent.append(digest)
            self.posted[key] = SentMessage(channel=f"D{user_id}", ts=f"1700000000.{len(self.sent):06d}")
            return self.posted[key]

    def find(
        self, *, team_id: str, user_id: str, channel: str | None, key: str, after: datetime, before: datetime
    ) -> SentMessage | None:
        return self.posted.get(key)

    def work_ids(self) -> list[int]:
        return [item.work_id for view in self.sent for group in view.groups for item in group.items]


def member_with_ledger(engine: Engine, team_id: str, user_id: str, statuses: tuple[str, ...]) -> int:
    """A member following the first researcher, with one ledger row per status."""
    with Session(engine) as session:
        researcher = session.exec(select(Researcher).order_by(col(Researcher.id))).first()
        works = session.exec(select(Work).order_by(col(Work.id)).limit(len(statuses))).all()
        assert researcher and researcher.id and len(works) == len(statuses)
        member = Member(team_id=team_id, user_id=user_id)
        session.add(member)
        session.flush()
        assert member.id is not None
        session.add(Follow(member_id=member.id, researcher_id=researcher.id))
        for work, status in zip(works, statuses, strict=True):
            assert work.id is not None
            session.add(
                Delivery(member_id=member.id, work_id=work.id, researcher_id=researcher.id, status=status)
            )
        session.commit()
        return member.id


def follow_and_ledger_state(engine: Engine, member_id: int) -> tuple[list[bool], list[str]]:
    """Whether each of the member's follows is parked, and their ledger rows' statuses."""
    with Session(engine) as session:
        follows = session.exec(select(Follow.parked).where(col(Follow.member_id) == member_id)).all()
        statuses = session.exec(
            select(Delivery.status).where(col(Delivery.member_id) == member_id).order_by(col(Delivery.id))
        ).all()
    return list(follows), list(statuses)
