"""The refresh job: poll OpenAlex for followed researchers' and topics' recent works and queue
digest items.

Followed researchers are polled 100 author ids per request (OpenAlex's OR-filter ceiling), then
followed topics 100 topic ids per request (`topics.id:T1|…`), with cursor paging. Each batch
is written in its own transaction together with the ledger rows it produces (an outbox: a work
is never stored without its digest items, nor the reverse); a batch the store refuses is
written again work by work, skipping only the works it still refuses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.digests import queueing
from services.digests.schedule import as_utc
from services.openalex.client import MAX_OR_VALUES, OpenAlexClient
from services.openalex.importer import kept_topics
from services.openalex.records import AccessDenied, BadResponse, OpenAlexUnavailable, RateLimited
from services.openalex.records import Work as OpenAlexWork
from services.openalex.topics import is_topic_id, works_for_topics
from services.openalex.work_batches import UNSTORABLE_ERRORS, describe, write_each
from services.openalex.works import StoredWork, store_works
from services.research.researchers import refresh_researcher_topics
from services.store.engine import session_scope
from services.store.sql import chunks
from services.store.text import plural

log = logging.getLogger(__name__)

# from_publication_date = now − LOOKBACK. Publication dates are an imperfect signal for "recently
# added": OpenAlex indexes works days or weeks after they appear, and `from_created_date` needs a
# paid plan. Re-reading a month costs a few pages; the ledger's unique key and first_seen_at
# keep anything already seen from being news twice.
LOOKBACK = timedelta(days=30)

_AUTHOR_ID = re.compile(r"^A\d+$")


@dataclass
class RefreshReport:
    """What one refresh cycle did."""

    researchers: int = 0
    topics: int = 0
    batches: int = 0
    batches_done: int = 0
    batches_skipped: int = 0
    works_seen: int = 0
    works_new: int = 0
    works_published: int = 0  # preprints whose published version arrived
    items_queued: int = 0
    works_skipped: int = 0  # works the store refused (each named in the log)
    rate_limited: bool = False
    retry_after: float | None = None
    stopped: str | None = None  # why the cycle ended early, if it did

    def summary(self) -> str:
        """One line for logs and the command line."""
        topics = f" and {plural(self.topics, 'followed topic')}" if self.topics else ""
        line = (
            f"Refresh: {plural(self.researchers, 'followed researcher')}{topics} "
            f"in {plural(self.batches, 'batch', 'batches')} "
            f"({self.batches_done} done, {self.batches_skipped} skipped); "
            f"{plural(self.works_seen, 'work')} seen, {self.works_new} new, "
            f"{self.works_published} now published; "
            f"{plural(self.items_queued, 'digest item')} queued"
        )
        if self.works_skipped:
            line += f"; {plural(self.works_skipped, 'work')} could not be stored (named in the log)"
        if self.stopped:
            line += f"; stopped early: {self.stopped}"
        return line + "."


def _rotate(ids: list[str], start_at: str | None) -> list[str]:
    """`ids` starting from where a rate-limited cycle stopped (all of them, in a ring)."""
    if start_at is None:
        return ids
    start = next((i for i, value in enumerate(ids) if value >= start_at), 0)
    return ids[start:] + ids[:start]


class RefreshService:
    """Polls OpenAlex for every followed researcher and stores what is new."""

    def __init__(self, engine: Engine, client: OpenAlexClient, *, lookback: timedelta = LOOKBACK) -> None:
        self._engine = engine
        self._client = client
        self._lookback = lookback
        # Where a rate-limited cycle stopped: the next cycle starts there, so a budget that runs
        # out at the same point every day does not starve the researchers (or topics) after it.
        self._resume_from: str | None = None
        self._resume_topics_from: str | None = None

    def followed_author_ids(self) -> list[str]:
        """OpenAlex ids of the researchers the refresh job polls, sorted."""
        with session_scope(self._engine) as session:
            ids = queueing.list_followed_openalex_ids(session=session)
        return [i for i in ids if _AUTHOR_ID.match(i)]

    def followed_topic_ids(self) -> list[str]:
        """OpenAlex ids of the topics the refresh job polls, sorted."""
        with session_scope(self._engine) as session:
            ids = queueing.list_followed_topic_ids(session=session)
        return [i for i in ids if is_topic_id(i)]

    def refresh(self, *, now: datetime) -> RefreshReport:
        """One cycle: every batch of 100 followed researchers, then of 100 followed topics, each
        batch in its own transaction."""
        now = as_utc(now)
        since = (now - self._lookback).date()
        authors = _rotate(self.followed_author_ids(), self._resume_from)
        topics = _rotate(self.followed_topic_ids(), self._resume_topics_from)
        author_batches = list(chunks(authors, MAX_OR_VALUES))
        topic_batches = list(chunks(topics, MAX_OR_VALUES))
        report = RefreshReport(
            researchers=len(authors), topics=len(topics), batches=len(author_batches) + len(topic_batches)
        )
        batches: list[tuple[str, Sequence[str]]] = [("researcher", b) for b in author_batches]
        batches += [("topic", b) for b in topic_batches]
        for number, (kind, batch) in enumerate(batches, 1):
            try:
                if kind == "topic":
                    works = list(works_for_topics(self._client, batch, from_publication_date=since))
                else:
                    works = list(self._client.works_for_authors(batch, from_publication_date=since))
            except RateLimited as error:
                # The day's budget is spent (or close to it): everything after this would 429 too.
                # Nothing of this batch was written; the next cycle starts again from here.
                report.rate_limited = True
                self._resume_from = batch[0] if kind == "researcher" else None
                self._resume_topics_from = batch[0] if kind == "topic" else None
                report.retry_after = error.retry_after
                report.stopped = f"OpenAlex rate limit at batch {number} of {len(batches)}"
                log.warning(
                    "refresh stopped at batch %d of %d: OpenAlex answered 429 (Retry-After: %s); "
                    "resuming next cycle",
                    number,
                    len(batches),
                    "none" if error.retry_after is None else f"{error.retry_after:.0f}s",
                )
                return report
            except AccessDenied as error:
                report.stopped = "OpenAlex refused the API key"
                log.error("refresh stopped at batch %d of %d: %s", number, len(batches), error)
                return report
            except (OpenAlexUnavailable, BadResponse) as error:
                # The client already retried with backoff; give up on this batch only.
                report.batches_skipped += 1
                log.warning(
                    "refresh skipped batch %d of %d (%d %s ids): %s",
                    number,
                    len(batches),
                    len(batch),
                    kind,
                    error,
                )
                continue
            self._store_batch(number, works, now, report)
            report.batches_done += 1
        self._resume_from = self._resume_topics_from = None
        return report

    def _store_batch(
        self, number: int, works: list[OpenAlexWork], now: datetime, report: RefreshReport
    ) -> None:
        def write(session: Session, some: Sequence[OpenAlexWork]) -> tuple[list[StoredWork], int]:
            return self._write(session, some, now)

        try:
            with session_scope(self._engine) as session:
                written = [write(session, works)]
        except UNSTORABLE_ERRORS as error:
            # A record the store refuses, or an import from the web process that stored some of
            # the same rows first (store_works looks everything up again): work by work settles
            # the race, and a bad record then costs only itself.
            log.info(
                "refresh batch %d was refused as a whole (%s); storing it work by work",
                number,
                describe(error),
            )
            written, skipped = write_each(self._engine, works, write, what=f"refresh batch {number}")
            report.works_skipped += len(skipped)
        for stored, queued in written:
            report.works_seen += len(stored)
            report.works_new += sum(1 for s in stored if s.is_new)
            report.works_published += sum(1 for s in stored if s.published_now)
            report.items_queued += queued

    @staticmethod
    def _write(
        session: Session, works: Sequence[OpenAlexWork], now: datetime
    ) -> tuple[list[StoredWork], int]:
        """Store works with their digest items in `session`: the stored works, the items queued."""
        stored = store_works(session=session, works=works, now=now)
        # New works bring topics: the cards and the collaborator blend read researcher_topic.
        touched = {rid for s in stored if s.is_new for rid in s.researcher_ids}
        refresh_researcher_topics(
            session=session,
            researcher_ids=touched,
            extra=kept_topics(session=session, researcher_ids=touched),
        )
        return stored, queueing.queue_stored_works(session=session, stored=stored, now=now)
