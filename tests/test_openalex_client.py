"""OpenAlex client: parsing real responses, cursor paging, retries and typed errors."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.openalex.client import OpenAlexClient
from services.openalex.records import (
    AccessDenied,
    AuthorNotFound,
    BadResponse,
    InstitutionRef,
    OpenAlexUnavailable,
    RateLimited,
    parse_work,
)

BASE = "https://openalex.test"
FIXTURES = Path(__file__).parent / "fixtures" / "openalex"
Handler = Callable[[httpx.Request], httpx.Response]


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


class Server:
    """Answers each request with the next scripted handler; anything extra fails the test."""

    def __init__(self, *script: Handler) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected OpenAlex request: {request.url}")
        return self.script.pop(0)(request)


def json_at(path: str, body: Any, status: int = 200, **expect: str) -> Handler:
    """A handler that checks the path (and query params) and returns a JSON body."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == path, request.url
        for key, value in expect.items():
            assert request.url.params.get(key) == value, (key, request.url)
        return httpx.Response(status, json=body)

    return handle


def status(code: int, **kwargs: Any) -> Handler:
    return lambda _request: httpx.Response(code, **kwargs)


def raises(exc: Exception) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc

    return handle


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., OpenAlexClient]]:
    clients: list[OpenAlexClient] = []

    def make(server: Server, **kwargs: Any) -> OpenAlexClient:
        client = OpenAlexClient(BASE, transport=httpx.MockTransport(server), sleep=sleeps.append, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def cursor_pages(results: list[Any], size: int) -> list[dict[str, Any]]:
    """Split real results into cursor pages the way OpenAlex chains them (meta.next_cursor)."""
    chunks = [results[i : i + size] for i in range(0, len(results), size)]
    pages = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        meta = {"count": len(results), "per_page": size, "page": None}
        meta["next_cursor"] = None if last else f"cursor-{number + 2}"
        pages.append({"meta": meta, "results": chunk, "group_by": []})
    return pages


# -- authors ------------------------------------------------------------------------------------


def test_get_author_parses_the_full_record(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(json_at("/authors/A5023888391", sample("author_A5023888391.json")))
    author = make_client(server).get_author("A5023888391")

    assert author.openalex_id == "A5023888391"
    assert author.requested_id == "A5023888391" and not author.merged
    assert author.orcid == "0000-0001-6187-6610"
    assert author.display_name == "Jason Priem"
    assert author.alternative_names == ("Priem Jason", "Jason Priem")
    assert (author.works_count, author.cited_by_count, author.h_index) == (62, 3890, 17)
    assert author.last_known_institution == InstitutionRef(
        "I4200000001", "OurResearch", "https://ror.org/02nr0ka47", "CA"
    )
    assert author.topics[0].openalex_id == "T10102"
    assert author.topics[0].name == "scientometrics and bibliometrics research"
    assert author.topics[0].count == 23
    assert not author.is_tombstone
    assert "api_key" not in server.requests[0].url.params


def test_get_author_2026_variant_with_null_institutions(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    # created_date turned into a datetime, counts_by_year ascending, last_known_institutions
    # null and a co-author's name among the alternatives: none of it may break parsing.
    body = sample("author_A5023888391_2026-03.json")
    server = Server(json_at("/authors/A5023888391", body))
    author = make_client(server).get_author("https://openalex.org/A5023888391")

    assert author.openalex_id == "A5023888391"
    assert (author.works_count, author.cited_by_count, author.h_index) == (60, 4269, 17)
    # The institution falls back to the most recent affiliation.
    assert author.last_known_institution is not None
    assert author.last_known_institution.openalex_id == "I4200000001"
    assert "Hemminger, Bradley M." in author.alternative_names  # filtering is the importer's job
    assert author.topics[0].count == 24


def test_get_author_by_orcid(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(
        json_at("/authors/orcid:0000-0002-1298-3089", sample("author_by_orcid_0000-0002-1298-3089.json"))
    )
    author = make_client(server).get_author("orcid:0000-0002-1298-3089")

    assert author.openalex_id == "A5042522694"
    assert author.orcid == "0000-0002-1298-3089"
    assert author.display_name == "David Tarragó"
    assert author.requested_id == "orcid:0000-0002-1298-3089"
    assert not author.merged  # an ORCID look-up always answers with an author id


def test_merged_id_redirect_is_followed_to_a_tombstone(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    server = Server(
        status(301, headers={"Location": f"{BASE}/authors/A5317838346"}),
        json_at(
            "/authors/A5317838346",
            sample("author_A5092938886_resolved_to_deleted_A5317838346.json"),
        ),
    )
    author = make_client(server).get_author("A5092938886")

    assert [r.url.path for r in server.requests] == ["/authors/A5092938886", "/authors/A5317838346"]
    assert author.requested_id == "A5092938886"
    assert author.openalex_id == "A5317838346"
    assert author.merged
    assert author.is_tombstone
    assert author.display_name == "Deleted Author ID"


def test_merged_id_answered_without_redirect_is_still_detected(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    body = sample("author_A5092938886_resolved_to_deleted_A5317838346.json")
    server = Server(json_at("/authors/A5092938886", body))
    author = make_client(server).get_author("A5092938886")
    assert author.merged and author.openalex_id == "A5317838346"


def test_deleted_author_is_a_tombstone(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(json_at("/authors/A5317838346", sample("author_A5317838346_deleted_author.json")))
    author = make_client(server).get_author("A5317838346")
    assert author.is_tombstone and not author.merged
    assert author.works_count == 0


def test_select_fields_author_leaves_missing_fields_empty(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    body = sample("author_A5017898742_select_fields.json")
    author = make_client(Server(json_at("/authors/A5017898742", body))).get_author("A5017898742")

    assert author.display_name == "Joseph Mearman"
    assert author.works_count == 9
    assert author.orcid is None
    assert author.cited_by_count is None and author.h_index is None
    assert author.topics == () and author.alternative_names == ()
    assert author.last_known_institution is not None
    assert author.last_known_institution.name == "Bangor University"
    assert not author.is_tombstone


def test_get_author_rejects_a_non_author_reference(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    with pytest.raises(ValueError):
        make_client(Server()).get_author("W2741809807")


def test_search_authors_uses_free_autocomplete(make_client: Callable[..., OpenAlexClient]) -> None:
    body = sample("autocomplete_authors_machine_learning.json")
    server = Server(json_at("/autocomplete/authors", body, q="machine learning"))
    candidates = make_client(server).search_authors("  machine   learning ", limit=3)

    assert len(candidates) == 3
    first = candidates[0]
    assert first.openalex_id == "A5094334156"
    assert first.display_name == "UCI Machine Learning"
    assert (first.hint, first.works_count, first.cited_by_count, first.orcid) == (None, 2, 0, None)
    assert candidates[1].hint == "Institute of Electrical and Electronics Engineers, USA"


def test_search_authors_with_a_blank_name_sends_nothing(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    assert make_client(Server()).search_authors("   ") == []


# -- works --------------------------------------------------------------------------------------


def test_works_list_parsing_is_null_safe() -> None:
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    works = {w.openalex_id: w for w in map(parse_work, results)}
    assert len(works) == 9

    no_source = works["W2241997964"]  # primary_location.source is null
    assert no_source.venue is None
    assert no_source.doi is None
    assert no_source.landing_url is not None and "bangor.ac.uk" in no_source.landing_url

    published = works["W3187234764"]
    assert published.doi == "10.2312/cgvc.20211309"
    assert published.venue is None and not published.is_preprint and published.arxiv_id is None
    assert published.publication_date == date(2021, 9, 1)
    assert [a.position for a in published.authorships] == [0, 1, 2, 3, 4]
    assert published.authorships[1].author_id == "A5017898742"
    assert published.authorships[0].orcid == "0000-0001-7718-3181"

    journal = works["W2250748100"]
    assert journal.venue == "Journal on Computing and Cultural Heritage"
    assert journal.doi == "10.1145/2795233"
    assert journal.type == "article" and not journal.is_preprint
    assert [t.openalex_id for t in journal.topics] == ["T11211", "T10191", "T10627"]


def test_null_author_ids_keep_the_raw_name() -> None:
    work = parse_work(sample("work_W4221145823_arxiv_9_authorships.json"))
    assert len(work.authorships) == 9
    anonymous = [a for a in work.authorships if a.author_id is None]
    assert [(a.position, a.name) for a in anonymous] == [
        (2, "Qin, H. R."),
        (5, "Miao, S. N."),
        (7, "Zhang, J. W."),
    ]
    assert work.authorships[0].author_id == "A5046535547"


def test_arxiv_preprint_detected_from_the_doi_alone() -> None:
    body = copy.deepcopy(sample("work_W3188841554_arxiv_preprint.json"))
    body["primary_location"] = {"source": None, "landing_page_url": None}
    body["indexed_in"] = []
    body["type"] = "article"
    work = parse_work(body)

    assert work.doi == "10.48550/arxiv.2108.04680"
    assert work.arxiv_id == "2108.04680"
    assert work.is_preprint
    assert work.venue == "arXiv"


def test_arxiv_preprint_full_record() -> None:
    work = parse_work(sample("work_W3188841554_arxiv_preprint.json"))
    assert work.openalex_id == "W3188841554"
    assert (work.arxiv_id, work.venue, work.type) == ("2108.04680", "arXiv", "preprint")
    assert work.landing_url == "https://arxiv.org/abs/2108.04680"
    assert work.is_preprint
    assert work.title.startswith("3D Visualisations Should Not be Displayed Alone")


def test_arxiv_work_typed_article_is_still_a_preprint() -> None:
    work = parse_work(sample("work_W4221145823_arxiv_9_authorships.json"))
    assert work.type == "article"
    assert work.is_preprint
    assert work.arxiv_id == "2201.06719"
    assert work.venue == "arXiv"  # not "arXiv (Cornell University)"
    assert work.year == 2022


def test_arxiv_detected_from_the_landing_page_only() -> None:
    body = copy.deepcopy(sample("work_W4221145823_arxiv_9_authorships.json"))
    body["doi"] = None
    body["primary_location"]["source"] = None
    body["indexed_in"] = []
    work = parse_work(body)
    assert work.arxiv_id == "2201.06719" and work.is_preprint and work.venue == "arXiv"


def test_biorxiv_preprint() -> None:
    work = parse_work(sample("work_W4407166645_biorxiv_preprint.json"))
    assert work.is_preprint
    assert work.venue == "bioRxiv"
    assert work.doi == "10.1101/2025.02.05.636615"
    assert work.arxiv_id is None
    assert len(work.authorships) == 10
    assert "<i>" not in work.title and "Shigella" in work.title


def test_abstract_is_rebuilt_from_the_inverted_index() -> None:
    work = parse_work(sample("work_W2741809807.json"))
    assert work.abstract is not None
    assert work.abstract.startswith(
        "Despite growing interest in Open Access (OA) to scholarly literature, there is an "
        "unmet need for large-scale, up-to-date, and reproducible studies"
    )
    assert work.venue == "PeerJ" and not work.is_preprint


def test_missing_abstract_is_none() -> None:
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    work = parse_work(next(r for r in results if r["id"].endswith("W3200026003")))
    assert work.abstract is None


def test_2026_list_shape_parses() -> None:
    works = [parse_work(r) for r in sample("works_list_page1_per_page2_2026-03.json")["results"]]
    assert [w.openalex_id for w in works] == ["W4392145873", "W4393935425"]
    assert works[0].is_preprint  # typed preprint, whatever its (mismatched) source says
    assert [a.author_id for a in works[0].authorships].count(None) == 4


def test_cursor_paging_follows_next_cursor(make_client: Callable[..., OpenAlexClient]) -> None:
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    pages = cursor_pages(results, 4)
    flt = "authorships.author.id:A5017898742"
    server = Server(
        json_at("/works", pages[0], cursor="*", per_page="100", filter=flt),
        json_at("/works", pages[1], cursor="cursor-2", per_page="100", filter=flt),
        json_at("/works", pages[2], cursor="cursor-3", per_page="100", filter=flt),
    )
    works = list(make_client(server).iter_works(flt))

    assert [w.openalex_id for w in works] == [r["id"].rsplit("/", 1)[1] for r in results]
    assert len(server.requests) == 3
    assert all("page" not in r.url.params for r in server.requests)  # page and cursor never mix


def test_cursor_paging_reports_totals_per_page(make_client: Callable[..., OpenAlexClient]) -> None:
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    server = Server(*(json_at("/works", page) for page in cursor_pages(results, 5)))
    pages = list(make_client(server).iter_work_pages("authorships.author.id:A5017898742"))
    assert [(len(p.works), p.total) for p in pages] == [(5, 9), (4, 9)]


def test_cursor_paging_stops_on_empty_results(make_client: Callable[..., OpenAlexClient]) -> None:
    empty = sample("works_list_empty_result.json")
    empty["meta"]["next_cursor"] = "still-a-cursor"
    server = Server(json_at("/works", empty))
    assert list(make_client(server).iter_works("cites:W3209445140")) == []


def test_per_page_is_clamped_and_select_passed(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    empty = sample("works_list_empty_result.json")
    server = Server(
        json_at("/works", empty, per_page="100", select="id,title"),
        json_at("/works", empty, per_page="1"),
    )
    client = make_client(server)
    assert list(client.iter_works("cites:W1", per_page=500, select="id,title")) == []
    assert list(client.iter_works("cites:W1", per_page=0)) == []


def test_api_key_is_sent_and_never_logged(
    make_client: Callable[..., OpenAlexClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(
        json_at("/authors/A5023888391", sample("author_A5023888391.json"), api_key="s3cr3t-key"),
        status(404, text="<html>Not found</html>", headers={"content-type": "text/html"}),
    )
    client = make_client(server, api_key="s3cr3t-key")
    client.get_author("A5023888391")
    with pytest.raises(AuthorNotFound) as caught:
        client.get_author("A1234567")

    assert "s3cr3t-key" not in caught.value.user_message
    assert "api_key=***" in caplog.text  # httpx's own request log line, redacted
    assert "s3cr3t-key" not in caplog.text


def test_works_for_authors_builds_one_or_filter(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    ids = [f"A{5000000000 + i}" for i in range(100)]
    expected = "authorships.author.id:" + "|".join(ids) + ",from_publication_date:2026-11-01"
    server = Server(json_at("/works", sample("works_list_empty_result.json"), filter=expected))
    client = make_client(server)
    assert list(client.works_for_authors(ids, from_publication_date=date(2026, 11, 1))) == []
    assert len(server.requests) == 1


def test_works_for_authors_refuses_more_than_100_ids(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    client = make_client(Server())  # any request would fail the test
    ids = [f"A{5000000000 + i}" for i in range(101)]
    with pytest.raises(ValueError, match="100"):
        client.works_for_authors(ids)
    with pytest.raises(ValueError):
        client.works_for_authors(["A1|A2"])
    assert list(client.works_for_authors([])) == []


# -- retries and errors -------------------------------------------------------------------------


def test_retries_5xx_with_exponential_backoff(
    make_client: Callable[..., OpenAlexClient], sleeps: list[float]
) -> None:
    server = Server(
        status(500),
        status(503),
        json_at("/authors/A5023888391", sample("author_A5023888391.json")),
    )
    author = make_client(server).get_author("A5023888391")
    assert author.display_name == "Jason Priem"
    assert sleeps == [0.5, 1.0]


def test_retries_timeouts_and_connection_errors(
    make_client: Callable[..., OpenAlexClient], sleeps: list[float]
) -> None:
    server = Server(
        raises(httpx.ReadTimeout("read timed out")),
        raises(httpx.ConnectError("connection refused")),
        json_at("/authors/A5023888391", sample("author_A5023888391.json")),
    )
    assert make_client(server).get_author("A5023888391").openalex_id == "A5023888391"
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_the_last_retry(
    make_client: Callable[..., OpenAlexClient], sleeps: list[float]
) -> None:
    server = Server(*[raises(httpx.ConnectError("connection refused"))] * 4)
    with pytest.raises(OpenAlexUnavailable) as caught:
        make_client(server).get_author("A5023888391")
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(server.requests) == 4
    assert "try again later" in caught.value.user_message


def test_503_forever_becomes_unavailable(
    make_client: Callable[..., OpenAlexClient], sleeps: list[float]
) -> None:
    server = Server(*[status(503)] * 3)
    with pytest.raises(OpenAlexUnavailable):
        make_client(server, max_retries=2, backoff=1.0).get_author("A5023888391")
    assert sleeps == [1.0, 2.0]


def test_429_is_rate_limited_with_retry_after_and_not_retried(
    make_client: Callable[..., OpenAlexClient], sleeps: list[float]
) -> None:
    server = Server(
        status(
            429,
            json={"error": "Rate limit exceeded", "message": "daily budget spent"},
            headers={"Retry-After": "7200"},
        )
    )
    with pytest.raises(RateLimited) as caught:
        make_client(server).get_author("A5023888391")
    assert caught.value.retry_after == 7200.0
    assert "budget is spent" in caught.value.user_message
    assert "retry after 2.0 hours" in caught.value.user_message
    assert sleeps == [] and len(server.requests) == 1


def test_plan_upgrade_required_is_rate_limited(
    make_client: Callable[..., OpenAlexClient],
) -> None:
    body = {"error": "Plan upgrade required", "message": "from_created_date needs a paid plan"}
    server = Server(status(429, json=body))
    with pytest.raises(RateLimited) as caught:
        list(make_client(server).iter_works("from_created_date:2026-01-01"))
    assert caught.value.retry_after is None
    assert "paid plan" in caught.value.user_message


def test_html_404_is_author_not_found(make_client: Callable[..., OpenAlexClient]) -> None:
    html = "<!doctype html><html><body><h1>404 Not Found</h1></body></html>"
    server = Server(status(404, text=html, headers={"content-type": "text/html"}))
    with pytest.raises(AuthorNotFound) as caught:
        make_client(server).get_author("A1234567890")
    assert caught.value.user_message == "OpenAlex has no author A1234567890."


def test_malformed_json_is_a_bad_response(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(
        status(200, text="{not json", headers={"content-type": "application/json"}),
        status(200, json=[1, 2, 3]),
        status(200, json={"meta": {}, "results": "nope"}),
    )
    client = make_client(server)
    with pytest.raises(BadResponse):
        client.get_author("A5023888391")
    with pytest.raises(BadResponse):
        client.get_author("A5023888391")
    with pytest.raises(BadResponse):
        list(client.iter_works("cites:W1"))


def test_400_carries_the_api_message(make_client: Callable[..., OpenAlexClient]) -> None:
    body = {
        "error": "Invalid query parameters error.",
        "message": "Maximum number of values exceeded for authorships.author.id.",
    }
    server = Server(status(400, json=body))
    with pytest.raises(BadResponse) as caught:
        list(make_client(server).iter_works("authorships.author.id:A1"))
    assert "Maximum number of values exceeded" in caught.value.user_message
    assert caught.value.status == 400


def _nested(depth: int) -> bytes:
    """A JSON object whose `results` is a list nested `depth` deep (json recurses per level)."""
    return b'{"results": ' + b"[" * depth + b"]" * depth + b"}"


def test_deep_json_is_a_bad_response_that_says_so(make_client: Callable[..., OpenAlexClient]) -> None:
    deep = {"content": _nested(100_000), "headers": {"content-type": "application/json"}}
    server = Server(status(200, **deep), status(400, **deep))
    client = make_client(server)
    with pytest.raises(BadResponse) as caught:
        client.search_authors("Joseph Mearman")
    assert caught.value.user_message == (
        "OpenAlex sent a reply that could not be read for /autocomplete/authors (it is nested too deeply)."
    )
    # The same depth in an error body still leaves the status to explain the refusal.
    with pytest.raises(BadResponse) as refused:
        client.search_authors("Joseph Mearman")
    assert refused.value.status == 400 and "rejected the request" in refused.value.user_message


def test_text_is_made_storable_where_it_enters(make_client: Callable[..., OpenAlexClient]) -> None:
    work = {
        "id": "https://openalex.org/W1",
        "title": "Poison\u0000title with a lone \ud800 surrogate\u0007",
        "authorships": [{"author": {"id": "https://openalex.org/A1", "display_name": "Ada\u0000 Lovelace"}}],
        "abstract_inverted_index": {"Tab\tand\nnewline": [0], "bell\u0007": [1]},
    }
    # json.dumps writes them as \\u escapes, as a JSON server may (httpx's json= cannot encode "\\ud800").
    body = json.dumps({"meta": {}, "results": [work]}).encode()
    server = Server(status(200, content=body, headers={"content-type": "application/json"}))
    [parsed] = make_client(server).iter_works("authorships.author.id:A1")
    assert parsed.title == "Poisontitle with a lone \ufffd surrogate"
    assert parsed.authorships[0].name == "Ada Lovelace"
    assert parsed.abstract == "Tab\tand\nnewline bell"


def test_401_is_access_denied(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(status(401, json={"error": "Invalid API key"}))
    with pytest.raises(AccessDenied):
        make_client(server, api_key="wrong").get_author("A5023888391")


def test_client_is_a_context_manager() -> None:
    server = Server(json_at("/authors/A5023888391", sample("author_A5023888391.json")))
    with OpenAlexClient(BASE, transport=httpx.MockTransport(server)) as client:
        assert client.get_author("A5023888391").display_name == "Jason Priem"


def test_unknown_orcid_is_author_not_found(make_client: Callable[..., OpenAlexClient]) -> None:
    server = Server(status(404, text="<html>404</html>", headers={"content-type": "text/html"}))
    with pytest.raises(AuthorNotFound) as caught:
        make_client(server).get_author("orcid:0000-0002-1825-0097")
    assert caught.value.user_message == "OpenAlex has no author with ORCID 0000-0002-1825-0097."
