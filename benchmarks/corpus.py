"""Deterministic text for the synthetic store: people's names, institutions, topics, titles."""

from __future__ import annotations

import itertools
import random
import re
from bisect import bisect
from dataclasses import dataclass

from benchmarks.vocab import (
    INSTITUTION_TEMPLATES,
    REGIONS,
    TITLE_LINKS,
    TITLE_METHODS,
    TITLE_OBJECTS,
    TLD,
    TOPIC_FIELDS,
    TOPIC_TEMPLATES,
    Region,
)
from services.store.text import fold, normalize_name

TOPIC_COUNT = 4_500
INSTITUTION_COUNT = 5_000
ALTERNATIVE_NAME_SHARE = 0.10
_MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTW"
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PersonName:
    """A researcher's display name, other searchable names, and the initial form on papers."""

    primary: str
    alternatives: tuple[str, ...]
    initials: str


def _cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights: the first entries of a frequency-ordered list come up most."""
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


class NameMaker:
    """Draws names region by region, so common surnames are shared as in real bibliographies."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._given = [_cumulative(len(r.given), 0.3) for r in REGIONS]
        self._surnames = [_cumulative(len(r.surnames), 0.7) for r in REGIONS]
        weights = [r.weight for r in REGIONS]
        self._region_weights = list(itertools.accumulate(weights))

    def random_region(self) -> int:
        """A region index drawn by each region's share of researchers."""
        return bisect(self._region_weights, self._rng.random() * self._region_weights[-1])

    def _pick(self, words: tuple[str, ...], cumulative: list[float]) -> str:
        return words[min(bisect(cumulative, self._rng.random() * cumulative[-1]), len(words) - 1)]

    def _family(self, index: int, region: Region) -> str:
        rng = self._rng
        if region.roots and rng.random() < 0.6:
            infix = rng.choice(region.infixes) if region.infixes and rng.random() < 0.5 else ""
            family = rng.choice(region.roots) + infix + rng.choice(region.suffixes)
        else:
            family = self._pick(region.surnames, self._surnames[index])
        if rng.random() < region.double_surname:
            second = self._pick(region.surnames, self._surnames[index])
            if second != family:
                family = f"{family} {second}"
        return family

    def make(self, index: int) -> PersonName:
        """One person of region `index`: "José García Márquez", alternatives like "J. García Márquez"."""
        rng = self._rng
        region = REGIONS[index]
        first, second = region.given_parts
        if first and rng.random() < 0.7:
            given = rng.choice(first) + region.given_joiner + rng.choice(second)
        else:
            given = self._pick(region.given, self._given[index])
        family = self._family(index, region)
        middle = ""
        if rng.random() < region.middle_initial:
            middle = rng.choice(_MIDDLE_INITIALS) + "."
        primary = " ".join(part for part in (given, middle, family) if part)
        initials = " ".join(part for part in (_initials(given), middle, family) if part)
        alternatives: list[str] = []
        if rng.random() < ALTERNATIVE_NAME_SHARE:
            alternatives.append(initials)
            if region.family_first_alias and rng.random() < 0.5:
                alternatives.append(f"{family} {given}")
            elif rng.random() < 0.3:
                alternatives.append(f"{family}, {given}")
        return PersonName(primary, tuple(alternatives), initials)

    def printed_only(self) -> str:
        """A name that appears on a paper without a researcher record behind it."""
        name = self.make(self.random_region())
        return name.initials if self._rng.random() < 0.5 else name.primary


def _initials(given: str) -> str:
    """ "Thị Hương" → "T. H.", "Min-jun" → "M.-J." (the form bibliographies print)."""
    return " ".join("-".join(piece[:1].upper() + "." for piece in part.split("-")) for part in given.split())


@dataclass(frozen=True)
class InstitutionSpec:
    region: int
    name: str
    domain: str
    country_code: str
    ror: str


def make_institutions(rng: random.Random) -> list[InstitutionSpec]:
    """About 5,000 institutions with distinct names and e-mail domains, grouped by region."""
    every = []
    for index, region in enumerate(REGIONS):
        for city in region.cities:
            slug = _SLUG.sub("-", fold(city)).strip("-")
            for template, code in INSTITUTION_TEMPLATES:
                domain = f"{code.format(slug)}.{TLD[region.country]}"
                every.append((index, template.format(city), domain, region.country))
    chosen = sorted(rng.sample(range(len(every)), min(INSTITUTION_COUNT, len(every))))
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return [
        InstitutionSpec(
            *every[i], ror="0" + "".join(rng.choice(alphabet) for _ in range(6)) + f"{i % 100:02d}"
        )
        for i in chosen
    ]


def make_topics(rng: random.Random) -> tuple[list[str], list[list[int]]]:
    """About 4,500 OpenAlex-like topic names, and topic indexes grouped by field."""
    pairs = [(f, t) for f in range(len(TOPIC_FIELDS)) for t in range(len(TOPIC_TEMPLATES))]
    pairs = sorted(rng.sample(pairs, min(TOPIC_COUNT, len(pairs))))
    names = [TOPIC_TEMPLATES[t].format(TOPIC_FIELDS[f]) for f, t in pairs]
    by_field: list[list[int]] = [[] for _ in TOPIC_FIELDS]
    for index, (f, _) in enumerate(pairs):
        by_field[f].append(index)
    return names, [ids for ids in by_field if ids]


class TextMaker:
    """Titles that read like papers on a given topic (abstracts: `benchmarks.abstracts`)."""

    def __init__(self, rng: random.Random, topic_names: list[str]) -> None:
        self._rng = rng
        self._topics = [name.lower() for name in topic_names]
        # normalize_title of a title equals its pieces normalized and joined by spaces (the
        # pieces meet at spaces or ": "), so each piece is normalized once, not per title.
        self._topic_norms = [normalize_name(name) for name in topic_names]
        self._methods = [(m, m.lower(), normalize_name(m)) for m in TITLE_METHODS]
        self._objects = [(o, normalize_name(o)) for o in TITLE_OBJECTS]

    def title(self, topic: int) -> tuple[str, str]:
        """A title on `topic` and its normalize_title form."""
        rng = self._rng
        method, method_lower, method_norm = rng.choice(self._methods)
        link = rng.choice(TITLE_LINKS)
        obj, obj_norm = rng.choice(self._objects)
        topic_text, topic_norm = self._topics[topic], self._topic_norms[topic]
        if rng.random() < 0.5:
            title = f"{method} {link} {obj} in {topic_text}"
            norm = f"{method_norm} {link} {obj_norm} in {topic_norm}"
        else:
            title = f"{topic_text.capitalize()}: {method_lower} {link} {obj}"
            norm = f"{topic_norm} {method_norm} {link} {obj_norm}"
        return title, norm[:512]


def orcid_for(number: int) -> str:
    """A well-formed synthetic ORCID (0009- block, valid ISO 7064 11,2 check digit)."""
    digits = f"0009{number:011d}"
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    full = digits + ("X" if check == 10 else str(check))
    return "-".join(full[i : i + 4] for i in range(0, 16, 4))
