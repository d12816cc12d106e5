"""Text normalisation shared by search, de-duplication and Slack-safe display."""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD leaves whole; mapped so "Łukasz" finds "Lukasz" on both databases.
_EXTRA_FOLDS = str.maketrans(
    {"ł": "l", "đ": "d", "ð": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i"}
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case- and accent-fold: NFKD, drop combining marks, casefold, map the stragglers."""
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():  # ASCII has no combining marks: skip the walk through characters
        decomposed = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return decomposed.casefold().translate(_EXTRA_FOLDS)


def normalize_name(name: str) -> str:
    """The searchable form of a person's name: folded, punctuation as spaces, single-spaced."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(name)).replace("_", " ")).strip()


def normalize_title(title: str) -> str:
    """The comparable form of a work title, used to pair a preprint with its published version."""
    return normalize_name(title)[:512]


def truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return (cut or text[: limit - 1]) + "…"
