"""Word lists for the synthetic store, kept in benchmarks/data/vocab.json: international names
with diacritics, topics, places, venues, and the pieces of titles and abstracts.

Names are grouped by region so that a lab's members share a naming culture, and surnames are
drawn from a short real list (heavily shared: Wang, Nguyễn, García) plus region-typical
root+suffix forms for the long tail (Dvořák, Ólafsdóttir, Kowalczyk).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "vocab.json"


@dataclass(frozen=True)
class Region:
    """A naming culture: given names, common surnames, surname morphology, places."""

    key: str
    weight: float
    given: tuple[str, ...]
    surnames: tuple[str, ...]
    roots: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    # Optional middle pieces between root and suffix ("Eich"+"en"+"berg").
    infixes: tuple[str, ...] = ()
    # Given names composed from two parts ("Zhi"+"wei", "Min"+"-jun", "Văn"+" Minh").
    given_parts: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    given_joiner: str = ""
    # Spanish/Portuguese researchers often publish under two surnames.
    double_surname: float = 0.0
    # "Wei Wang" also appears as "Wang Wei" on papers.
    family_first_alias: bool = False
    middle_initial: float = 0.0
    country: str = "US"
    cities: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> Region:
        """A region as the data file writes it (lists where the fields hold tuples)."""
        values = dict(entry)
        for spec in fields(cls):
            value = values.get(spec.name)
            if spec.name == "given_parts" and value is not None:
                values[spec.name] = tuple(tuple(part) for part in value)
            elif isinstance(value, list):
                values[spec.name] = tuple(value)
        return cls(**values)


def load_vocab(path: Path = DATA) -> dict[str, Any]:
    """Every word list of the data file, by name."""
    loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return loaded


_VOCAB = load_vocab()
REGIONS: tuple[Region, ...] = tuple(Region.from_json(entry) for entry in _VOCAB["regions"])
TOPIC_FIELDS: tuple[str, ...] = tuple(_VOCAB["topic_fields"])
TOPIC_TEMPLATES: tuple[str, ...] = tuple(_VOCAB["topic_templates"])
INSTITUTION_TEMPLATES: tuple[tuple[str, str], ...] = tuple(
    (name, slug) for name, slug in _VOCAB["institution_templates"]
)
TLD: dict[str, str] = dict(_VOCAB["tld"])
JOURNALS: tuple[str, ...] = tuple(_VOCAB["journals"])
PREPRINT_SERVERS: tuple[tuple[str, float], ...] = tuple(
    (name, share) for name, share in _VOCAB["preprint_servers"]
)
TITLE_METHODS: tuple[str, ...] = tuple(_VOCAB["title_methods"])
TITLE_LINKS: tuple[str, ...] = tuple(_VOCAB["title_links"])
TITLE_OBJECTS: tuple[str, ...] = tuple(_VOCAB["title_objects"])
ABSTRACT_SENTENCES: tuple[str, ...] = tuple(_VOCAB["abstract_sentences"])
ABSTRACT_ADJECTIVES: tuple[str, ...] = tuple(_VOCAB["abstract_adjectives"])
ABSTRACT_WORDS: tuple[str, ...] = tuple(_VOCAB["abstract_words"])
ABSTRACT_PHRASES: tuple[str, ...] = tuple(_VOCAB["abstract_phrases"])
