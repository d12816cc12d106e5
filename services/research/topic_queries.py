"""What the store knows about a topic, for its card: works on it and the researchers with the most
of them, members of the asking workspace with an approved claim first. Query helpers take
`session` keyword-only and never commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.research.expertise import claimed_user_ids
from services.store.models import Authorship, Researcher, Topic, WorkTopic

CARD_RESEARCHERS = 5
# Researchers ranked per topic: enough that the workspace's claimed members among them surface.
_RANKED = 200


@dataclass(frozen=True)
class TopicResearcher:
    """A researcher in the store with works on the topic; user_id when a member here claimed them."""

    researcher_id: int
    name: str
    works: int
    user_id: str | None


@dataclass(frozen=True)
class TopicFacts:
    """A topic as the store holds it."""

    topic_id: int
    openalex_id: str | None
    name: str
    description: str | None
    subfield: str | None
    field: str | None
    domain: str | None
    works_count: int | None  # OpenAlex's, all of it
    works_in_store: int
    researchers: tuple[TopicResearcher, ...]


def count_topic_works(*, session: Session, topic_id: int) -> int:
    """Works in the store on the topic (any of their topics)."""
    return int(
        session.exec(
            select(func.count()).select_from(WorkTopic).where(col(WorkTopic.topic_id) == topic_id)
        ).one()
    )


def list_topic_researchers(
    *, session: Session, topic_id: int, team_id: str, limit: int = CARD_RESEARCHERS
) -> list[TopicResearcher]:
    """The researchers with most works on the topic in the store; claimed members of `team_id` first."""
    works = func.count(func.distinct(col(Authorship.work_id)))
    rows = session.exec(
        select(col(Researcher.id), col(Researcher.name), works)
        .select_from(WorkTopic)
        .join(Authorship, col(Authorship.work_id) == col(WorkTopic.work_id))
        .join(Researcher, col(Researcher.id) == col(Authorship.researcher_id))
        .where(col(WorkTopic.topic_id) == topic_id)
        .group_by(col(Researcher.id), col(Researcher.name))
        .order_by(works.desc(), col(Researcher.id))
        .limit(_RANKED)
    ).all()
    claimed = claimed_user_ids(session, team_id, [int(rid) for rid, _, _ in rows if rid is not None])
    ranked = [
        TopicResearcher(int(rid), str(name), int(count), claimed.get(int(rid)))
        for rid, name, count in rows
        if rid is not None
    ]
    ranked.sort(key=lambda r: (r.user_id is None, -r.works, r.researcher_id))
    return ranked[:limit]


def topic_facts(*, session: Session, topic: Topic, team_id: str) -> TopicFacts:
    """The card's facts of a stored topic."""
    assert topic.id is not None
    return TopicFacts(
        topic_id=topic.id,
        openalex_id=topic.openalex_id,
        name=topic.name,
        description=topic.description,
        subfield=topic.subfield_name,
        field=topic.field_name,
        domain=topic.domain_name,
        works_count=topic.works_count,
        works_in_store=count_topic_works(session=session, topic_id=topic.id),
        researchers=tuple(list_topic_researchers(session=session, topic_id=topic.id, team_id=team_id)),
    )
