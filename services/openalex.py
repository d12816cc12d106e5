"""A typed OpenAlex client: one request path, typed errors, cursor paging, null-safe parsing."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
MAX_PER_PAGE = 100  # the documented ceiling (the server code still allows 200)
MAX_OR_VALUES = 100  # "Maximum number of values exceeded" beyond this in one OR filter
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
_API_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+")


# ---------------------------------------------------------------------------------------------
# Errors


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


class BadResponse(OpenAlexError):
    """An unusable reply: malformed JSON, an unexpected shape, or a 400 with the API's reason."""


class AccessDenied(OpenAlexError):
    """401/403: the API key was refused."""


# ---------------------------------------------------------------------------------------------
# Parsed objects


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


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _human_duration(seconds: float) -> str:
    if seconds < 90:
        n = max(1, round(seconds))
        return f"{n} second{'s' if n != 1 else ''}"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    hours = seconds / 3600
    return f"{hours:.0f} hours" if hours >= 10 else f"{hours:.1f} hours"


class _RedactApiKey(logging.Filter):
    """httpx logs every request URL at INFO; the key travels as a query parameter."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _API_KEY_IN_URL.sub(r"\1***", str(a)) if "api_key=" in str(a) else a for a in record.args
            )
        return True


def _install_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactApiKey) for f in logger.filters):
        logger.addFilter(_RedactApiKey())


# ---------------------------------------------------------------------------------------------
# Client


class OpenAlexClient:
    """Synchronous OpenAlex client; pass `transport=httpx.MockTransport(...)` in tests."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = api_key or None
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._sleep = sleep
        if self._api_key:
            _install_redaction()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            # Merged authors and works answer with a redirect to the surviving id.
            follow_redirects=True,
            headers={"User-Agent": "bzpeer-slack (OpenAlex client)", "Accept": "application/json"},
        )

    # -- lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAlexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one request path

    def _get(self, path: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        query: dict[str, str | int] = dict(params or {})
        if self._api_key:
            query["api_key"] = self._api_key
        attempt = 0
        while True:
            problem: str
            try:
                response = self._http.get(path, params=query)
            except httpx.TimeoutException:
                problem = "timed out"
            except httpx.TooManyRedirects as exc:
                raise BadResponse(f"OpenAlex redirected too many times for {path}.") from exc
            except httpx.TransportError as exc:
                problem = f"could not be reached ({type(exc).__name__})"
            else:
                status = response.status_code
                if status < 400:
                    return self._json(response, path)
                if status < 500:
                    raise self._client_error(response, path)
                problem = f"answered HTTP {status}"
            if attempt >= self._max_retries:
                raise OpenAlexUnavailable(
                    f"OpenAlex is unavailable right now (it {problem}, {attempt + 1} attempts); "
                    "please try again later."
                )
            delay = self._backoff * (2**attempt)
            log.warning("OpenAlex %s for %s; retrying in %.1fs", problem, path, delay)
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _json(response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise BadResponse(f"OpenAlex sent a reply that is not valid JSON for {path}.") from exc
        if not isinstance(data, dict):
            raise BadResponse(f"OpenAlex sent an unexpected reply shape for {path}.")
        return data

    @staticmethod
    def _client_error(response: httpx.Response, path: str) -> OpenAlexError:
        status = response.status_code
        body: dict[str, Any] = {}
        # 404 from the API server is an HTML page; only trust JSON bodies on other statuses.
        if status != 404 and "json" in response.headers.get("content-type", "").lower():
            try:
                body = _dict(response.json())
            except ValueError:
                body = {}
        error = _str(body.get("error")) or ""
        message = _str(body.get("message")) or error
        if status == 429:
            retry_after = _parse_retry_after(response.headers.get("Retry-After"))
            if "plan" in error.casefold():
                text = (
                    "OpenAlex refused this query: it needs a paid plan "
                    f'("{error}"); use a publication-date filter instead.'
                )
            elif retry_after is not None:
                text = (
                    f"OpenAlex's request budget is spent for now; retry after {_human_duration(retry_after)}."
                )
            else:
                text = "OpenAlex's request budget is spent for now; please retry later."
            return RateLimited(text, retry_after=retry_after)
        if status == 404:
            if path.startswith("/authors/"):
                ref = path.removeprefix("/authors/")
                if ref.startswith("orcid:"):
                    ref = f"with ORCID {ref.removeprefix('orcid:')}"
                return AuthorNotFound(f"OpenAlex has no author {ref}.", status=404)
            return BadResponse(f"OpenAlex has nothing at {path} (HTTP 404).", status=404)
        if status in (401, 403):
            return AccessDenied(
                f"OpenAlex refused the API key (HTTP {status}); check OPENALEX_API_KEY.",
                status=status,
            )
        if message:
            return BadResponse(f"OpenAlex rejected the request: {message}", status=status)
        return BadResponse(f"OpenAlex rejected the request for {path} (HTTP {status}).", status=status)

    # -- authors

    def get_author(self, ref: str) -> Author:
        """One author by short id/URL ("A…") or ORCID ("orcid:0000-…"); merged ids are followed."""
        text = ref.strip()
        orcid = bare_orcid(text) if ("orcid" in text.casefold() or _ORCID.fullmatch(text)) else None
        if orcid is not None:
            requested = f"orcid:{orcid}"
        else:
            author_id = short_id(text)
            if author_id is None or not author_id.startswith("A"):
                raise ValueError(f"{ref!r} is neither an OpenAlex author id nor an ORCID")
            requested = author_id
        data = self._get(f"/authors/{requested}")
        return parse_author(data, requested_id=requested)

    def search_authors(self, name: str, limit: int = 10) -> list[AuthorCandidate]:
        """Up to `limit` (≤ 10) authors whose name matches, via the free autocomplete endpoint."""
        query = " ".join(name.split())
        if not query or limit <= 0:
            return []
        data = self._get("/autocomplete/authors", {"q": query})
        results = data.get("results")
        if not isinstance(results, list):
            raise BadResponse("OpenAlex sent an autocomplete reply without results.")
        candidates = [c for c in (parse_candidate(item) for item in results) if c is not None]
        return candidates[:limit]

    # -- works

    def iter_work_pages(
        self, filter: str, *, per_page: int = MAX_PER_PAGE, select: str | None = None
    ) -> Iterator[WorkPage]:
        """Every page of /works?filter=…, following meta.next_cursor until it runs out."""
        params: dict[str, str | int] = {
            "filter": filter,
            "per_page": min(max(1, per_page), MAX_PER_PAGE),
            "cursor": "*",
        }
        if select:
            params["select"] = select
        seen: set[str] = set()
        while True:
            data = self._get("/works", params)
            results = data.get("results")
            if not isinstance(results, list):
                raise BadResponse("OpenAlex sent a works list without results.")
            meta = _dict(data.get("meta"))
            try:
                works = tuple(parse_work(item) for item in results)
            except BadResponse:
                raise
            except Exception as exc:  # any shape surprise in a record is the server's fault
                raise BadResponse("OpenAlex sent a works list we could not read.") from exc
            if works:
                yield WorkPage(works=works, total=_int(meta.get("count")))
            cursor = _str(meta.get("next_cursor"))
            if not results or cursor is None or cursor in seen:
                return
            seen.add(cursor)
            params["cursor"] = cursor

    def iter_works(
        self, filter: str, *, per_page: int = MAX_PER_PAGE, select: str | None = None
    ) -> Iterator[Work]:
        """Every work matching `filter`, cursor-paged."""
        for page in self.iter_work_pages(filter, per_page=per_page, select=select):
            yield from page.works

    def works_for_authors(
        self, author_ids: Sequence[str], *, from_publication_date: date | None = None
    ) -> Iterator[Work]:
        """Works of up to 100 authors in one OR filter, optionally published since a date."""
        ids = list(dict.fromkeys(short_id(a) or "" for a in author_ids))
        bad = [a for a in ids if not _AUTHOR_ID.match(a)]
        if bad:
            raise ValueError(f"not OpenAlex author ids: {bad!r}")
        if len(ids) > MAX_OR_VALUES:
            raise ValueError(f"at most {MAX_OR_VALUES} author ids per request, got {len(ids)}")
        if not ids:
            return iter(())
        filter_ = "authorships.author.id:" + "|".join(ids)
        if from_publication_date is not None:
            filter_ += f",from_publication_date:{from_publication_date.isoformat()}"
        return self.iter_works(filter_)
