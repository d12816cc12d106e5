"""The OpenAlex topic requests and parsing (services/openalex/topics.py) against recorded shapes."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs

import httpx
import pytest

from services.openalex.client import OpenAlexClient
from services.openalex.records import RateLimited
from services.openalex.topics import (
    TopicNotFound,
    get_topic,
    parse_topic,
    search_topics,
    topic_ref,
    works_for_topics,
)
from tests.fake_openalex import FakeOpenAlex, fixture


def _client(openalex: FakeOpenAlex, api_key: str | None = None) -> OpenAlexClient:
    return OpenAlexClient(
        "https://openalex.test", api_key, transport=openalex.transport(), sleep=lambda _: None
    )


def test_a_topic_parses_with_its_hierarchy() -> None:
    topic = parse_topic(fixture("topic_T10017.json"))
    assert (topic.openalex_id, topic.subfield, topic.field, topic.domain) == (
        "T10017",
        "Artificial Intelligence",
        "Computer Science",
        "Physical Sciences",
    )
    assert topic.works_count == 48213 and "Influence Functions" in topic.keywords


def test_get_topic_and_a_missing_one(openalex: FakeOpenAlex) -> None:
    openalex.add("/topics/T10017", fixture("topic_T10017.json"))
    openalex.add("/topics/T1", "<html>Not found</html>", status=404)
    client = _client(openalex, api_key="secret")
    assert get_topic(client, "T10017").name.startswith("Interpretability")
    assert openalex.requests[0].url.params["api_key"] == "secret"
    with pytest.raises(TopicNotFound):
        get_topic(client, "T1")


def test_autocomplete_answers_the_topics_in_its_order(openalex: FakeOpenAlex) -> None:
    openalex.add("/autocomplete/topics", fixture("autocomplete_topics_interpretability.json"))
    found = search_topics(_client(openalex), "  interpretability ")
    assert [c.openalex_id for c in found] == ["T10017", "T12026", "T11689"]
    assert openalex.requests[0].url.params["q"] == "interpretability"
    assert search_topics(_client(openalex), "   ") == []


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("T10017", "T10017"),
        ("t10017", "T10017"),
        ("https://openalex.org/T10017", "T10017"),
        ("https://openalex.org/topics/T10017/", "T10017"),
        ("https://api.openalex.org/topics/T10017", "T10017"),
        ("influence functions", None),
        ("A5023888391", None),
        ("https://openalex.org/A5023888391", None),
    ],
)
def test_topic_refs(text: str, ref: str | None) -> None:
    assert topic_ref(text) == ref


def test_works_for_topics_is_one_or_filter_paged_with_select(openalex: FakeOpenAlex) -> None:
    asked: list[dict[str, str]] = []

    def works(request: httpx.Request) -> httpx.Response:
        query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        asked.append(query)
        if query["cursor"] == "*":
            return httpx.Response(
                200, json={"meta": {"next_cursor": "c2"}, "results": [{"id": "W1", "title": "a"}]}
            )
        return httpx.Response(
            200, json={"meta": {"next_cursor": None}, "results": [{"id": "W2", "title": "b"}]}
        )

    openalex.add_callable("/works", works)
    found = list(works_for_topics(_client(openalex), ["T1", "T2"], from_publication_date=date(2026, 11, 1)))
    assert [w.openalex_id for w in found] == ["W1", "W2"]
    assert asked[0]["filter"] == "topics.id:T1|T2,from_publication_date:2026-11-01"
    assert asked[0]["per_page"] == "100" and "topics" in asked[0]["select"].split(",")
    with pytest.raises(ValueError, match="at most 100"):
        works_for_topics(_client(openalex), [f"T{n}" for n in range(101)])
    with pytest.raises(ValueError, match="not OpenAlex topic ids"):
        works_for_topics(_client(openalex), ["A1"])


def test_a_spent_budget_is_a_typed_error(openalex: FakeOpenAlex) -> None:
    openalex.add("/works", {"error": "budget"}, status=429, headers={"Retry-After": "60"})
    with pytest.raises(RateLimited):
        list(works_for_topics(_client(openalex), ["T1"]))
