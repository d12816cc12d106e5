"""Text normalisation shared by search, de-duplication and Slack-safe display."""

from __future__ import annotations

import functools
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


# Rankings break ties by the folded name, the same few thousand names request after request.
@functools.lru_cache(maxsize=16384)
def normalize_name(name: str) -> str:
    """The searchable form of a person's name: folded, punctuation as spaces, single-spaced."""
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(name)).replace("_", " ")).strip()


def normalize_title(title: str) -> str:
    """The comparable form of a work title, used to pair a preprint with its published version."""
    return normalize_name(title)[:512]


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 work`, `3 works`, `1,200 works`; `many` for irregular plurals."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def truncate(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters at a word boundary, with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return (cut or text[: limit - 1]) + "…"


# What PostgreSQL text cannot hold (NUL) and what no store should keep: C0 controls other than
# tab and newline, and lone UTF-16 surrogates (valid in a Python str parsed from JSON "\ud800",
# unencodable as UTF-8, so psycopg and sqlite3 raise on them).
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff]")


def _replace_unstorable(match: re.Match[str]) -> str:
    return "" if match.group() < "\x20" else "\ufffd"


def storable(text: str) -> str:
    """`text` as both databases and Slack take it: controls but tab/newline dropped, lone
    surrogates replaced by U+FFFD. Applied once, where text enters (OpenAlex, Slack)."""
    return _UNSTORABLE.sub(_replace_unstorable, text) if _UNSTORABLE.search(text) else text


def storable_tree(value: object) -> object:
    """A parsed JSON value with `storable` applied to every string, keys included.

    Iterative, so a payload as deep as the JSON parser allows cannot overflow the stack here.
    """
    if isinstance(value, str):
        return storable(value)
    if not isinstance(value, dict | list):
        return value
    root: list[object] = [value]
    stack: list[tuple[object, object, object]] = [(root, 0, value)]
    while stack:
        parent, slot, node = stack.pop()
        if isinstance(node, dict):
            cleaned: dict[object, object] = {}
            for key, item in node.items():
                cleaned[storable(key) if isinstance(key, str) else key] = item
            for key, item in cleaned.items():
                if isinstance(item, str):
                    cleaned[key] = storable(item)
                elif isinstance(item, dict | list):
                    stack.append((cleaned, key, item))
            node = cleaned
        elif isinstance(node, list):
            node = list(node)
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = storable(item)
                elif isinstance(item, dict | list):
                    stack.append((node, index, item))
        parent[slot] = node  # type: ignore[index]
    return root[0]
