"""Imports an OpenAlex author with all their works and co-authors, written in one transaction
(or, when the store refuses that, the author first and then work by work)."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.openalex.client import MAX_PER_PAGE, OpenAlexClient
from services.openalex.records import (
    Author,
    AuthorCandidate,
    AuthorNotFound,
    AuthorshipRef,
    BadResponse,
    Work,
)
from services.openalex.upserts import clip, default_headline, topic_key, upsert_institution, upsert_topics
from services.openalex.work_batches import UNSTORABLE_ERRORS, describe, write_each
from services.openalex.works import StoredWork, store_works
from services.research.identifiers import AuthorRef
from services.research.profiles import count_collaborators, count_works
from services.research.researchers import refresh_researcher_topics, set_names
from services.store.engine import session_scope
from services.store.models import Researcher, ResearcherAlias, ResearcherTopic, utcnow
from services.store.sql import chunks
from services.store.text import normalize_name

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int | None], None]
ImportListener = Callable[[set[int]], None]


@dataclass(frozen=True)
class ImportResult:
    researcher_id: int
    name: str
    openalex_id: str
    works: int  # works linked to the researcher in the store
    coauthors: int  # distinct co-authors on those works
    merged_from: str | None  # the id we asked for, when OpenAlex merged it into `openalex_id`
    created: bool  # a new researcher row (False when it existed, even as a co-author stub)
    works_skipped: int = 0  # works the store refused (each named in the log)


def _plausible_alternatives(primary: str, alternatives: Iterable[str]) -> list[str]:
    # OpenAlex mixes co-authors' names into display_name_alternatives (e.g. "Hemminger,
    # Bradley M." for Jason Priem): keep only names sharing a non-initial token with the primary.
    tokens = {t for t in normalize_name(primary).split() if len(t) > 1}
    return [alt for alt in alternatives if tokens & {t for t in normalize_name(alt).split() if len(t) > 1}]


class ImportService:
    """Imports OpenAlex authors: fetch everything first, then write it in one transaction."""

    def __init__(
        self, engine: Engine, client: OpenAlexClient, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self._client = client
        self._clock = clock
        self._listeners: list[ImportListener] = []

    def add_import_listener(self, listener: ImportListener) -> None:
        """Call `listener(researcher_ids)` after each committed import (e.g. to drop caches)."""
        self._listeners.append(listener)

    def search_openalex(self, name: str, limit: int = 10) -> list[AuthorCandidate]:
        """OpenAlex authors matching a name, for a person to pick from."""
        return self._client.search_authors(name, limit=limit)

    def import_author(self, ref: AuthorRef, *, progress: ProgressCallback | None = None) -> ImportResult:
        """Import an author by OpenAlex id or ORCID with all their works and co-authors."""
        if ref.kind == "name":
            raise ValueError("resolve a name to an OpenAlex id with search_openalex() first")
        lookup = ref.value if ref.kind == "openalex" else f"orcid:{ref.value}"
        author = self._client.get_author(lookup)
        if author.is_tombstone:
            raise AuthorNotFound(_tombstone_message(author), status=404)
        works = self._fetch_works(author, progress)
        now = self._clock()
        try:
            result, touched = self._write(author, works, now)
        except UNSTORABLE_ERRORS as error:
            # A record the store refuses, or a concurrent import that stored some of the same
            # rows first. Everything we need is in memory and the upserts look rows up again,
            # so writing work by work settles the race, and a bad record costs only itself.
            log.info(
                "import of %s was refused as a whole (%s); storing it work by work",
                author.openalex_id,
                describe(error),
            )
            result, touched = self._write_each(author, works, now)
        for listener in self._listeners:
            try:
                listener(touched)
            except Exception:  # the import is committed; a cache hook must not undo the reply
                log.exception("import listener %r failed", listener)
        return result

    def _fetch_works(self, author: Author, progress: ProgressCallback | None) -> list[Work]:
        fetched: dict[str, Work] = {}
        if progress is not None:
            progress(0, author.works_count)
        pages = self._client.iter_work_pages(
            f"authorships.author.id:{author.openalex_id}", per_page=MAX_PER_PAGE
        )
        for page in pages:
            for work in page.works:
                fetched[work.openalex_id] = _ensure_author(work, author)
            if progress is not None:
                progress(len(fetched), page.total)
        return list(fetched.values())

    def _write(self, author: Author, works: list[Work], now: datetime) -> tuple[ImportResult, set[int]]:
        """The author, their works and everyone's topics in one transaction."""
        with session_scope(self._engine) as session:
            researcher, created = _upsert_author(session=session, author=author, now=now)
            stored = store_works(session=session, works=works, now=now)
            return _finish(
                session=session, author=author, researcher=researcher, created=created, stored=stored
            )

    def _write_each(self, author: Author, works: list[Work], now: datetime) -> tuple[ImportResult, set[int]]:
        """The author, then each work, then everyone's topics, each in its own transaction."""
        try:
            with session_scope(self._engine) as session:
                researcher, created = _upsert_author(session=session, author=author, now=now)
                researcher_id = researcher.id
        except UNSTORABLE_ERRORS as error:
            log.warning(
                "import of %s: the store refused the author record (%s)", author.openalex_id, describe(error)
            )
            raise BadResponse(
                f"OpenAlex sent an author record for {author.openalex_id} that could not be stored."
            ) from error

        def write(session: Session, some: Sequence[Work]) -> list[StoredWork]:
            return store_works(session=session, works=some, now=now)

        written, skipped = write_each(self._engine, works, write, what=f"import of {author.openalex_id}")
        with session_scope(self._engine) as session:
            researcher = session.get_one(Researcher, researcher_id)
            return _finish(
                session=session,
                author=author,
                researcher=researcher,
                created=created,
                stored=[s for stored in written for s in stored],
                works_skipped=len(skipped),
            )


