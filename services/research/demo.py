"""The bundled demo store: BZPEER's public records for Samyadeep Basu and his neighbourhood."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.research.coauthor_graph import Byline, read_bylines, record_byline_changes
from services.research.paper_keys import shown_key
from services.research.researchers import refresh_researcher_topics, set_names
from services.store.engine import session_scope
from services.store.models import Authorship, Researcher, Topic, Work, WorkTopic, utcnow
from services.store.text import normalize_title


@dataclass(frozen=True)
class DemoResult:
    researchers: int
    works: int


def load_dataset() -> dict[str, Any]:
    """The demo facts shipped as package data."""
    text = resources.files("services.research").joinpath("data/demo-dataset.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class DemoService:
    """Loads the demo dataset; running it again changes nothing."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self) -> DemoResult:
        """Upsert every demo researcher and work (keyed by slug and arXiv id)."""
        data = load_dataset()
        with session_scope(self._engine) as session:
            by_key: dict[str, Researcher] = {}
            for item in data["researchers"]:
                researcher = session.exec(
                    select(Researcher).where(col(Researcher.slug) == item["key"])
                ).first()
                if researcher is None:
                    # Demo profiles are BZPEER public records: they start as their seed shows
                    # them; later edits by a claimant are kept on re-load.
                    researcher = Researcher(
                        slug=item["key"],
                        source="bzpeer",
                        name=item["name"],
                        headline=item.get("headline"),
                        open_to_collaborate=item.get("open_to_collaborate", True),
                    )
                    session.add(researcher)
                    session.flush()
                assert researcher.id is not None
                set_names(
                    session=session,
                    researcher_id=researcher.id,
                    primary=item["name"],
                    alternatives=item.get("alternative_names", []),
                )
                by_key[item["key"]] = researcher
            for item in data["works"]:
                self._upsert_work(session, item, by_key)
            for item in data.get("topics", []):
                self._upsert_topic(session, item)
            refresh_researcher_topics(
                session=session, researcher_ids=[r.id for r in by_key.values() if r.id is not None]
            )
        return DemoResult(researchers=len(data["researchers"]), works=len(data["works"]))

    @staticmethod
    def _upsert_topic(session: Session, item: dict[str, Any]) -> None:
        """A topic with its card's details, as if fetched once (fetched_at stays empty, so a card
        asks OpenAlex first and falls back to this when it cannot be reached)."""
        topic = session.exec(select(Topic).where(col(Topic.openalex_id) == item["openalex_id"])).first()
        topic = topic or Topic(openalex_id=item["openalex_id"], name=item["name"])
        topic.description = item.get("description")
        topic.subfield_name = item.get("subfield")
        topic.field_name = item.get("field")
        topic.domain_name = item.get("domain")
        topic.works_count = item.get("works_count")
        session.add(topic)

    @staticmethod
    def _upsert_work(session: Session, item: dict[str, Any], by_key: dict[str, Researcher]) -> None:
        work = session.exec(select(Work).where(col(Work.arxiv_id) == item["arxiv_id"])).first()
        before = read_bylines(session=session, work_ids=[work.id] if work and work.id else [])
        if work is None:
            work = Work(title=item["title"], title_norm="", first_seen_at=utcnow())
            session.add(work)
        work.title = item["title"]
        work.title_norm = normalize_title(item["title"])
        work.type = item["type"]
        work.year = item["year"]
        work.venue = item["venue"]
        work.arxiv_id = item["arxiv_id"]
        work.landing_url = f"https://arxiv.org/abs/{item['arxiv_id']}"
        work.abstract = item.get("abstract")
        work.author_count = len(item["authors"])
        session.flush()
        assert work.id is not None
        session.execute(delete(Authorship).where(col(Authorship.work_id) == work.id))
        session.execute(delete(WorkTopic).where(col(WorkTopic.work_id) == work.id))
        shown = shown_key(work)._asdict()
        for position, key in enumerate(item["authors"]):
            author = by_key[key]
            session.add(
                Authorship(
                    work_id=work.id,
                    researcher_id=author.id,
                    position=position,
                    raw_name=author.name,
                    **shown,
                )
            )
        after = Byline(frozenset(by_key[key].id or 0 for key in item["authors"]), work.author_count)
        record_byline_changes(session=session, before=before, after={work.id: after})
        for name in item.get("topics", []):
            topic = session.exec(select(Topic).where(col(Topic.name) == name)).first()
            if topic is None:
                topic = Topic(name=name)
                session.add(topic)
                session.flush()
            assert topic.id is not None
            session.add(WorkTopic(work_id=work.id, topic_id=topic.id))
