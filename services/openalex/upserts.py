"""What an OpenAlex record names, upserted into the store: its authors (by OpenAlex id, a merged
id, the slug or the ORCID; an L1 stub for an unknown author), institutions and topics. Shared by
the importer and store_works; query helpers take `session` keyword-only and never commit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from services.openalex.records import AuthorshipRef, InstitutionRef, TopicRef
from services.store.models import Institution, Researcher, ResearcherAlias, ResearcherName, Topic
from services.store.sql import chunks
from services.store.text import normalize_name


def default_headline(name: str) -> str:
    """BZPEER's headline template for auto-imported records (users may edit it later)."""
    return f"{name} contributes to research discovery and scholarly infrastructure."


def clip(text: str | None, limit: int) -> str | None:
    """`text` cut to a column's `limit` (None stays None)."""
    # PostgreSQL enforces VARCHAR lengths (SQLite does not); OpenAlex strings can be long.
    return text[:limit] if text is not None else None


def upsert_institution(*, session: Session, ref: InstitutionRef) -> int | None:
    """The id of the institution with this OpenAlex id, created or refreshed."""
    if ref.openalex_id is None:
        return None
    row = session.exec(select(Institution).where(Institution.openalex_id == ref.openalex_id)).first()
    if row is None:
        row = Institution(openalex_id=ref.openalex_id, name="")
        session.add(row)
    row.name = clip(ref.name, 512) or ref.openalex_id
    ror = ref.ror.rstrip("/").rsplit("/", 1)[-1] if ref.ror else None
    row.ror = clip(ror, 64) or row.ror
    row.country_code = clip(ref.country_code, 8) or row.country_code
    session.flush()
    return row.id


def upsert_topics(*, session: Session, topics: Iterable[TopicRef]) -> dict[str, int]:
    """Topic ids keyed by topic_key(), creating the missing topics (matched by id, else name)."""
    wanted: dict[str, TopicRef] = {}
    for topic in topics:
        wanted.setdefault(topic_key(topic), topic)
    if not wanted:
        return {}
    ids = sorted({t.openalex_id for t in wanted.values() if t.openalex_id})
    names = sorted({clip(t.name, 512) or "" for t in wanted.values()})
    by_id: dict[str, Topic] = {}
    by_name: dict[str, Topic] = {}
    for id_chunk in chunks(ids):
        for row in session.exec(select(Topic).where(col(Topic.openalex_id).in_(id_chunk))):
            by_id[row.openalex_id or ""] = row
            by_name[row.name] = row
    for name_chunk in chunks(names):
        for row in session.exec(select(Topic).where(col(Topic.name).in_(name_chunk))):
            by_name[row.name] = row
            if row.openalex_id:
                by_id[row.openalex_id] = row
    chosen: dict[str, Topic] = {}
    for key, topic in wanted.items():
        name = clip(topic.name, 512) or ""
        # Names are unique too: a known name under another (or no) id is the same topic.
        found = by_id.get(topic.openalex_id) if topic.openalex_id else None
        row = found or by_name.get(name) or Topic(openalex_id=topic.openalex_id, name=name)
        if row.id is None and name not in by_name:
            session.add(row)
            by_name[name] = row
        if topic.openalex_id and row.openalex_id is None and topic.openalex_id not in by_id:
            row.openalex_id = topic.openalex_id  # e.g. a topic first stored by name only
        if row.openalex_id:
            by_id[row.openalex_id] = row
        chosen[key] = row
    session.flush()
    return {key: row.id or 0 for key, row in chosen.items()}


def topic_key(topic: TopicRef) -> str:
    """How upsert_topics keys a topic: by OpenAlex id when it has one, else by name."""
    return f"id:{topic.openalex_id}" if topic.openalex_id else f"name:{clip(topic.name, 512)}"


def resolve_researchers(
    *, session: Session, people: Iterable[AuthorshipRef], now: datetime
) -> dict[str, int]:
    """Map OpenAlex author ids to researcher ids, creating L1 stubs for unknown authors."""
    wanted: dict[str, AuthorshipRef] = {}
    for person in people:
        if person.author_id:
            wanted.setdefault(person.author_id, person)
    found: dict[str, int] = {}
    ids = list(wanted)
    for chunk in chunks(ids):
        # slug = OpenAlex id for every imported record, so a slug match is the same author.
        rows = session.exec(
            select(Researcher.id, Researcher.openalex_id, Researcher.slug).where(
                or_(col(Researcher.openalex_id).in_(chunk), col(Researcher.slug).in_(chunk))
            )
        )
        by_slug: dict[str, int] = {}
        for rid, openalex_id, slug in rows:
            if rid is not None and openalex_id in wanted:
                found[openalex_id] = rid
            if rid is not None and slug in wanted:
                by_slug[slug] = rid
        for slug, rid in by_slug.items():
            found.setdefault(slug, rid)  # the current id wins over a slug left by a merge
    missing = [i for i in ids if i not in found]
    for chunk in chunks(missing):
        aliases = session.exec(
            select(ResearcherAlias.openalex_id, ResearcherAlias.researcher_id).where(
                col(ResearcherAlias.openalex_id).in_(chunk)
            )
        )
        found.update(dict(aliases.all()))
    # An ORCID we already hold means the same person under another OpenAlex id.
    by_orcid: dict[str, list[str]] = defaultdict(list)
    for author_id in ids:
        orcid = wanted[author_id].orcid
        if author_id not in found and orcid:
            by_orcid[orcid].append(author_id)
    taken: set[str] = set()
    for chunk in chunks(list(by_orcid)):
        for rid, orcid in session.exec(
            select(Researcher.id, Researcher.orcid).where(col(Researcher.orcid).in_(chunk))
        ):
            if orcid is not None and rid is not None:
                taken.add(orcid)
                for author_id in by_orcid[orcid]:
                    found[author_id] = rid
    stubs: list[Researcher] = []
    for author_id in ids:
        if author_id in found:
            continue
        person = wanted[author_id]
        orcid = person.orcid if person.orcid and person.orcid not in taken else None
        if orcid:
            taken.add(orcid)
        name = clip(person.name, 512) or author_id
        stubs.append(
            Researcher(
                slug=author_id,
                openalex_id=author_id,
                orcid=orcid,
                source="openalex",
                name=name,
                headline=default_headline(name),
                imported_at=None,
                updated_at=now,
            )
        )
    if stubs:
        session.add_all(stubs)
        session.flush()
        name_rows = []
        for stub in stubs:
            found[stub.slug] = stub.id or 0
            if folded := normalize_name(stub.name):
                name_rows.append(
                    {
                        "researcher_id": stub.id,
                        "name": stub.name,
                        "name_norm": folded[:512],
                        "is_primary": True,
                    }
                )
        if name_rows:
            session.execute(insert(ResearcherName), name_rows)
    return found
