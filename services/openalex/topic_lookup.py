"""Topics from Slack: TOPIC (an id, its URL, or words) → one topic, a short pick list, or none;
the topic cached in the store (refetched from OpenAlex when a day old) and its card's facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.openalex.author_lookup import LOOKUP_BUDGET_SECONDS
from services.openalex.client import OpenAlexClient
from services.openalex.records import OpenAlexError
from services.openalex.topics import (
    TopicCandidate,
    TopicNotFound,
    TopicRecord,
    get_topic,
    search_topics,
    topic_ref,
)
from services.openalex.upserts import clip
from services.research.topic_queries import TopicFacts, topic_facts
from services.store.engine import write_retrying_once
from services.store.models import Topic, utcnow
from services.store.text import normalize_name

# A topic's description and counts barely move; a card refetches them at most once a day.
STALE_AFTER = timedelta(days=1)
MAX_CHOICES = 5


@dataclass(frozen=True)
class TopicLookup:
    """How TOPIC resolved: one stored topic (`topic_id`), choices, none, or an error to show."""

    status: Literal["found", "choices", "none", "error"]
    query: str
    topic_id: int | None = None
    candidates: tuple[TopicCandidate, ...] = ()
    message: str | None = None


def find_stored_topic(*, session: Session, openalex_id: str) -> Topic | None:
    """The stored topic with this OpenAlex id."""
    return session.exec(select(Topic).where(col(Topic.openalex_id) == openalex_id)).first()


def store_topic(*, session: Session, record: TopicRecord, now: datetime) -> int:
    """Write a fetched topic into the store (matched by id, else by name); its row id."""
    name = clip(record.name, 512) or record.openalex_id
    row = find_stored_topic(session=session, openalex_id=record.openalex_id)
    if row is None:
        row = session.exec(select(Topic).where(col(Topic.name) == name)).first()
        if row is not None and row.openalex_id not in (None, record.openalex_id):
            row = None  # another topic holds the name: keep the id under a name of its own
            name = clip(f"{name} ({record.openalex_id})", 512) or record.openalex_id
    if row is not None and row.name != name:
        taken = session.exec(select(Topic.id).where(col(Topic.name) == name, col(Topic.id) != row.id)).first()
        row.name = row.name if taken is not None else name  # OpenAlex renamed it
    row = row or Topic(openalex_id=record.openalex_id, name=name)
    row.openalex_id = record.openalex_id
    row.description = record.description
    row.subfield_name = clip(record.subfield, 255)
    row.field_name = clip(record.field, 255)
    row.domain_name = clip(record.domain, 255)
    row.works_count = record.works_count
    row.fetched_at = now
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _fresh(topic: Topic | None, now: datetime) -> bool:
    if topic is None or topic.fetched_at is None:
        return False
    fetched = topic.fetched_at if topic.fetched_at.tzinfo else topic.fetched_at.replace(tzinfo=now.tzinfo)
    return now - fetched < STALE_AFTER


class TopicService:
    """Resolves TOPIC for a person waiting on it, caching topics in the store."""

    def __init__(self, engine: Engine, openalex: OpenAlexClient) -> None:
        self._engine = engine
        self._openalex = openalex

    def resolve(self, query: str, *, now: datetime | None = None) -> TopicLookup:
        """An id or URL → that topic; words → OpenAlex's autocomplete: one topic, or choices."""
        at = now or utcnow()
        text = " ".join(query.split())
        with self._openalex.time_budget(LOOKUP_BUDGET_SECONDS):
            ref = topic_ref(text)
            if ref is not None:
                return self._ensure(text, ref, at)
            try:
                candidates = search_topics(self._openalex, text)
            except OpenAlexError as error:
                return TopicLookup("error", text, message=error.user_message)
            if not candidates:
                return TopicLookup("none", text)
            wanted = normalize_name(text)
            exact = [c for c in candidates if normalize_name(c.name) == wanted]
            if len(candidates) == 1 or len(exact) == 1:
                chosen = candidates[0] if len(candidates) == 1 else exact[0]
                return self._ensure(text, chosen.openalex_id, at)
            return TopicLookup("choices", text, candidates=tuple(candidates[:MAX_CHOICES]))

    def facts(self, topic_id: int, *, team_id: str) -> TopicFacts | None:
        """The card's facts of a stored topic (None when it is gone)."""
        with Session(self._engine) as session:
            topic = session.get(Topic, topic_id)
            return topic_facts(session=session, topic=topic, team_id=team_id) if topic else None

    def _ensure(self, query: str, openalex_id: str, now: datetime) -> TopicLookup:
        with Session(self._engine) as session:
            cached = find_stored_topic(session=session, openalex_id=openalex_id)
            if cached is not None and _fresh(cached, now):
                return TopicLookup("found", query, topic_id=cached.id)
            cached_id = cached.id if cached is not None else None
        try:
            record = get_topic(self._openalex, openalex_id)
        except TopicNotFound:
            return TopicLookup("none", query)
        except OpenAlexError as error:
            if cached_id is not None:
                return TopicLookup("found", query, topic_id=cached_id)  # a day-old card beats none
            return TopicLookup("error", query, message=error.user_message)
        topic_id = write_retrying_once(self._engine, lambda s: store_topic(session=s, record=record, now=now))
        return TopicLookup("found", query, topic_id=topic_id)
