"""Recognising what a user or operator typed: an OpenAlex author id or URL, an ORCID, or a name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_OPENALEX_AUTHOR = re.compile(
    r"^(?:https?://(?:api\.)?openalex\.org/(?:authors/|people/)?)?(A\d{4,12})/?$", re.IGNORECASE
)
_OPENALEX_OTHER = re.compile(
    r"^(?:https?://(?:api\.)?openalex\.org/(?:(works|sources|institutions|topics|concepts|funders|"
    r"publishers)/)?)?([WSITCFP]\d{4,12})/?$",
    re.IGNORECASE,
)
_ORCID = re.compile(
    r"^(?:https?://(?:www\.)?orcid\.org/|orcid:)?(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dX])/?$",
    re.IGNORECASE,
)
_KIND_NAMES = {
    "W": "a work",
    "S": "a source",
    "I": "an institution",
    "T": "a topic",
    "C": "a concept",
    "F": "a funder",
    "P": "a publisher",
}


class InvalidReference(ValueError):
    """The text looks like an identifier but is not a usable author reference."""


@dataclass(frozen=True)
class AuthorRef:
    kind: Literal["openalex", "orcid", "name"]
    value: str


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 11,2 check digit, as ORCID uses."""
    digits = orcid.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    return digits[-1].upper() == expected


def parse_author_ref(text: str) -> AuthorRef:
    """Classify a reference; raises InvalidReference for a bad ORCID or a non-author OpenAlex id."""
    raw = text.strip().strip("<>")
    if match := _OPENALEX_AUTHOR.match(raw):
        return AuthorRef("openalex", match.group(1).upper())
    if match := _ORCID.match(raw):
        digits = match.group(1).replace("-", "").upper()
        orcid = f"{digits[0:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:16]}"
        if not orcid_checksum_ok(orcid):
            raise InvalidReference(
                f"{orcid} is not a valid ORCID (its check digit is wrong). "
                "Copy it from the researcher's orcid.org page, e.g. 0000-0002-1825-0097."
            )
        return AuthorRef("orcid", orcid)
    if match := _OPENALEX_OTHER.match(raw):
        kind = _KIND_NAMES.get(match.group(2)[0].upper(), "another kind of record")
        raise InvalidReference(
            f"{match.group(2).upper()} is {kind} in OpenAlex, not an author. "
            "Give an author id (A…), an author URL such as https://openalex.org/A5023888391, "
            "an ORCID or a name."
        )
    return AuthorRef("name", " ".join(raw.split()))
