"""Rows for every table of the synthetic store, built from the shape and the corpus.

Each builder is a generator, so a million works never sit in memory as Python tuples. Random
streams are named per table, so a change in one table's rows leaves the others unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import numpy as np

from benchmarks.abstracts import AbstractMaker
from benchmarks.corpus import InstitutionSpec, NameMaker, PersonName, TextMaker, orcid_for
from benchmarks.graph import Graph
from benchmarks.loader import Row
from benchmarks.vocab import JOURNALS, PREPRINT_SERVERS
from services.research.paper_keys import ShownKey, shown_key
from services.store.text import normalize_name

# A fixed "now", so the same seed gives byte-identical stores whatever the day.
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
INSTITUTION_SHARE = 0.7
OPEN_SHARE = 0.85
PREPRINT_SHARE = 0.3
# Share of works with an abstract (OpenAlex has one for most recent works).
ABSTRACT_SHARE = 0.9
INITIALS_ON_PAPER = 0.15
WORK_COLUMNS = (
    "id",
    "openalex_id",
    "title",
    "title_norm",
    "type",
    "year",
    "publication_date",
    "venue",
    "doi",
    "arxiv_id",
    "abstract",
    "published_openalex_id",
    "published_doi",
    "published_venue",
    "published_year",
    "published_at",
    "first_seen_at",
    "author_count",
)
RESEARCHER_COLUMNS = (
    "id",
    "slug",
    "openalex_id",
    "orcid",
    "source",
    "name",
    "headline",
    "institution_id",
    "open_to_collaborate",
    "openalex_works_count",
    "cited_by_count",
    "h_index",
    "imported_at",
    "updated_at",
)


@dataclass(frozen=True)
class Cast:
    """Everybody in the store: their names and (for most) an institution id."""

    names: list[PersonName]
    institution: list[int | None]


class _Listed(NamedTuple):
    """The work columns services.research.paper_keys.shown_key reads, for a row not yet in the store."""

    type: str
    year: int | None
    publication_date: date | None
    published_openalex_id: str | None
    published_doi: str | None
    published_year: int | None


@dataclass
class ShownKeys:
    """Each work's publication-list key, noted by work_rows as it yields the work and copied onto
    the work's authorship rows by authorship_rows: filled in the one pass that loads them, not by
    a later UPDATE of millions of rows (which on PostgreSQL would also leave as many dead ones)."""

    by_work: list[ShownKey] = field(default_factory=list)  # work id - 1 → key
    # A few thousand distinct keys (year × date × type): one object each, however many works.
    _distinct: dict[ShownKey, ShownKey] = field(default_factory=dict)

    def note(self, work: _Listed) -> None:
        key = shown_key(work)
        self.by_work.append(self._distinct.setdefault(key, key))


def stream(seed: int, name: str) -> random.Random:
    # String seeds are hashed with SHA-512 by `random`, so streams are stable across runs.
    return random.Random(f"{seed}:{name}")


def cast_researchers(graph: Graph, institutions: list[InstitutionSpec], seed: int) -> Cast:
    """Names by region (a lab mostly shares one) and each lab's institution."""
    rng = stream(seed, "cast")
    maker = NameMaker(rng)
    by_region: dict[int, list[int]] = {}
    for index, spec in enumerate(institutions):
        by_region.setdefault(spec.region, []).append(index + 1)
    lab_region = [maker.random_region() for _ in range(graph.labs // 8 + 1)]
    lab_institution = []
    for lab in range(graph.labs):
        pool = by_region.get(lab_region[lab // 8]) or [1]
        # A few big universities host many labs: Zipf-like pick within the region.
        lab_institution.append(pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)])
    names, institution = [], []
    for lab in graph.lab_of.tolist():
        own = lab_region[lab // 8]
        region = own if rng.random() < 0.85 else maker.random_region()
        names.append(maker.make(region))
        institution.append(lab_institution[lab] if rng.random() < INSTITUTION_SHARE else None)
    return Cast(names, institution)


def researcher_rows(graph: Graph, cast: Cast, seed: int) -> Iterator[Row]:
    rng = stream(seed, "researcher")
    for index, (name, works) in enumerate(zip(cast.names, graph.works_of.tolist(), strict=True)):
        rid = index + 1
        openalex_id = f"A9{rid:09d}"
        cited = int(works * rng.lognormvariate(2.5, 1.0))
        imported = NOW - timedelta(days=rng.randint(1, 400)) if rng.random() < 0.4 else None
        yield (
            rid,
            openalex_id,
            openalex_id,
            orcid_for(rid) if rng.random() < 0.35 else None,
            "openalex",
            name.primary,
            f"{name.primary} contributes to research discovery and scholarly infrastructure.",
            cast.institution[index],
            rng.random() < OPEN_SHARE,
            works + int(works * rng.random() * 1.5),
            cited,
            min(works, int(cited**0.5)),
            imported,
            imported or NOW - timedelta(days=rng.randint(1, 900)),
        )


def name_rows(cast: Cast) -> Iterator[Row]:
    next_id = 1
    for index, name in enumerate(cast.names):
        seen = set()
        for text_, primary in [(name.primary, True), *((alt, False) for alt in name.alternatives)]:
            folded = normalize_name(text_)
            if folded and folded not in seen:
                seen.add(folded)
                yield next_id, index + 1, text_, folded, primary
                next_id += 1


def work_rows(
    graph: Graph, texts: TextMaker, abstracts: AbstractMaker, seed: int, keys: ShownKeys
) -> Iterator[Row]:
    """Works in id order; each one's list key is noted in `keys` for its authorship rows."""
    rng = stream(seed, "work")
    # Per-work dice thrown in numpy up front: a Python random call per field costs more than
    # building the row itself.
    draw = np.random.default_rng([seed, 7])
    m = graph.m
    years = graph.work_year
    first_topic = graph.topic_topic[np.searchsorted(graph.topic_work, np.arange(m))]
    months = np.where(years < NOW.year, draw.integers(1, 13, m), draw.integers(1, NOW.month, m)).tolist()
    days = draw.integers(1, 29, m).tolist()
    preprint = (draw.random(m) < PREPRINT_SHARE).tolist()
    weights = np.array([weight for _, weight in PREPRINT_SERVERS])
    server = draw.choice(len(PREPRINT_SERVERS), m, p=weights / weights.sum()).tolist()
    journal = draw.integers(0, len(JOURNALS), m).tolist()
    dice = draw.random((m, 4)).tolist()  # published?, doi?, abstract?, publication date?
    seen_after = draw.integers(0, 41, m).tolist()
    author_counts = np.bincount(graph.auth_work, minlength=m).tolist()
    arxiv_serial: dict[str, int] = {}
    year_list, topic_list = years.tolist(), first_topic.tolist()
    present = [row[2] < ABSTRACT_SHARE for row in dice]
    texts_of = abstracts.abstracts(topic_list, year_list, present)
    for index, (year, topic, abstract) in enumerate(zip(year_list, topic_list, texts_of, strict=True)):
        wid = index + 1
        month, day = months[index], days[index]
        published_dice, doi_dice, _, date_dice = dice[index]
        title, title_norm = texts.title(topic)
        doi = arxiv_id = None
        # openalex id, doi, venue, year, seen at: of the published version, once there is one
        published: tuple[str | None, str | None, str | None, int | None, datetime | None]
        published = (None, None, None, None, None)
        if preprint[index]:
            kind = "preprint"
            venue = PREPRINT_SERVERS[server[index]][0]
            if venue == "arXiv":
                arxiv_id = _arxiv_id(arxiv_serial, year, month, rng)
            elif venue in ("bioRxiv", "medRxiv"):
                doi = f"10.1101/{year}.{month:02d}.{day:02d}.{wid:08d}"
            if year < NOW.year and published_dice < 0.25:
                at = datetime(year, month, day, tzinfo=UTC) + timedelta(days=60 + seen_after[index] * 10)
                published = (
                    f"W8{wid:09d}",
                    f"10.5555/bzs.pub.{wid}",
                    JOURNALS[journal[index]],
                    min(at.year, NOW.year),
                    min(at, NOW),
                )
        else:
            kind = "article"
            venue = JOURNALS[journal[index]]
            doi = f"10.5555/bzs.{wid}" if doi_dice < 0.9 else None
        seen = datetime(year, month, day, tzinfo=UTC) + timedelta(days=seen_after[index])
        published_on = date(year, month, day) if date_dice < 0.85 else None
        keys.note(_Listed(kind, year, published_on, published[0], published[1], published[3]))
        yield (
            wid,
            f"W9{wid:09d}",
            title,
            title_norm,
            kind,
            year,
            published_on,
            venue,
            doi,
            arxiv_id,
            abstract,
            *published,
            min(seen, NOW),
            author_counts[index],
        )


def _arxiv_id(serial: dict[str, int], year: int, month: int, rng: random.Random) -> str:
    """New-style ids (YYMM.NNNNN) from 2008, old-style (archive/YYMMNNN) before."""
    if year >= 2008:
        key = f"{year % 100:02d}{month:02d}"
        serial[key] = serial.get(key, 0) + 1
        return f"{key}.{serial[key]:05d}"
    archive = rng.choice(("hep-th", "cond-mat", "math", "astro-ph", "q-bio"))
    key = f"{archive}/{year % 100:02d}{month:02d}"
    serial[key] = serial.get(key, 0) + 1
    return f"{key}{serial[key]:03d}"


def authorship_rows(graph: Graph, cast: Cast, seed: int, keys: ShownKeys) -> Iterator[Row]:
    """Authorships in (work, position) order, each with its work's list key (work_rows ran first)."""
    rng = stream(seed, "authorship")
    shown = keys.by_work
    printed = NameMaker(stream(seed, "printed"))
    names = cast.names
    step = 200_000
    for start in range(0, len(graph.auth_work), step):
        stop = start + step
        works = (graph.auth_work[start:stop] + 1).tolist()
        people = graph.auth_researcher[start:stop].tolist()
        positions = graph.auth_position[start:stop].tolist()
        for offset, (work, person, position) in enumerate(zip(works, people, positions, strict=True)):
            if person < 0:
                yield start + offset + 1, work, None, position, printed.printed_only(), *shown[work - 1]
                continue
            name = names[person]
            raw = name.initials if rng.random() < INITIALS_ON_PAPER else name.primary
            yield start + offset + 1, work, person + 1, position, raw, *shown[work - 1]


def researcher_topic_counts(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(researcher, topic, distinct works) from authorships × work topics, as the store derives it."""
    linked = graph.auth_researcher >= 0
    work = graph.auth_work[linked]
    person = graph.auth_researcher[linked]
    first = np.searchsorted(graph.topic_work, np.arange(graph.m + 1))
    per_work = np.diff(first)[work]
    starts = np.repeat(first[work], per_work)
    within = np.arange(int(per_work.sum())) - np.repeat(np.cumsum(per_work) - per_work, per_work)
    topic = graph.topic_topic[starts + within]
    width = int(graph.topic_topic.max()) + 1
    keys, counts = np.unique(np.repeat(person, per_work) * width + topic, return_counts=True)
    return keys // width, keys % width, counts
