"""Writing OpenAlex works so that one record the store refuses costs only itself.

The importer and the refresh job write a batch of works in one transaction. When that fails on
the data (an over-long value, a constraint, text the driver cannot encode), they write the batch
again one work per transaction and skip the works that still fail, with one log line each:
otherwise one bad record would stop every later batch, and every later cycle, for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlmodel import Session

from services.openalex.records import Work
from services.store.engine import session_scope

log = logging.getLogger(__name__)

T = TypeVar("T")

# What a work's data can make the store raise: the SQL "data exception" and "integrity
# constraint violation" classes, and ValueError, which sqlite3 and psycopg raise unwrapped for
# text they cannot encode. Anything else (the store unreachable or locked) is not about one
# work, and retrying work by work would only repeat it.
UNSTORABLE_ERRORS = (DataError, IntegrityError, ValueError)


def describe(error: Exception) -> str:
    """The first line of the driver's own message: the SQL and parameters stay out of the log."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0][:200] if lines else 'no message'}"


def write_each(
    engine: Engine,
    works: Sequence[Work],
    write: Callable[[Session, Sequence[Work]], T],
    *,
    what: str,
) -> tuple[list[T], list[str]]:
    """`write(session, [work])` for each work in its own transaction: the results of those that
    were stored, and the OpenAlex ids of those the store refused (each logged once)."""
    results: list[T] = []
    skipped: list[str] = []
    # Preprints first, so a published version in the same batch still finds its preprint.
    for work in sorted(works, key=lambda w: not w.is_preprint):
        try:
            with session_scope(engine) as session:
                results.append(write(session, [work]))
        except UNSTORABLE_ERRORS as error:
            log.warning(
                "%s: skipped work %s, which the store refused (%s)", what, work.openalex_id, describe(error)
            )
            skipped.append(work.openalex_id)
    return results, skipped
