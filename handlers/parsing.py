"""The slash grammar: `/peer QUERY`, `/peer SUBCOMMAND …`, `/peer help`. Every subcommand and
its options are listed in `handlers/messages.help_message`, the answer to `/peer help`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

MAX_QUERY = 200
# Subcommands followed by a researcher QUERY (and, for some, options such as year:2021).
QUERY_SUBCOMMANDS: tuple[str, ...] = (
    "profile",
    "papers",
    "collaborators",
    "graph",
    "follow",
    "unfollow",
    "claim",
    "invite",
)
# Subcommands with a grammar of their own (or none); their text after the word is `args`.
OTHER_SUBCOMMANDS: tuple[str, ...] = ("help", "following", "digest", "unclaim", "who", "topic", "channel")
# `follow topic TOPIC` / `unfollow topic TOPIC`: kinds "follow_topic" / "unfollow_topic" with TOPIC
# as `args`. A researcher whose name starts with "Topic" is still reachable by id or ORCID.
TOPIC_SUBCOMMANDS: tuple[str, ...] = ("follow", "unfollow")
_HELP_WORDS = ("help", "?", "-h", "--help")
_MARKUP = re.compile(r"<[@#!][^>]*>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("|".join(_ENTITIES))


@dataclass(frozen=True)
class ParsedCommand:
    """What the user asked for. `kind` is a subcommand, or one of empty / too_long / markup."""

    kind: str
    query: str = ""
    # Text after a subcommand of OTHER_SUBCOMMANDS, for that subcommand's own parser.
    args: str = ""
    # When the first word looks like a mistyped subcommand: the one the user probably meant,
    # offered as a hint if nobody by that name is found (it may be a surname, like "Helm").
    suggestion: str | None = None
    length: int = 0
    # Set for kind "empty": the subcommand that was typed without its QUERY.
    subcommand: str | None = None


def decode_slack_text(text: str) -> str:
    """What a person typed, from the text Slack sends: it escapes &, < and > as &amp; &lt; &gt;
    (and nothing else). Decoded once, so echoing it escapes it once: `<b>` shows as `<b>`."""
    return _ENTITY.sub(lambda match: _ENTITIES[match.group()], text)


def parse_slash_text(text: str) -> ParsedCommand:
    """Turn the text after the command, as Slack sends it, into what the user asked for."""
    text = " ".join((text or "").split())
    if not text:
        return ParsedCommand("empty")
    # Mentions arrive as raw <@U…> markup while typed brackets arrive escaped: look before decoding,
    # so a typed "<@U1>" is a name to search for and a real mention is not.
    markup = bool(_MARKUP.search(text))
    text = decode_slack_text(text)
    if len(text) > MAX_QUERY:
        return ParsedCommand("too_long", length=len(text))
    head, _, rest = text.partition(" ")
    word = head.casefold()
    if word in _HELP_WORDS:
        return ParsedCommand("help")
    if word in OTHER_SUBCOMMANDS:
        return ParsedCommand(word, args=rest)
    if word in QUERY_SUBCOMMANDS:
        if not rest:
            return ParsedCommand("empty", subcommand=word)
        first, _, topic = rest.partition(" ")
        if word in TOPIC_SUBCOMMANDS and first.casefold() == "topic":
            return ParsedCommand(f"{word}_topic", args=topic)
        return ParsedCommand("markup", rest) if markup else ParsedCommand(word, rest)
    if markup:
        # Slack rewrites mentions to <@U…>, <#C…>, <!here>: those are people and channels,
        # not researchers.
        return ParsedCommand("markup", text)
    suggestion = None
    known = QUERY_SUBCOMMANDS + OTHER_SUBCOMMANDS
    if rest and len(word) >= 4:
        close = min(known, key=lambda sub: Levenshtein.distance(word, sub))
        if 0 < Levenshtein.distance(word, close) <= 2:
            suggestion = f"{close} {rest}"
    return ParsedCommand("profile", text, suggestion=suggestion)


# What people type to a bot in its DM that is not a researcher's name.
_CHAT_WORDS = frozenset({"hi", "hello", "hey", "hiya", "yo", "thanks", "thank you", "thx", "ok", "okay"})


def parse_dm_text(text: str, command: str) -> ParsedCommand:
    """Text typed to the bot in its DM, as Slack sends it: the slash grammar without the command
    (a leading `command` is tolerated). Kind "unusable" for what cannot be a researcher: nothing,
    a greeting, or no letter or digit at all."""
    words = (text or "").split()
    if words and words[0].casefold() == command.casefold():
        words = words[1:]
    parsed = parse_slash_text(" ".join(words))
    if parsed.kind == "empty" and parsed.subcommand is None:
        return ParsedCommand("unusable")
    if parsed.kind == "profile":
        said = parsed.query.casefold().strip(" !.,?")
        if said in _CHAT_WORDS or not any(char.isalnum() for char in parsed.query):
            return ParsedCommand("unusable")
    return parsed
