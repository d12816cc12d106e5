"""OpenAlex records as frozen dataclasses, parsed null-safely from the API's JSON.

Every field OpenAlex may leave null (source, author id, ORCID, dates in two formats, abstract
as an inverted index) is handled here, so the client and the importer never see raw JSON.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

ARXIV_SOURCE_ID = "S4306400194"

_SHORT_ID = re.compile(
    r"^(?:https?://(?:api\.)?openalex\.org/)?(?:[a-z]+/)?([AWSITCFP]\d+)/?$", re.IGNORECASE
)
_AUTHOR_ID = re.compile(r"^A\d+$")
_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])/?$", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/([^?#\s]+?)(?:v\d+)?(?:\.pdf)?/?(?:[?#].*)?$", re.I)
_PREPRINT_SERVER = re.compile(r"\b(?:arxiv|\w*rxiv)\b", re.IGNORECASE)
_INLINE_TAGS = re.compile(r"</?(?:i|b|em|strong|sub|sup|scp|span|p)(?:\s[^>]*)?>", re.IGNORECASE)


class OpenAlexError(Exception):
    """Anything that went wrong talking to OpenAlex; `user_message` is one sentence for humans."""

    def __init__(self, user_message: str, *, status: int | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.status = status


class AuthorNotFound(OpenAlexError):
    """OpenAlex has no such author (404), or only a deleted-author placeholder."""


class RateLimited(OpenAlexError):
    """429: the request budget is spent (or the query needs a paid plan); not worth retrying now."""

    def __init__(
        self, user_message: str, *, retry_after: float | None = None, status: int | None = 429
    ) -> None:
        super().__init__(user_message, status=status)
        self.retry_after = retry_after


class OpenAlexUnavailable(OpenAlexError):
    """5xx, timeouts or connection errors that outlived every retry."""


class OpenAlexTooSlow(OpenAlexUnavailable):
    """A look-up someone is waiting on ran out of its time budget (OpenAlexClient.time_budget)."""


class BadResponse(OpenAlexError):
    """An unusable reply: malformed JSON, an unexpected shape, or a 400 with the API's reason."""


class AccessDenied(OpenAlexError):
    """401/403: the API key was refused."""


@dataclass(frozen=True)
class InstitutionRef:
    openalex_id: str | None
    name: str
    ror: str | None
    country_code: str | None


@dataclass(frozen=True)
class TopicRef:
    openalex_id: str | None
    name: str
    count: int | None = None


@dataclass(frozen=True)
class Author:
    openalex_id: str
    # What we asked for: a short "A…" id, or "orcid:0000-…" for an ORCID look-up.
    requested_id: str
    orcid: str | None
    display_name: str
    alternative_names: tuple[str, ...]
    works_count: int | None
    cited_by_count: int | None
    h_index: int | None
    last_known_institution: InstitutionRef | None
    topics: tuple[TopicRef, ...]
    is_tombstone: bool

    @property
    def merged(self) -> bool:
        """True when OpenAlex answered an author-id request with another (surviving) id."""
        return _AUTHOR_ID.match(self.requested_id) is not None and (self.requested_id != self.openalex_id)


@dataclass(frozen=True)
class AuthorshipRef:
    author_id: str | None
    name: str
    orcid: str | None
    position: int


@dataclass(frozen=True)
class Work:
    openalex_id: str
    doi: str | None
    title: str
    year: int | None
    publication_date: date | None
    type: str
    venue: str | None
    landing_url: str | None
    arxiv_id: str | None
    is_preprint: bool
    abstract: str | None
    authorships: tuple[AuthorshipRef, ...]
    topics: tuple[TopicRef, ...]
    is_authors_truncated: bool
    cited_by_count: int | None = None
    oa_url: str | None = None  # a free full text: open_access.oa_url, else best_oa_location.pdf_url


@dataclass(frozen=True)
class WorkPage:
    """One page of a cursor-paged works list; `total` is OpenAlex's meta.count."""

    works: tuple[Work, ...]
    total: int | None


@dataclass(frozen=True)
class AuthorCandidate:
    openalex_id: str
    display_name: str
    hint: str | None
    works_count: int | None
    cited_by_count: int | None
    orcid: str | None


