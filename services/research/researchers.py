"""A researcher's searchable names and topics, kept in step with the store: query helpers shared by
the importer, the demo loader and the refresh job (never commit)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from services.store.models import Authorship, ResearcherName, ResearcherTopic, WorkTopic
from services.store.sql import chunks
from services.store.text import normalize_name


def set_names(
    *, session: Session, researcher_id: int, primary: str, alternatives: Iterable[str] = ()
) -> None:
    """Make the searchable names of a researcher exactly `primary` plus `alternatives`."""
    wanted: dict[str, tuple[str, bool]] = {}
    for name, is_primary in [(primary, True), *((alt, False) for alt in alternatives)]:
        folded = normalize_name(name)
        if folded and folded not in wanted:
            wanted[folded] = (name.strip(), is_primary)
    existing = {
        row.name_norm: row
        for row in session.exec(
            select(ResearcherName).where(col(ResearcherName.researcher_id) == researcher_id)
        )
    }
    for folded, row in existing.items():
        if folded not in wanted:
            session.delete(row)
        else:
            row.name, row.is_primary = wanted[folded]
    session.add_all(
        ResearcherName(researcher_id=researcher_id, name=name, name_norm=folded, is_primary=is_primary)
        for folded, (name, is_primary) in wanted.items()
        if folded not in existing
    )


def refresh_researcher_topics(
    *,
    session: Session,
    researcher_ids: Iterable[int],
    extra: dict[int, dict[int, int]] | None = None,
) -> None:
    """Recompute researcher_topic from the topics of each researcher's works in the store.

    `extra` maps researcher id → {topic id: works} from elsewhere (OpenAlex's author record);
    the larger count wins, so re-running never inflates anything.
    """
    ids = sorted(set(researcher_ids))
    if not ids:
        return
    session.flush()
    counts: dict[int, dict[int, int]] = {rid: {} for rid in ids}
    for chunk in chunks(ids):
        author = col(Authorship.researcher_id)
        rows = session.exec(
            select(author, col(WorkTopic.topic_id), func.count(func.distinct(col(WorkTopic.work_id))))
            .join(WorkTopic, col(WorkTopic.work_id) == col(Authorship.work_id))
            .where(author.in_(chunk))
            .group_by(author, col(WorkTopic.topic_id))
        )
        for rid, topic_id, works in rows:
            if rid is not None:
                counts[rid][topic_id] = works
        session.execute(delete(ResearcherTopic).where(col(ResearcherTopic.researcher_id).in_(chunk)))
    for rid, topics in (extra or {}).items():
        if rid in counts:
            for topic_id, works in topics.items():
                counts[rid][topic_id] = max(counts[rid].get(topic_id, 0), works)
    session.add_all(
        ResearcherTopic(researcher_id=rid, topic_id=topic_id, works=works)
        for rid, topics in counts.items()
        for topic_id, works in topics.items()
    )
