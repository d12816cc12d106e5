"""A typed OpenAlex client: one request path, typed errors, cursor paging, null-safe parsing."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from services.openalex.records import (
    _AUTHOR_ID,
    AccessDenied,
    Author,
    AuthorCandidate,
    AuthorNotFound,
    BadResponse,
    OpenAlexError,
    OpenAlexTooSlow,
    OpenAlexUnavailable,
    RateLimited,
    Work,
    WorkPage,
    _dict,
    _int,
    _str,
    bare_orcid,
    parse_author,
    parse_candidate,
    parse_work,
    short_id,
)
from services.store.text import plural, storable_tree

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
MAX_PER_PAGE = 100  # the documented ceiling (the server code still allows 200)
MAX_OR_VALUES = 100  # "Maximum number of values exceeded" beyond this in one OR filter

_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])/?$", re.IGNORECASE)
_API_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+")

SLOW_MESSAGE = "OpenAlex is slow right now; please try again in a minute."


@dataclass(frozen=True)
class _Budget:
    seconds: float
    ends_at: float
    clock: Callable[[], float]

    def left(self) -> float:
        return self.ends_at - self.clock()


# The budget of the look-up running in this thread (or context), set by time_budget(). A context
# variable, so one client serves the patient refresh job and impatient look-ups at the same time.
_BUDGET: ContextVar[_Budget | None] = ContextVar("openalex_budget", default=None)


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
        return plural(n, "second")
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

# Told of every HTTP request: its seconds, and None or what went wrong (bot/metrics.py counts them).
RequestObserver = Callable[[float, str | None], None]


class OpenAlexClient:
    """Synchronous OpenAlex client; pass `transport=httpx.MockTransport(...)` in tests."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        observe: RequestObserver | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api_key = api_key or None
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._timeout = timeout
        self._observe = observe or (lambda _seconds, _problem: None)
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

    @contextmanager
    def time_budget(self, seconds: float) -> Iterator[None]:
        """Every request made in this block, retries and backoff included, ends within `seconds`
        or raises OpenAlexTooSlow: for look-ups a person is waiting on. Outside any such block
        the client retries patiently (the refresh job, `bzpeer import`)."""
        token = _BUDGET.set(_Budget(seconds, self._clock() + seconds, self._clock))
        try:
            yield
        finally:
            _BUDGET.reset(token)

    # -- the one request path

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> dict[str, Any]:
        """GET `path` as JSON: the one request path (API key, retries, budget, typed errors)."""
        query: dict[str, str | int] = dict(params or {})
        if self._api_key:
            query["api_key"] = self._api_key
        budget = _BUDGET.get()
        attempt = 0
        while True:
            problem: str
            started = time.perf_counter()
            try:
                response = self._http.get(path, params=query, timeout=self._timeout_within(budget, path))
            except httpx.TimeoutException:
                problem = "timed out"
                self._seen(started, "timeout")
            except httpx.TooManyRedirects as exc:
                self._seen(started, "bad_response")
                raise BadResponse(f"OpenAlex redirected too many times for {path}.") from exc
            except httpx.TransportError as exc:
                problem = f"could not be reached ({type(exc).__name__})"
                self._seen(started, "unreachable")
            else:
                status = response.status_code
                if status < 400:
                    try:
                        data = self._json(response, path)
                    except BadResponse:
                        self._seen(started, "bad_response")
                        raise
                    self._seen(started, None)
                    return data
                if status < 500:
                    # A 404 is an answer (no such author), not a failure of OpenAlex.
                    self._seen(started, {404: None, 429: "rate_limited"}.get(status, "client_error"))
                    raise self._client_error(response, path)
                problem = f"answered HTTP {status}"
                self._seen(started, "server_error")
            delay = self._backoff * (2**attempt)
            if budget is not None and budget.left() <= delay:
                # Someone is waiting: give up rather than sleep past the time they were promised.
                log.warning(
                    "OpenAlex %s for %s; giving up, the look-up's %gs budget is spent",
                    problem,
                    path,
                    budget.seconds,
                )
                raise OpenAlexTooSlow(SLOW_MESSAGE)
            if attempt >= self._max_retries:
                raise OpenAlexUnavailable(
                    f"OpenAlex is unavailable right now (it {problem}, {attempt + 1} attempts); "
                    "please try again later."
                )
            log.warning("OpenAlex %s for %s; retrying in %.1fs", problem, path, delay)
            self._sleep(delay)
            attempt += 1

    def _seen(self, started: float, problem: str | None) -> None:
        self._observe(time.perf_counter() - started, problem)

    def _timeout_within(self, budget: _Budget | None, path: str) -> httpx.Timeout:
        """The client's timeouts, cut to what is left of the look-up's budget."""
        if budget is None:
            return self._timeout
        left = budget.left()
        if left <= 0:
            log.warning("OpenAlex look-up's %gs budget was spent before %s", budget.seconds, path)
            raise OpenAlexTooSlow(SLOW_MESSAGE)
        parts = (self._timeout.connect, self._timeout.read, self._timeout.write, self._timeout.pool)
        connect, read, write, pool = (left if part is None else min(part, left) for part in parts)
        return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)

    @staticmethod
    def _body(response: httpx.Response, path: str) -> Any:
        """The reply's JSON with every string made storable: OpenAlex text enters the store here.

        Titles with a NUL byte or a lone surrogate (JSON "\\ud800") exist, and PostgreSQL or
        the UTF-8 encoder would refuse them wherever they are written or sent later on.
        """
        try:
            data = response.json()
        except RecursionError as exc:
            # The json module recurses once per level: a deep enough reply exhausts the stack.
            raise BadResponse(
                f"OpenAlex sent a reply that could not be read for {path} (it is nested too deeply)."
            ) from exc
        except ValueError as exc:
            raise BadResponse(f"OpenAlex sent a reply that is not valid JSON for {path}.") from exc
        return storable_tree(data)

    @classmethod
    def _json(cls, response: httpx.Response, path: str) -> dict[str, Any]:
        data = cls._body(response, path)
        if not isinstance(data, dict):
            raise BadResponse(f"OpenAlex sent an unexpected reply shape for {path}.")
        return data

    @classmethod
    def _client_error(cls, response: httpx.Response, path: str) -> OpenAlexError:
        status = response.status_code
        body: dict[str, Any] = {}
        # 404 from the API server is an HTML page; only trust JSON bodies on other statuses.
        if status != 404 and "json" in response.headers.get("content-type", "").lower():
            try:
                body = _dict(cls._body(response, path))
            except BadResponse:
                body = {}  # the status alone still says what went wrong
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
        data = self.get_json(f"/authors/{requested}")
        return parse_author(data, requested_id=requested)

    def search_authors(self, name: str, limit: int = 10) -> list[AuthorCandidate]:
        """Up to `limit` (≤ 10) authors whose name matches, via the free autocomplete endpoint."""
        query = " ".join(name.split())
        if not query or limit <= 0:
            return []
        data = self.get_json("/autocomplete/authors", {"q": query})
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
            data = self.get_json("/works", params)
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
