"""The slash grammar (DESIGN §3): `/peer QUERY`, `/peer SUBCOMMAND …`, `/peer help`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rapidfuzz.distance import Levenshtein

MAX_QUERY = 200
SUBCOMMANDS = ("profile", "help")
_MARKUP = re.compile(r"<[@#!][^>]*>")

Kind = Literal["profile", "help", "empty", "too_long", "markup"]


@dataclass(frozen=True)
class ParsedCommand:
    kind: Kind
    query: str = ""
    # When the first word looks like a mistyped subcommand: the one the user probably meant,
    # offered as a hint if nobody by that name is found (it may be a surname, like "Helm").
    suggestion: str | None = None
    length: int = 0


def parse_slash_text(text: str) -> ParsedCommand:
    """Turn the text after the command into what the user asked for."""
    text = " ".join((text or "").split())
    if not text:
        return ParsedCommand("empty")
    if len(text) > MAX_QUERY:
        return ParsedCommand("too_long", length=len(text))
    head, _, rest = text.partition(" ")
    word = head.casefold()
    if word in ("help", "?", "-h", "--help"):
        return ParsedCommand("help")
    if word == "profile":
        rest = rest.strip()
        return ParsedCommand("profile", rest) if rest else ParsedCommand("empty")
    if _MARKUP.search(text):
        # Slack rewrites mentions to <@U…>, <#C…>, <!here>: those are people and channels,
        # not researchers.
        return ParsedCommand("markup", text)
    suggestion = None
    if rest and len(word) >= 4:
        close = min(SUBCOMMANDS, key=lambda sub: Levenshtein.distance(word, sub))
        if 0 < Levenshtein.distance(word, close) <= 2:
            suggestion = f"{close} {rest}"
    return ParsedCommand("profile", text, suggestion=suggestion)
