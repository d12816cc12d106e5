"""Demo news for the local shell: followed researchers "publish" a new paper, and a new paper
appears on each followed topic, queued for their followers exactly as the refresh job queues what
it finds on OpenAlex (queueing.py), so that a follow → digest can be tried without OpenAlex or
waiting for real papers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from services.digests.queueing import queue_stored_works
from services.openalex.works import StoredWork
from services.research.paper_keys import shown_key
from services.store.engine import session_scope
from services.store.models import Authorship, Follow, Researcher, Topic, TopicFollow, Work, WorkTopic
from services.store.text import normalize_title


@dataclass(frozen=True)
class DemoNews:
    """What was published: (researcher or topic name, paper title) pairs and digest rows queued."""

    papers: tuple[tuple[str, str], ...]
    queued: int


class DemoNewsService:
    """Makes followed researchers publish one new (clearly labelled) demo paper each, and one
    appear on each followed topic."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def publish_for_followed(self, *, now: datetime) -> DemoNews:
        """One new paper per researcher someone follows, queued for their followers."""
        with session_scope(self._engine) as session:
            researchers = session.exec(
                select(Researcher)
                .join(Follow, col(Follow.researcher_id) == col(Researcher.id))
                .where(col(Follow.parked).is_(False))
                .distinct()
                .order_by(col(Researcher.id))
            ).all()
            papers: list[tuple[str, str]] = []
            stored: list[StoredWork] = []
            for researcher in researchers:
                assert researcher.id is not None
                title = f"A new paper by {researcher.name} (demo news, {now:%Y-%m-%d %H:%M:%S})"
                work = _demo_work(title, now)
                work.author_count = 1
                session.add(work)
                session.flush()
                assert work.id is not None
                session.add(
                    Authorship(
                        work_id=work.id,
                        researcher_id=researcher.id,
                        position=0,
                        raw_name=researcher.name,
                        **shown_key(work)._asdict(),
                    )
                )
                session.flush()
                stored.append(StoredWork(work.id, f"demo-{work.id}", True, False, (researcher.id,)))
                papers.append((researcher.name, title))
            topics = session.exec(
                select(Topic)
                .join(TopicFollow, col(TopicFollow.topic_id) == col(Topic.id))
                .where(col(TopicFollow.parked).is_(False))
                .distinct()
                .order_by(col(Topic.id))
            ).all()
            for topic in topics:
                assert topic.id is not None
                title = f"A new paper on {topic.name} (demo news, {now:%Y-%m-%d %H:%M:%S})"
                work = _demo_work(title, now)
                session.add(work)
                session.flush()
                assert work.id is not None
                session.add(WorkTopic(work_id=work.id, topic_id=topic.id))
                session.flush()
                stored.append(StoredWork(work.id, f"demo-{work.id}", True, False, ()))
                papers.append((f"topic {topic.name}", title))
            queued = queue_stored_works(session=session, stored=stored, now=now) if stored else 0
        return DemoNews(papers=tuple(papers), queued=queued)


def _demo_work(title: str, now: datetime) -> Work:
    return Work(
        title=title,
        title_norm=normalize_title(title),
        type="preprint",
        year=now.year,
        publication_date=now.date(),
        first_seen_at=now,
    )