def _finish(
    *,
    session: Session,
    author: Author,
    researcher: Researcher,
    created: bool,
    stored: list[StoredWork],
    works_skipped: int = 0,
) -> tuple[ImportResult, set[int]]:
    """Topics of everyone the import touched, and what it did; the researchers it touched."""
    assert researcher.id is not None
    touched = {researcher.id} | {rid for s in stored for rid in s.researcher_ids}
    own_topics = upsert_topics(session=session, topics=author.topics)
    extra = kept_topics(session=session, researcher_ids=touched - {researcher.id})
    extra[researcher.id] = {own_topics[topic_key(t)]: t.count or 0 for t in author.topics}
    refresh_researcher_topics(session=session, researcher_ids=touched, extra=extra)
    result = ImportResult(
        researcher_id=researcher.id,
        name=researcher.name,
        openalex_id=author.openalex_id,
        works=count_works(session, researcher.id),
        coauthors=count_collaborators(session, researcher.id),
        merged_from=author.requested_id if author.merged else None,
        created=created,
        works_skipped=works_skipped,
    )
    return result, touched


def _tombstone_message(author: Author) -> str:
    if author.merged:
        return (
            f"OpenAlex merged {author.requested_id} into {author.openalex_id}, which is now a "
            "deleted-author placeholder, so there is nothing to import."
        )
    return f"OpenAlex lists {author.openalex_id} as a deleted author, so there is nothing to import."


def _ensure_author(work: Work, author: Author) -> Work:
    # List results cut authorships at 100: the author we filtered on may be beyond the cut.
    # Link them after the listed authors rather than lose the work from their profile.
    if not work.is_authors_truncated or any(a.author_id == author.openalex_id for a in work.authorships):
        return work
    extra = AuthorshipRef(author.openalex_id, author.display_name, author.orcid, len(work.authorships))
    return dataclasses.replace(work, authorships=(*work.authorships, extra))


