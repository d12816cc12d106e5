"""Pieces every renderer uses: escaping, the Reply type, and Slack's message limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

# plural lives with the text helpers so services' log lines count the same way; renderers import it here.
from services.store.text import plural as plural
from services.store.text import truncate

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
# Slack rejects messages with about 12–13k characters of block text (msg_blocks_too_long).
MAX_MESSAGE_TEXT = 10_000
# Longer links are left out: a record's URL is rarely that long, and never worth the text budget.
MAX_URL = 1000
# Slack reads a button's accessibility_label to screen readers instead of its text; ≤ 75 characters.
MAX_ACCESSIBILITY_LABEL = 75
# Names (researchers, people, institutions) are cut to this many characters in messages.
NAME = 150
# http(s), a host, and no white space (which would end the link early in mrkdwn).
_WEB_URL = re.compile(r"https?://[^\s/?#]+[^\s]*\Z", re.IGNORECASE)


def escape(text: str) -> str:
    """Make user or record text inert in Slack markup: no mentions, links or broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str, *, max_url: int = MAX_URL) -> str:
    """`label` as a mrkdwn link to `url`, when that is an http(s) URL of at most `max_url`
    characters; otherwise the escaped label alone. Links come from records (OpenAlex landing
    pages), and a `javascript:` or `slack://` one must never become something to click."""
    if not url or len(url) > max_url or not _WEB_URL.match(url):
        return escape(label)
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return f"<{safe_url}|{escape(label).replace('|', '¦')}>"


def shown_name(name: str) -> str:
    """A person's or record's name, escaped and cut to NAME characters, for mrkdwn."""
    return escape(truncate(name, NAME))


def clip(text: str, limit: int) -> str:
    """Hard-cut text to a Slack field limit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def accessibility_label(text: str, limit: int = MAX_ACCESSIBILITY_LABEL) -> str:
    """`text` escaped and cut at a word boundary so that the escaped result fits `limit`:
    cutting after escaping could split an entity such as `&amp;`."""
    text = " ".join(text.split())
    cut = limit
    while len(label := escape(truncate(text, cut))) > limit:
        cut -= len(label) - limit
    return label


def button(
    text: str,
    *,
    action_id: str,
    label: str,
    value: str | None = None,
    style: str | None = None,
    url: str | None = None,
    confirm: ConfirmObject | None = None,
) -> ButtonElement:
    """A button whose screen-reader label names what it acts on ("Follow Jane Doe"), so five
    Follow buttons in a list do not all sound the same."""
    return ButtonElement(
        text=text,
        action_id=action_id,
        value=value,
        style=style,
        url=url,
        confirm=confirm,
        accessibility_label=accessibility_label(label),
    )


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(escape(text), 150), emoji=False))


def section(mrkdwn: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, MAX_SECTION_TEXT)), **kwargs)


def context(*parts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(p, 3000)) for p in parts[:10]])


class Rendered(Block):
    """A block already rendered to Slack's JSON and checked once: a renderer that sends the same
    block to many people (a digest group goes to every follower of its researcher) keeps the
    dict, so a digest run validates and serialises each distinct block once, not once a copy.
    The dict is shared: nobody may change it."""

    def __init__(self, rendered: dict[str, Any]) -> None:
        super().__init__(type=rendered["type"], block_id=rendered.get("block_id"))
        self._rendered = rendered

    def to_dict(self, *args: Any) -> dict[str, Any]:
        return self._rendered


@dataclass(frozen=True)
class Reply:
    """A message: the notification/fallback text and its blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for respond()/chat_postMessage; validates every block."""
        return {"text": clip(self.text, 3000), "blocks": [block.to_dict() for block in self.blocks]}


def text_length(blocks: list[dict[str, Any]]) -> int:
    """All the text a message's blocks carry, as Slack counts it for msg_blocks_too_long."""
    total = 0

    def walk(node: Any) -> None:
        nonlocal total
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                total += len(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return total


def within_limits(blocks: list[dict[str, Any]]) -> bool:
    """True when a message fits Slack: ≤ 50 blocks, sections ≤ 3000, total text under the cap."""
    sections_ok = all(
        len(b.get("text", {}).get("text", "")) <= MAX_SECTION_TEXT
        and all(len(f.get("text", "")) <= 2000 for f in b.get("fields", []))
        for b in blocks
        if b.get("type") == "section"
    )
    return len(blocks) <= MAX_BLOCKS and sections_ok and text_length(blocks) <= MAX_MESSAGE_TEXT
