"""Importer: one transaction per author, preprint/published pairing, idempotent re-imports."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from services.openalex import records
from services.openalex.client import OpenAlexClient
from services.openalex.importer import ImportService
from services.openalex.records import AuthorNotFound, OpenAlexUnavailable, RateLimited
from services.openalex.upserts import default_headline
from services.openalex.works import StoredWork, store_works
from services.research.identifiers import AuthorRef
from services.store.engine import session_scope
from services.store.models import (
    Authorship,
    Institution,
    Researcher,
    ResearcherAlias,
    ResearcherName,
    ResearcherTopic,
    Topic,
    Work,
    WorkTopic,
)

BASE = "https://openalex.test"
FIXTURES = Path(__file__).parent / "fixtures" / "openalex"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
MEARMAN = "A5017898742"
TABLES: tuple[type[SQLModel], ...] = (
    Researcher,
    ResearcherName,
    ResearcherAlias,
    Institution,
    Work,
    Authorship,
    Topic,
    WorkTopic,
    ResearcherTopic,
)


def sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def works_pages(results: list[Any], size: int) -> list[dict[str, Any]]:
    chunks = [results[i : i + size] for i in range(0, len(results), size)] or [[]]
    return [
        {
            "meta": {
                "count": len(results),
                "per_page": size,
                "next_cursor": None if n == len(chunks) - 1 else f"c{n + 2}",
            },
            "results": chunk,
        }
        for n, chunk in enumerate(chunks)
    ]


class FakeOpenAlex:
    """Authors by path; works lists as cursor pages per author filter; anything else fails."""

    def __init__(self) -> None:
        self.authors: dict[str, httpx.Response | Callable[[], httpx.Response]] = {}
        self.works: dict[str, list[Any]] = {}  # filter → pages (each a body or a Response)
        self.requests: list[httpx.Request] = []

    def author(self, path_ref: str, body: Any) -> None:
        self.authors[f"/authors/{path_ref}"] = httpx.Response(200, json=body)

    def redirect(self, path_ref: str, target: str) -> None:
        location = f"{BASE}/authors/{target}"
        self.authors[f"/authors/{path_ref}"] = httpx.Response(301, headers={"Location": location})

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.authors:
            answer = self.authors[path]
            return answer() if callable(answer) else answer
        if path == "/works":
            pages = self.works.get(request.url.params["filter"])
            assert pages is not None, f"unexpected works filter: {request.url}"
            cursor = request.url.params["cursor"]
            number = 0 if cursor == "*" else int(cursor[1:]) - 1
            assert request.url.params["per_page"] == "100"
            page = pages[number]
            return page if isinstance(page, httpx.Response) else httpx.Response(200, json=page)
        raise AssertionError(f"unexpected OpenAlex request: {request.url}")


@pytest.fixture
def fake() -> FakeOpenAlex:
    fake = FakeOpenAlex()
    fake.author(MEARMAN, sample("author_A5017898742.json"))
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    fake.works[f"authorships.author.id:{MEARMAN}"] = works_pages(results, 5)
    return fake


@pytest.fixture
def client(fake: FakeOpenAlex) -> Iterator[OpenAlexClient]:
    client = OpenAlexClient(BASE, transport=httpx.MockTransport(fake.handle), sleep=lambda _: None)
    yield client
    client.close()


@pytest.fixture
def service(engine: Engine, client: OpenAlexClient) -> ImportService:
    return ImportService(engine, client, clock=lambda: NOW)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in TABLES
        }


def by_openalex(session: Session, openalex_id: str) -> Researcher:
    return session.execute(select(Researcher).where(Researcher.openalex_id == openalex_id)).scalar_one()


# -- importing an author ------------------------------------------------------------------------


def test_import_author_stores_works_coauthors_and_names(service: ImportService, engine: Engine) -> None:
    progress: list[tuple[int, int | None]] = []
    result = service.import_author(
        AuthorRef("openalex", MEARMAN), progress=lambda n, total: progress.append((n, total))
    )

    assert result.openalex_id == MEARMAN and result.name == "Joseph Mearman"
    assert result.works == 8  # 9 OpenAlex works: the arXiv preprint and its twin are one
    assert result.coauthors == 17
    assert result.created and result.merged_from is None
    assert progress == [(0, 9), (5, 9), (9, 9)]
    stored = counts(engine)
    assert stored.pop("ResearcherTopic") >= 13 + 17  # every co-author has a topic or more
    assert stored == {
        "Researcher": 18,
        "ResearcherName": 3 + 17,
        "ResearcherAlias": 0,
        "Institution": 1,
        "Work": 8,
        "Authorship": 45,  # 50 listed; the preprint's 5 give way to its published version
        "Topic": 13,
        "WorkTopic": 8 * 3 - 2,  # one work has a single topic
    }
    with Session(engine) as session:
        me = session.get(Researcher, result.researcher_id)
        assert me is not None
        assert (me.slug, me.source, me.orcid) == (MEARMAN, "openalex", None)
        assert (me.openalex_works_count, me.cited_by_count, me.h_index) == (9, 41, 2)
        assert me.imported_at is not None and me.imported_at == NOW
        assert me.headline == default_headline("Joseph Mearman")
        institution = session.get(Institution, me.institution_id)
        assert institution is not None
        assert (institution.openalex_id, institution.name) == ("I161548249", "Bangor University")
        assert (institution.ror, institution.country_code) == ("006jb1a24", "GB")
        names = session.execute(
            select(ResearcherName.name_norm, ResearcherName.is_primary)
            .where(ResearcherName.researcher_id == me.id)
            .order_by(ResearcherName.name_norm)
        ).all()
        assert names == [
            ("j w mearman", False),
            ("joseph mearman", True),
            ("joseph w mearman", False),
        ]


def test_preprint_and_published_version_are_one_work(service: ImportService, engine: Engine) -> None:
    service.import_author(AuthorRef("openalex", MEARMAN))
    with Session(engine) as session:
        work = session.execute(select(Work).where(Work.published_openalex_id == "W3187234764")).scalar_one()
        assert work.openalex_id == "W3188841554"
        assert (work.arxiv_id, work.doi, work.venue) == (
            "2108.04680",
            "10.48550/arxiv.2108.04680",
            "arXiv",
        )
        assert work.type == "preprint"
        assert (work.published_doi, work.published_venue, work.published_year) == (
            "10.2312/cgvc.20211309",
            None,
            2021,
        )
        assert work.first_seen_at == NOW
        assert work.abstract is not None and work.abstract.startswith("We believe that 3D")
        # Authorships follow the published version (the version of record).
        raw = (
            session.execute(
                select(Authorship.raw_name).where(Authorship.work_id == work.id).order_by(Authorship.position)
            )
            .scalars()
            .all()
        )
        assert raw[0] == "Jonathan C. Roberts" and len(raw) == 5


def test_coauthors_become_l1_researchers(service: ImportService, engine: Engine) -> None:
    service.import_author(AuthorRef("openalex", MEARMAN))
    with Session(engine) as session:
        roberts = by_openalex(session, "A5009341822")
        assert roberts.name == "Jonathan C. Roberts"
        assert roberts.orcid == "0000-0001-7718-3181"
        assert roberts.imported_at is None and roberts.source == "openalex"
        assert roberts.slug == "A5009341822"
        assert roberts.headline == default_headline("Jonathan C. Roberts")
        names = (
            session.execute(
                select(ResearcherName.name_norm).where(ResearcherName.researcher_id == roberts.id)
            )
            .scalars()
            .all()
        )
        assert names == ["jonathan c roberts"]
        linked = session.execute(
            select(func.count()).select_from(Authorship).where(Authorship.researcher_id == roberts.id)
        ).scalar_one()
        assert linked == 7


def test_researcher_topics_merge_store_and_openalex_counts(service: ImportService, engine: Engine) -> None:
    result = service.import_author(AuthorRef("openalex", MEARMAN))
    with Session(engine) as session:
        topics = dict(
            session.execute(
                select(Topic.name, ResearcherTopic.works)
                .join(Topic, Topic.id == ResearcherTopic.topic_id)
                .where(ResearcherTopic.researcher_id == result.researcher_id)
            ).all()
        )
    assert topics["Augmented Reality Applications"] == 4
    # Only the preprint side carries this topic; OpenAlex's author record still counts it.
    assert topics["Video Analysis and Summarization"] == 1
    assert topics["Data Visualization and Analytics"] == 2
    assert len(topics) == 13


def test_reimport_updates_and_never_duplicates(service: ImportService, engine: Engine) -> None:
    first = service.import_author(AuthorRef("openalex", MEARMAN))
    before = counts(engine)
    with session_scope(engine) as session:
        me = session.get(Researcher, first.researcher_id)
        assert me is not None
        me.headline = "Edited by Joseph himself"
        me.open_to_collaborate = False
        topics_before = session.execute(
            select(ResearcherTopic.researcher_id, ResearcherTopic.topic_id, ResearcherTopic.works).order_by(
                ResearcherTopic.researcher_id, ResearcherTopic.topic_id
            )
        ).all()

    second = service.import_author(AuthorRef("openalex", MEARMAN))

    assert counts(engine) == before
    assert second.researcher_id == first.researcher_id and not second.created
    assert (second.works, second.coauthors) == (first.works, first.coauthors)
    with Session(engine) as session:
        me = session.get(Researcher, first.researcher_id)
        assert me is not None
        assert me.headline == "Edited by Joseph himself" and me.open_to_collaborate is False
        topics_after = session.execute(
            select(ResearcherTopic.researcher_id, ResearcherTopic.topic_id, ResearcherTopic.works).order_by(
                ResearcherTopic.researcher_id, ResearcherTopic.topic_id
            )
        ).all()
    assert topics_after == topics_before


def test_listeners_hear_every_touched_researcher(service: ImportService, engine: Engine) -> None:
    heard: list[set[int]] = []
    service.add_import_listener(heard.append)
    result = service.import_author(AuthorRef("openalex", MEARMAN))
    assert len(heard) == 1
    assert result.researcher_id in heard[0]
    assert len(heard[0]) == 18


# -- failures leave the store untouched ---------------------------------------------------------


def test_503_forever_on_page_two_leaves_the_store_empty(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    pages = fake.works[f"authorships.author.id:{MEARMAN}"]
    pages[1] = httpx.Response(503)
    heard: list[set[int]] = []
    service.add_import_listener(heard.append)
    with pytest.raises(OpenAlexUnavailable):
        service.import_author(AuthorRef("openalex", MEARMAN))
    assert set(counts(engine).values()) == {0}
    assert heard == []


def test_429_on_page_two_leaves_the_store_empty(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    pages = fake.works[f"authorships.author.id:{MEARMAN}"]
    pages[1] = httpx.Response(429, headers={"Retry-After": "3600"}, json={"error": "Rate limit"})
    with pytest.raises(RateLimited) as caught:
        service.import_author(AuthorRef("openalex", MEARMAN))
    assert caught.value.retry_after == 3600
    assert set(counts(engine).values()) == {0}


def test_unknown_author_leaves_the_store_empty(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    fake.authors["/authors/A1234567890"] = httpx.Response(
        404, text="<html>404</html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(AuthorNotFound):
        service.import_author(AuthorRef("openalex", "A1234567890"))
    assert set(counts(engine).values()) == {0}


def test_author_merged_into_a_tombstone_is_not_found(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    fake.redirect("A5092938886", "A5317838346")
    fake.author("A5317838346", sample("author_A5092938886_resolved_to_deleted_A5317838346.json"))
    with pytest.raises(AuthorNotFound) as caught:
        service.import_author(AuthorRef("openalex", "A5092938886"))
    assert "A5092938886" in caught.value.user_message
    assert "deleted" in caught.value.user_message
    assert set(counts(engine).values()) == {0}
    assert not any(r.url.path == "/works" for r in fake.requests)


def test_a_name_reference_must_be_resolved_first(service: ImportService) -> None:
    with pytest.raises(ValueError):
        service.import_author(AuthorRef("name", "Joseph Mearman"))


# -- identity: merged ids, ORCID ----------------------------------------------------------------


def test_merged_id_is_stored_as_an_alias(fake: FakeOpenAlex, service: ImportService, engine: Engine) -> None:
    fake.redirect("A5000000001", MEARMAN)
    result = service.import_author(AuthorRef("openalex", "A5000000001"))
    assert result.merged_from == "A5000000001" and result.openalex_id == MEARMAN
    with Session(engine) as session:
        alias = session.get(ResearcherAlias, "A5000000001")
        assert alias is not None and alias.researcher_id == result.researcher_id
    before = counts(engine)

    again = service.import_author(AuthorRef("openalex", "A5000000001"))
    direct = service.import_author(AuthorRef("openalex", MEARMAN))
    assert again.researcher_id == direct.researcher_id == result.researcher_id
    assert counts(engine) == before


def test_reimport_after_a_merge_moves_the_old_row_to_the_new_id(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    # Imported under an id OpenAlex later merged into MEARMAN.
    old = sample("author_A5017898742.json")
    old["id"] = "https://openalex.org/A5000000001"
    fake.author("A5000000001", old)
    fake.works["authorships.author.id:A5000000001"] = works_pages([], 100)
    first = service.import_author(AuthorRef("openalex", "A5000000001"))

    fake.redirect("A5000000001", MEARMAN)
    second = service.import_author(AuthorRef("openalex", "A5000000001"))

    assert second.researcher_id == first.researcher_id and not second.created
    with Session(engine) as session:
        row = session.get(Researcher, first.researcher_id)
        assert row is not None and row.openalex_id == MEARMAN
        assert row.slug == "A5000000001"  # slugs stay stable for links already shared
        alias = session.get(ResearcherAlias, "A5000000001")
        assert alias is not None and alias.researcher_id == first.researcher_id
        assert (
            session.execute(
                select(func.count()).select_from(Researcher).where(Researcher.name == "Joseph Mearman")
            ).scalar_one()
            == 1
        )


def test_import_by_orcid(fake: FakeOpenAlex, service: ImportService, engine: Engine) -> None:
    fake.author("orcid:0000-0002-1298-3089", sample("author_by_orcid_0000-0002-1298-3089.json"))
    fake.author("A5042522694", sample("author_by_orcid_0000-0002-1298-3089.json"))
    fake.works["authorships.author.id:A5042522694"] = [sample("works_list_empty_result.json")]

    result = service.import_author(AuthorRef("orcid", "0000-0002-1298-3089"))
    assert result.openalex_id == "A5042522694"
    assert result.merged_from is None and result.works == 0
    with Session(engine) as session:
        row = session.get(Researcher, result.researcher_id)
        assert row is not None and row.orcid == "0000-0002-1298-3089"
        assert row.name == "David Tarragó"
        names = set(
            session.execute(
                select(ResearcherName.name_norm).where(ResearcherName.researcher_id == row.id)
            ).scalars()
        )
        assert {"david tarrago", "d tarrago", "david tarrago asensio"} <= names
        topic_count = session.execute(
            select(func.count()).select_from(ResearcherTopic).where(ResearcherTopic.researcher_id == row.id)
        ).scalar_one()
        assert topic_count > 0  # from the author record alone
    before = counts(engine)
    by_id = service.import_author(AuthorRef("openalex", "A5042522694"))
    assert by_id.researcher_id == result.researcher_id
    assert counts(engine) == before


def test_coauthor_names_mixed_into_alternatives_are_dropped(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    fake.author("A5023888391", sample("author_A5023888391_2026-03.json"))
    fake.works["authorships.author.id:A5023888391"] = [sample("works_list_empty_result.json")]
    result = service.import_author(AuthorRef("openalex", "A5023888391"))
    with Session(engine) as session:
        names = set(
            session.execute(
                select(ResearcherName.name).where(ResearcherName.researcher_id == result.researcher_id)
            ).scalars()
        )
    assert names == {"Jason Priem", "Priem, Jason"}  # not "Hemminger, Bradley M."


def test_an_imported_coauthor_keeps_their_own_topics(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    # Roberts imported first (no works fetched), then Mearman's import touches him as co-author.
    roberts = sample("author_A5017898742.json")
    roberts["id"] = "https://openalex.org/A5009341822"
    roberts["display_name"] = "Jonathan C. Roberts"
    roberts["display_name_alternatives"] = []
    roberts["topics"] = [
        {"id": "https://openalex.org/T99999", "display_name": "Only In His Record", "count": 9}
    ]
    fake.author("A5009341822", roberts)
    fake.works["authorships.author.id:A5009341822"] = [sample("works_list_empty_result.json")]
    first = service.import_author(AuthorRef("openalex", "A5009341822"))
    service.import_author(AuthorRef("openalex", MEARMAN))
    with Session(engine) as session:
        topics = dict(
            session.execute(
                select(Topic.name, ResearcherTopic.works)
                .join(Topic, Topic.id == ResearcherTopic.topic_id)
                .where(ResearcherTopic.researcher_id == first.researcher_id)
            ).all()
        )
    assert topics["Only In His Record"] == 9
    assert topics["Augmented Reality Applications"] == 4


# -- store_works ---------------------------------------------------------------------------------


def _twins() -> tuple[records.Work, records.Work]:
    preprint = records.parse_work(sample("work_W3188841554_arxiv_preprint.json"))
    published = records.parse_work(sample("work_W3187234764_published_version_null_source.json"))
    return preprint, published


def _store(engine: Engine, works: list[records.Work], now: datetime) -> list[StoredWork]:
    with session_scope(engine) as session:
        return store_works(session=session, works=works, now=now)


def test_published_version_arriving_later_joins_its_preprint(engine: Engine) -> None:
    preprint, published = _twins()
    [first] = _store(engine, [preprint], NOW)
    later = NOW + timedelta(days=30)
    [second] = _store(engine, [published], later)

    assert first.is_new and not first.published_now
    assert second.work_id == first.work_id
    assert not second.is_new and second.published_now
    assert set(second.researcher_ids) == set(first.researcher_ids) and len(first.researcher_ids) == 5
    with Session(engine) as session:
        work = session.get(Work, first.work_id)
        assert work is not None
        assert (work.openalex_id, work.published_openalex_id) == ("W3188841554", "W3187234764")
        assert work.published_at == later and work.first_seen_at == NOW
        assert session.execute(select(func.count()).select_from(Work)).scalar_one() == 1


def test_preprint_arriving_after_its_published_version_takes_the_main_columns(
    engine: Engine,
) -> None:
    preprint, published = _twins()
    [first] = _store(engine, [published], NOW)
    [second] = _store(engine, [preprint], NOW + timedelta(days=1))

    assert second.work_id == first.work_id
    assert not second.is_new and not second.published_now
    with Session(engine) as session:
        work = session.get(Work, first.work_id)
        assert work is not None
        assert (work.openalex_id, work.arxiv_id, work.venue, work.type) == (
            "W3188841554",
            "2108.04680",
            "arXiv",
            "preprint",
        )
        assert (work.published_openalex_id, work.published_doi) == (
            "W3187234764",
            "10.2312/cgvc.20211309",
        )
        assert work.published_at == NOW  # when the published version was first seen
    # Seen again in either order: still one row, nothing new.
    again = _store(engine, [published, preprint], NOW + timedelta(days=2))
    assert {s.work_id for s in again} == {first.work_id}
    assert not any(s.is_new or s.published_now for s in again)


def test_same_title_without_a_shared_author_stays_separate(engine: Engine) -> None:
    preprint, published = _twins()
    stranger = records.AuthorshipRef("A5999999999", "Someone Else", None, 0)
    other = dataclasses.replace(published, authorships=(stranger,))
    stored = _store(engine, [preprint, other], NOW)
    assert len({s.work_id for s in stored}) == 2


def test_truncated_authorships_still_link_the_imported_author(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    results = sample("works_list_by_author_A5017898742_per_page50.json")["results"]
    work = json.loads(json.dumps(results[0]))
    work["authorships"] = [a for a in work["authorships"] if not a["author"]["id"].endswith(MEARMAN)]
    work["is_authors_truncated"] = True
    fake.works[f"authorships.author.id:{MEARMAN}"] = works_pages([work], 100)
    result = service.import_author(AuthorRef("openalex", MEARMAN))
    assert result.works == 1
    with Session(engine) as session:
        positions = (
            session.execute(
                select(Authorship.position).where(Authorship.researcher_id == result.researcher_id)
            )
            .scalars()
            .all()
        )
    assert positions == [10]  # after the 10 listed authors


def test_large_author_imports_every_work_and_coauthor(
    fake: FakeOpenAlex, service: ImportService, engine: Engine
) -> None:
    # 500 works, 2,000 distinct co-authors: batched lookups keep this to a handful of queries.
    template = sample("work_W2741809807.json")
    results = []
    for n in range(500):
        work = json.loads(json.dumps(template))
        work["id"] = f"https://openalex.org/W{9000000000 + n}"
        work["doi"] = f"https://doi.org/10.5555/bench.{n}"
        work["title"] = f"Benchmark work number {n}"
        me = {"author": {"id": f"https://openalex.org/{MEARMAN}", "display_name": "Joseph Mearman"}}
        others = [
            {
                "author": {
                    "id": f"https://openalex.org/A{7000000000 + (n * 4 + k) % 2000}",
                    "display_name": f"Coauthor {(n * 4 + k) % 2000}",
                    "orcid": None,
                },
                "raw_author_name": f"Coauthor {(n * 4 + k) % 2000}",
            }
            for k in range(4)
        ]
        work["authorships"] = [me, *others]
        results.append(work)
    fake.works[f"authorships.author.id:{MEARMAN}"] = works_pages(results, 100)

    result = service.import_author(AuthorRef("openalex", MEARMAN))

    assert (result.works, result.coauthors) == (500, 2000)


def test_topics_already_stored_by_name_are_reused(service: ImportService, engine: Engine) -> None:
    # The demo loader (and older data) may hold a topic by name only, or under another id.
    with session_scope(engine) as session:
        session.add(Topic(name="Augmented Reality Applications"))
        session.add(Topic(name="Interactive and Immersive Displays", openalex_id="T1"))
    service.import_author(AuthorRef("openalex", MEARMAN))
    with Session(engine) as session:
        rows = {t.name: t.openalex_id for t in session.execute(select(Topic)).scalars()}
    assert len(rows) == 13
    assert rows["Augmented Reality Applications"] == "T10888"
    assert rows["Interactive and Immersive Displays"] == "T1"
