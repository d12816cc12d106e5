"""Test helpers for the refresh job and digests: members, follows and the ledger in the store,
and digest senders that record or fail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.digests.compose import DigestView
from services.digests.port import RecipientGone, SentMessage, TemporaryFailure
from services.store.models import Delivery, Follow, Member, Researcher, Work

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def author_id(n: int) -> str:
    return f"A5{n:09d}"


# -- store set-up ---------------------------------------------------------------------------------


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
class FakeClock:
    """A DigestService's monotonic clock and pause: pausing moves the clock, nothing sleeps."""

    seconds: float = 0.0
    pauses: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.seconds

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.seconds += seconds


@dataclass
class RecordingSender:
    """A DigestSender that records digests; it can crash on the n-th send or fail per user, or
    answer a workspace's next post with a 429 naming a Retry-After (`limit_next`, team → s)."""

    crash_on: int | None = None  # 1-based send number that raises Crash
    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    rate_limited: set[str] = field(default_factory=set)
    limit_next: dict[str, float] = field(default_factory=dict)
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
                raise TemporaryFailure("429", rate_limited=True)
            if team_id in self.limit_next:
                raise TemporaryFailure("429", rate_limited=True, retry_after=self.limit_next.pop(team_id))
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
