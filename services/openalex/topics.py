"""OpenAlex topics: one topic (/topics/T…), words → topics (/autocomplete/topics), and the works
of up to 100 topics in one OR filter (`topics.id:T1|…|T100`), through the client's one request
path and its typed errors."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.openalex.client import MAX_OR_VALUES, OpenAlexClient
from services.openalex.records import BadResponse, OpenAlexError, Work, _dict, _int, _str, short_id

_TOPIC_ID = re.compile(r"^T\d{1,9}$")
# A topic as people paste it: T10017, https://openalex.org/T10017, …/topics/T10017.
_TOPIC_REF = re.compile(r"^(?:https?://(?:api\.)?openalex\.org/(?:topics/)?)?(T\d{1,9})/?$", re.IGNORECASE)
AUTOCOMPLETE_LIMIT = 10
# What the refresh job reads of a work (records.parse_work), so pages stay small.
WORK_SELECT = (
    "id,doi,title,display_name,publication_year,publication_date,type,primary_location,indexed_in,"
    "authorships,abstract_inverted_index,topics,is_authors_truncated,cited_by_count,open_access,"
    "best_oa_location"
)


class TopicNotFound(OpenAlexError):
    """OpenAlex has no such topic (404)."""


@dataclass(frozen=True)
class TopicRecord:
    """An OpenAlex topic as the card shows it: domain › field › subfield › topic."""

    openalex_id: str
    name: str
    description: str | None = None
    subfield: str | None = None
    field: str | None = None
    domain: str | None = None
    works_count: int | None = None
    cited_by_count: int | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicCandidate:
    """One /autocomplete/topics result."""

    openalex_id: str
    name: str
    hint: str | None
    works_count: int | None


def topic_ref(text: str) -> str | None:
    """ "T10017", "https://openalex.org/T10017" or "https://openalex.org/topics/T10017" → "T10017";
    None for anything else (words to look up)."""
    match = _TOPIC_REF.match(text.strip())
    return match.group(1).upper() if match else None


def is_topic_id(value: str) -> bool:
    return bool(_TOPIC_ID.match(value))


def _name(data: Any) -> str | None:
    return _str(_dict(data).get("display_name"))


def parse_topic(data: Any) -> TopicRecord:
    """A TopicRecord from a /topics/T… body."""
    body = _dict(data)
    openalex_id = short_id(body.get("id"))
    name = _str(body.get("display_name"))
    if openalex_id is None or not is_topic_id(openalex_id) or not name:
        raise BadResponse("OpenAlex returned a topic record without a usable id or name.")
    keywords = body.get("keywords")
    return TopicRecord(
        openalex_id=openalex_id,
        name=name,
        description=_str(body.get("description")),
        subfield=_name(body.get("subfield")),
        field=_name(body.get("field")),
        domain=_name(body.get("domain")),
        works_count=_int(body.get("works_count")),
        cited_by_count=_int(body.get("cited_by_count")),
        keywords=tuple(k for k in (_str(x) for x in keywords) if k) if isinstance(keywords, list) else (),
    )


def parse_topic_candidate(data: Any) -> TopicCandidate | None:
    """A TopicCandidate from an autocomplete result (None when it is not a topic)."""
    body = _dict(data)
    openalex_id = short_id(body.get("id")) or short_id(body.get("short_id"))
    name = _str(body.get("display_name"))
    if openalex_id is None or not is_topic_id(openalex_id) or not name:
        return None
    return TopicCandidate(openalex_id, name, _str(body.get("hint")), _int(body.get("works_count")))


def get_topic(client: OpenAlexClient, openalex_id: str) -> TopicRecord:
    """One topic by id; TopicNotFound when OpenAlex has none."""
    if not is_topic_id(openalex_id):
        raise ValueError(f"not an OpenAlex topic id: {openalex_id!r}")
    try:
        data = client.get_json(f"/topics/{openalex_id}")
    except BadResponse as error:
        if error.status == 404:
            raise TopicNotFound(f"OpenAlex has no topic {openalex_id}.", status=404) from error
        raise
    return parse_topic(data)


def search_topics(
    client: OpenAlexClient, words: str, limit: int = AUTOCOMPLETE_LIMIT
) -> list[TopicCandidate]:
    """Topics whose name matches `words`, best first, via the free autocomplete endpoint."""
    query = " ".join(words.split())
    if not query or limit <= 0:
        return []
    data = client.get_json("/autocomplete/topics", {"q": query})
    results = data.get("results")
    if not isinstance(results, list):
        raise BadResponse("OpenAlex sent an autocomplete reply without results.")
    found = [c for c in (parse_topic_candidate(item) for item in results) if c is not None]
    return list({c.openalex_id: c for c in found}.values())[:limit]


def works_for_topics(
    client: OpenAlexClient, topic_ids: Sequence[str], *, from_publication_date: date | None = None
) -> Iterator[Work]:
    """Works on any of up to 100 topics (one OR filter), optionally published since a date;
    cursor-paged, 100 a page, only the fields the store keeps."""
    ids = list(dict.fromkeys(topic_ids))
    bad = [t for t in ids if not is_topic_id(t)]
    if bad:
        raise ValueError(f"not OpenAlex topic ids: {bad!r}")
    if len(ids) > MAX_OR_VALUES:
        raise ValueError(f"at most {MAX_OR_VALUES} topic ids per request, got {len(ids)}")
    if not ids:
        return iter(())
    filter_ = "topics.id:" + "|".join(ids)
    if from_publication_date is not None:
        filter_ += f",from_publication_date:{from_publication_date.isoformat()}"
    return client.iter_works(filter_, select=WORK_SELECT)
