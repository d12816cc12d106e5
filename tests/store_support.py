"""Researchers, works and topics in a test store (both databases): one at a time, or bulk-inserted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from services.research.coauthor_graph import Byline, record_byline_changes
from services.research.paper_keys import shown_key
from services.research.researchers import set_names
from services.store.engine import session_scope
from services.store.models import Authorship, Researcher, ResearcherName, ResearcherTopic, Topic, Work
from services.store.sql import chunks
from services.store.text import normalize_name, normalize_title


def add_researcher(engine: Engine, name: str, *, openalex_id: str | None = None) -> int:
    """One researcher (no works), searchable by name; with an OpenAlex id, as the importer keys
    one (refresh polls it)."""
    with session_scope(engine) as session:
        researcher = Researcher(
            slug=openalex_id or name.lower().replace(" ", "-"),
            source="openalex" if openalex_id else "bzpeer",
            name=name,
            openalex_id=openalex_id,
        )
        session.add(researcher)
        session.flush()
        assert researcher.id is not None
        set_names(session=session, researcher_id=researcher.id, primary=name)
        return researcher.id


class StoreBuilder:
    """A few bulk statements per call, so thousands of rows load in well under a second."""

    def __init__(self, engine: Engine, prefix: str = "t") -> None:
        self.engine = engine
        self.prefix = prefix
        self._serial = 0

    def _slug(self) -> str:
        self._serial += 1
        return f"{self.prefix}-{self._serial}"

    def researchers(self, names: Sequence[str], *, open_to_collaborate: bool = True) -> list[int]:
        """Add researchers with searchable names; their ids in the same order."""
        if not names:
            return []
        rows = [
            {"slug": self._slug(), "source": "bzpeer", "name": n, "open_to_collaborate": open_to_collaborate}
            for n in names
        ]
        with session_scope(self.engine) as session:
            result = session.execute(
                insert(Researcher).returning(col(Researcher.id), sort_by_parameter_order=True), rows
            )
            ids = [int(row[0]) for row in result]
            session.execute(
                insert(ResearcherName),
                [
                    {"researcher_id": rid, "name": n, "name_norm": normalize_name(n), "is_primary": True}
                    for rid, n in zip(ids, names, strict=True)
                ],
            )
        return ids

    def works(
        self, bylines: Sequence[Sequence[int]], *, author_count: int | None = None, **fields: Any
    ) -> list[int]:
        """Add one work per byline (researcher ids in author order); `fields` apply to every work.

        A field given as a callable is called with the work's index for its value."""
        rows = []
        for i, byline in enumerate(bylines):
            row: dict[str, Any] = {"title": f"Work {self._slug()}", "type": "article", "year": 2020}
            row.update({k: (v(i) if callable(v) else v) for k, v in fields.items()})
            row["title_norm"] = normalize_title(row["title"])
            row["author_count"] = author_count if author_count is not None else len(byline)
            rows.append(row)
        if not rows:
            return []
        with session_scope(self.engine) as session:
            result = session.execute(insert(Work).returning(col(Work.id), sort_by_parameter_order=True), rows)
            ids = [int(row[0]) for row in result]
            # The publication list's key on every authorship row, as the importer stores it.
            keys = [shown_key(Work(**row))._asdict() for row in rows]
            links = [
                {"work_id": wid, "researcher_id": rid, "position": position, "raw_name": f"R{rid}", **key}
                for wid, byline, key in zip(ids, bylines, keys, strict=True)
                for position, rid in enumerate(byline)
            ]
            for chunk in chunks(links, 5000):
                session.execute(insert(Authorship), list(chunk))
            # The stored co-authorship graph, as the importer keeps it.
            stored = {
                wid: Byline(frozenset(byline), row["author_count"])
                for wid, byline, row in zip(ids, bylines, rows, strict=True)
            }
            record_byline_changes(session=session, before={}, after=stored)
        return ids

    def topics(self, by_researcher: dict[int, Sequence[str]]) -> None:
        """Give researchers topics (researcher_topic), creating the topics as needed."""
        with session_scope(self.engine) as session:
            wanted = sorted({t for names in by_researcher.values() for t in names})
            existing = {
                name: tid
                for tid, name in session.exec(
                    select(col(Topic.id), col(Topic.name)).where(col(Topic.name).in_(wanted))
                )
            }
            for name in wanted:
                if name not in existing:
                    topic = Topic(name=name)
                    session.add(topic)
                    session.flush()
                    assert topic.id is not None
                    existing[name] = topic.id
            session.execute(
                insert(ResearcherTopic),
                [
                    {"researcher_id": rid, "topic_id": existing[name], "works": 1}
                    for rid, names in by_researcher.items()
                    for name in names
                ],
            )