# ---------------------------------------------------------------------------------------------
# Null-safe parsing helpers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def short_id(value: Any) -> str | None:
    """ "https://openalex.org/A5023888391" (or "authors/A…", or "A…") → "A5023888391"."""
    text = _str(value)
    if text is None:
        return None
    match = _SHORT_ID.match(text)
    return match.group(1).upper() if match else None


def bare_orcid(value: Any) -> str | None:
    """ "https://orcid.org/0000-0001-6187-6610" → "0000-0001-6187-6610"; anything else → None."""
    text = _str(value)
    match = _ORCID.search(text) if text else None
    return match.group(1).upper() if match else None


def bare_doi(value: Any) -> str | None:
    """ "https://doi.org/10.7717/PeerJ.4375" → "10.7717/peerj.4375"."""
    text = _str(value)
    if text is None:
        return None
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", text, flags=re.IGNORECASE)
    return text.lower() if text.startswith("10.") else None


def _date(value: Any) -> date | None:
    # OpenAlex dates come as "2021-09-01" or, lately, "2022-04-03T00:00:00".
    text = _str(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _clean_title(value: Any) -> str:
    text = _str(value)
    if text is None:
        return "(untitled)"
    # Crossref titles carry JATS/HTML inline markup (e.g. "<i>Shigella sonnei</i>").
    return " ".join(_INLINE_TAGS.sub("", text).split()) or "(untitled)"


def rebuild_abstract(inverted: Any) -> str | None:
    """Put an abstract_inverted_index ({word: [positions]}) back into running text."""
    positions: dict[int, str] = {}
    for word, where in _dict(inverted).items():
        for pos in _list(where):
            if isinstance(pos, int):
                positions[pos] = word
    if not positions:
        return None
    return " ".join(positions[pos] for pos in sorted(positions))


def _institution(raw: Any) -> InstitutionRef | None:
    data = _dict(raw)
    name = _str(data.get("display_name"))
    if name is None:
        return None
    return InstitutionRef(
        openalex_id=short_id(data.get("id")),
        name=name,
        ror=_str(data.get("ror")),
        country_code=_str(data.get("country_code")),
    )


def _last_known_institution(data: Mapping[str, Any]) -> InstitutionRef | None:
    for raw in _list(data.get("last_known_institutions")):
        if found := _institution(raw):
            return found
    if found := _institution(data.get("last_known_institution")):  # the pre-2024 singular field
        return found
    # Lately last_known_institutions can be null while affiliations are filled in: take the
    # affiliation with the most recent year.
    best: tuple[int, InstitutionRef] | None = None
    for raw in _list(data.get("affiliations")):
        entry = _dict(raw)
        inst = _institution(entry.get("institution"))
        years = [y for y in _list(entry.get("years")) if isinstance(y, int)]
        if inst is not None and years and (best is None or max(years) > best[0]):
            best = (max(years), inst)
    return best[1] if best else None


def _topics(raw: Any) -> tuple[TopicRef, ...]:
    topics: list[TopicRef] = []
    for item in _list(raw):
        data = _dict(item)
        name = _str(data.get("display_name"))
        if name is not None:
            topics.append(TopicRef(short_id(data.get("id")), name, _int(data.get("count"))))
    return tuple(topics)


def _is_deleted_name(name: str) -> bool:
    return name.casefold().startswith("deleted author")


def parse_author(data: Any, *, requested_id: str | None = None) -> Author:
    """An Author from an /authors/… body (full or `select=`-trimmed)."""
    body = _dict(data)
    openalex_id = short_id(body.get("id"))
    if openalex_id is None or not openalex_id.startswith("A"):
        raise BadResponse("OpenAlex returned an author record without a usable id.")
    name = _str(body.get("display_name")) or openalex_id
    alternatives = dict.fromkeys(
        alt for alt in (_str(a) for a in _list(body.get("display_name_alternatives"))) if alt
    )
    works_count = _int(body.get("works_count"))
    return Author(
        openalex_id=openalex_id,
        requested_id=requested_id or openalex_id,
        orcid=bare_orcid(body.get("orcid")),
        display_name=name,
        alternative_names=tuple(alternatives),
        works_count=works_count,
        cited_by_count=_int(body.get("cited_by_count")),
        h_index=_int(_dict(body.get("summary_stats")).get("h_index")),
        last_known_institution=_last_known_institution(body),
        topics=_topics(body.get("topics")),
        # Deleted or merged-away authors resolve to a "Deleted Author (ID)" placeholder, 0 works.
        is_tombstone=_is_deleted_name(name) or works_count == 0,
    )


def _arxiv_id(doi: str | None, landing_url: str | None) -> str | None:
    if doi and (match := _ARXIV_DOI.match(doi)):
        return match.group(1)
    if landing_url and (match := _ARXIV_URL.search(landing_url)):
        return match.group(1)
    return None


def _venue(source_name: str | None, is_arxiv: bool) -> str | None:
    if is_arxiv:
        return "arXiv"  # not "arXiv (Cornell University)"
    if source_name:
        # "bioRxiv (Cold Spring Harbor Laboratory)" → "bioRxiv"
        head = source_name.split(" (", 1)[0]
        if _PREPRINT_SERVER.fullmatch(head):
            return head
    return source_name


def parse_work(data: Any) -> Work:
    """A Work from a /works list entry or singleton."""
    body = _dict(data)
    openalex_id = short_id(body.get("id"))
    if openalex_id is None or not openalex_id.startswith("W"):
        raise BadResponse("OpenAlex returned a work record without a usable id.")
    location = _dict(body.get("primary_location"))
    source = _dict(location.get("source"))  # null for many works
    source_id = short_id(source.get("id"))
    source_name = _str(source.get("display_name"))
    doi = bare_doi(body.get("doi"))
    landing_url = _str(location.get("landing_page_url"))
    indexed_in = {str(x).casefold() for x in _list(body.get("indexed_in"))}
    arxiv_id = _arxiv_id(doi, landing_url)
    # ids has no arXiv key: recognise arXiv by DOI, source, landing page, or an arXiv-only record.
    is_arxiv = (
        arxiv_id is not None
        or source_id == ARXIV_SOURCE_ID
        or (source_name is not None and "arxiv" in source_name.casefold())
        or ("arxiv" in indexed_in and "crossref" not in indexed_in)
    )
    work_type = _str(body.get("type")) or "other"
    venue = _venue(source_name, is_arxiv)
    is_preprint = (
        work_type == "preprint"
        or is_arxiv
        or (venue is not None and _PREPRINT_SERVER.fullmatch(venue) is not None)
    )
    authorships = []
    for position, item in enumerate(_list(body.get("authorships"))):
        entry = _dict(item)
        author = _dict(entry.get("author"))
        name = _str(author.get("display_name")) or _str(entry.get("raw_author_name")) or "Unknown"
        authorships.append(
            AuthorshipRef(
                author_id=short_id(author.get("id")),
                name=name,
                orcid=bare_orcid(author.get("orcid")),
                position=position,
            )
        )
    return Work(
        openalex_id=openalex_id,
        doi=doi,
        title=_clean_title(body.get("title") or body.get("display_name")),
        year=_int(body.get("publication_year")),
        publication_date=_date(body.get("publication_date")),
        type=work_type,
        venue=venue,
        landing_url=landing_url or (f"https://doi.org/{doi}" if doi else None),
        arxiv_id=arxiv_id,
        is_preprint=is_preprint,
        abstract=rebuild_abstract(body.get("abstract_inverted_index")),
        authorships=tuple(authorships),
        topics=_topics(body.get("topics")),
        is_authors_truncated=bool(body.get("is_authors_truncated")),
        cited_by_count=_int(body.get("cited_by_count")),
        oa_url=_str(_dict(body.get("open_access")).get("oa_url"))
        or _str(_dict(body.get("best_oa_location")).get("pdf_url")),
    )


def parse_candidate(data: Any) -> AuthorCandidate | None:
    """An AuthorCandidate from an /autocomplete/authors result (None when it has no author id)."""
    body = _dict(data)
    openalex_id = short_id(body.get("id")) or short_id(body.get("short_id"))
    if openalex_id is None or not openalex_id.startswith("A"):
        return None
    return AuthorCandidate(
        openalex_id=openalex_id,
        display_name=_str(body.get("display_name")) or openalex_id,
        hint=_str(body.get("hint")),
        works_count=_int(body.get("works_count")),
        cited_by_count=_int(body.get("cited_by_count")),
        orcid=bare_orcid(body.get("external_id")),
    )