def kept_topics(*, session: Session, researcher_ids: set[int]) -> dict[int, dict[int, int]]:
    # Co-authors imported in their own right keep the topics OpenAlex gave their author record;
    # refresh_researcher_topics would otherwise rebuild them from stored works alone.
    kept: dict[int, dict[int, int]] = defaultdict(dict)
    for chunk in chunks(sorted(researcher_ids)):
        rows = session.exec(
            select(ResearcherTopic.researcher_id, ResearcherTopic.topic_id, ResearcherTopic.works)
            .join(Researcher, col(Researcher.id) == ResearcherTopic.researcher_id)
            .where(
                col(ResearcherTopic.researcher_id).in_(chunk),
                col(Researcher.imported_at).is_not(None),
            )
        )
        for rid, topic_id, works in rows:
            kept[rid][topic_id] = works
    return kept


def _find_author_row(*, session: Session, author: Author) -> Researcher | None:
    ids = [author.openalex_id]
    if author.merged:
        ids.append(author.requested_id)
    row = session.exec(select(Researcher).where(Researcher.openalex_id == author.openalex_id)).first()
    if row is None:
        alias = session.exec(select(ResearcherAlias).where(col(ResearcherAlias.openalex_id).in_(ids))).first()
        row = session.get(Researcher, alias.researcher_id) if alias else None
    if row is None and author.merged:
        row = session.exec(select(Researcher).where(Researcher.openalex_id == author.requested_id)).first()
    if row is None and author.orcid:
        row = session.exec(select(Researcher).where(Researcher.orcid == author.orcid)).first()
    return row


def _set_alias(*, session: Session, openalex_id: str, researcher_id: int) -> None:
    alias = session.get(ResearcherAlias, openalex_id)
    if alias is None:
        session.add(ResearcherAlias(openalex_id=openalex_id, researcher_id=researcher_id))
    else:
        alias.researcher_id = researcher_id


def _free_slug(*, session: Session, wanted: str) -> str:
    slug, n = wanted, 1
    while session.exec(select(Researcher.id).where(Researcher.slug == slug)).first() is not None:
        n += 1
        slug = f"{wanted}-{n}"
    return slug


def _upsert_author(*, session: Session, author: Author, now: datetime) -> tuple[Researcher, bool]:
    """The researcher row for an imported author, found by id, alias, merged id or ORCID."""
    row = _find_author_row(session=session, author=author)
    created = row is None
    name = clip(author.display_name, 512) or author.openalex_id
    if row is None:
        row = Researcher(
            slug=_free_slug(session=session, wanted=author.openalex_id),
            source="openalex",
            name=name,
            headline=default_headline(name),
        )
        session.add(row)
    previous_id = row.openalex_id
    row.openalex_id = author.openalex_id
    if author.orcid and row.orcid != author.orcid:
        holder = session.exec(select(Researcher.id).where(Researcher.orcid == author.orcid)).first()
        if holder is None:
            row.orcid = author.orcid
        else:
            log.warning(
                "ORCID %s of %s is held by researcher %s; left as is",
                author.orcid,
                author.openalex_id,
                holder,
            )
    row.name = name
    if author.last_known_institution is not None:
        row.institution_id = (
            upsert_institution(session=session, ref=author.last_known_institution) or row.institution_id
        )
    row.openalex_works_count = author.works_count
    row.cited_by_count = author.cited_by_count
    row.h_index = author.h_index
    row.imported_at = now
    row.updated_at = now
    # headline and open_to_collaborate belong to the people who edit the profile: untouched.
    session.flush()
    assert row.id is not None
    for old_id in {previous_id, author.requested_id if author.merged else None}:
        if old_id and old_id != author.openalex_id:
            _set_alias(session=session, openalex_id=old_id, researcher_id=row.id)
    set_names(
        session=session,
        researcher_id=row.id,
        primary=author.display_name,
        alternatives=_plausible_alternatives(author.display_name, author.alternative_names),
    )
    session.flush()
    return row, created
