"""Block Kit and Slack mrkdwn rendered for a terminal with `rich`, for the local shell.

Pure functions: blocks in, rich renderables + plain text + numbered controls out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from rich.console import RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from bot.local.modals import ModalInput

NameOf = Callable[[str], str]

# Order matters: code spans first (no formatting inside), then links, then emphasis.
_TOKEN = re.compile(
    r"```(?P<pre>.+?)```"
    r"|`(?P<code>[^`\n]+)`"
    r"|<(?P<link>[^<>\n]+)>"
    r"|(?<![\w*])\*(?=\S)(?P<bold>[^*\n]+?)(?<=\S)\*(?![\w*])"
    r"|(?<![\w_])_(?=\S)(?P<italic>[^_\n]+?)(?<=\S)_(?![\w_])"
    r"|(?<![\w~])~(?=\S)(?P<strike>[^~\n]+?)(?<=\S)~(?![\w~])",
    re.DOTALL,
)
_EMPHASIS = {"bold": "bold", "italic": "italic", "strike": "strike"}
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_OPTION_ELEMENTS = frozenset({"static_select", "overflow", "radio_buttons", "multi_static_select"})


@dataclass(frozen=True)
class Control:
    """Something a person can press: a button, or one option of a select or overflow menu."""

    number: int
    label: str
    block_id: str
    element: dict[str, Any]
    option: dict[str, Any] | None = None

    @property
    def action_id(self) -> str | None:
        """The element's action_id, if it has one."""
        return self.element.get("action_id")

    @property
    def value(self) -> str | None:
        """The button value, or the chosen option's value."""
        source = self.option if self.option is not None else self.element
        return source.get("value")

    @property
    def url(self) -> str | None:
        """The URL a link button opens."""
        return self.element.get("url")


@dataclass
class Rendering:
    """Blocks rendered: what to print, the same as plain text, and the numbered controls."""

    renderables: list[RenderableType] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)

    def add(self, renderable: RenderableType, plain: str) -> None:
        """Append one printed piece and its plain-text form."""
        self.renderables.append(renderable)
        self.lines.append("\n".join(line.rstrip() for line in plain.splitlines()))

    @property
    def plain(self) -> str:
        """The plain-text rendering, one line per piece."""
        return "\n".join(self.lines)


def unescape(text: str) -> str:
    """Undo Slack's three HTML escapes (and only those)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mrkdwn(text: str, name_of: NameOf = lambda uid: uid, style: str = "") -> Text:
    """Slack mrkdwn → styled rich Text: *bold*, _italic_, ~strike~, `code`, <links|label>."""
    out = Text(style=style)
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(unescape(text[position : match.start()]))
        position = match.end()
        kind = match.lastgroup or ""
        inner = match.group(kind)
        if kind in ("pre", "code"):
            out.append(unescape(inner), style="cyan")
        elif kind == "link":
            out.append_text(_link(inner, name_of))
        else:
            out.append_text(mrkdwn(inner, name_of, _EMPHASIS[kind]))
    out.append(unescape(text[position:]))
    return out


def _link(inner: str, name_of: NameOf) -> Text:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return Text("@" + (label or name_of(target[1:])), style="bold blue")
    if target.startswith("#"):
        return Text("#" + (label or target[1:]), style="bold blue")
    if target.startswith("!"):
        keyword = target[1:].split("^")[0]
        return Text(label or _SPECIAL.get(keyword, keyword), style="bold")
    if not label:
        return Text(unescape(target), style="underline")
    return Text.assemble((unescape(label), "underline"), f" ({unescape(target)})")


def plain_or_mrkdwn(obj: dict[str, Any] | None, name_of: NameOf, style: str = "") -> Text:
    """Render a text object: mrkdwn is formatted, plain_text is shown as is."""
    if not obj:
        return Text()
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), name_of, style)
    return Text(str(obj.get("text", "")), style=style)


def render_blocks(
    blocks: list[dict[str, Any]],
    fallback: str,
    *,
    first_number: int = 1,
    name_of: NameOf = lambda uid: uid,
) -> Rendering:
    """Render a message's (or view's) blocks; without blocks, its fallback text."""
    out = Rendering()
    numbers = iter(range(first_number, first_number + 10_000))
    if not blocks:
        text = mrkdwn(fallback, name_of)
        out.add(text, text.plain)
    for block in blocks:
        _render_block(block, out, numbers, name_of)
    return out


def _render_block(block: dict[str, Any], out: Rendering, numbers: Iterator[int], name_of: NameOf) -> None:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if kind == "header":
        text = plain_or_mrkdwn(block.get("text"), name_of, "bold")
        out.add(text, text.plain)
    elif kind == "section":
        _render_section(block, out, numbers, name_of)
    elif kind == "context":
        pieces = [_element_text(e, name_of) for e in block.get("elements", [])]
        text = Text("  ", style="dim").join(pieces)
        text.stylize("dim")
        out.add(text, text.plain)
    elif kind == "divider":
        out.add(Rule(style="dim"), "---")
    elif kind == "image":
        title = plain_or_mrkdwn(block.get("title"), name_of).plain
        text = Text(f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else ""))
        out.add(text, text.plain)
    elif kind == "actions":
        line = Text()
        for element in block.get("elements", []):
            line.append_text(_render_element(element, block_id, out, numbers, name_of))
        out.add(line, line.plain)
    elif kind == "input":
        label = plain_or_mrkdwn(block.get("label"), name_of, "bold").plain
        element = block.get("element", {})
        hint = plain_or_mrkdwn(block.get("hint"), name_of).plain
        text = Text.assemble((label, "bold"), f": ({element.get('type', 'input')})")
        if element.get("type") in _OPTION_ELEMENTS:
            options = " / ".join(_option_label(o) for o in element.get("options", []))
            text.append(f" {options}")
        filled = ModalInput(block_id, str(element.get("action_id")), label, element, False).initial_shown
        if filled:
            text.append(f" = {filled}", style="green")
        if hint:
            text.append(f"  {hint}", style="dim")
        out.add(text, text.plain)
    elif kind in ("markdown", "rich_text"):
        raw = str(block.get("text", "")) if kind == "markdown" else _rich_text(block, name_of)
        out.add(Text(raw), raw)
    else:
        text = Text(f"[{kind} block]", style="dim")
        out.add(text, text.plain)


def _render_section(block: dict[str, Any], out: Rendering, numbers: Iterator[int], name_of: NameOf) -> None:
    block_id = str(block.get("block_id", ""))
    if block.get("text"):
        text = plain_or_mrkdwn(block["text"], name_of)
        out.add(text, text.plain)
    fields = [plain_or_mrkdwn(f, name_of) for f in block.get("fields", [])]
    if fields:
        grid = Table.grid(padding=(0, 3))
        grid.add_column()
        grid.add_column()
        width = max(len(line) for f in fields[::2] for line in f.plain.splitlines() or [""])
        for left, right in zip(fields[::2], [*fields[1::2], Text()], strict=False):
            grid.add_row(left, right)
            pairs = zip_longest(left.plain.splitlines(), right.plain.splitlines(), fillvalue="")
            out.lines.extend(f"{a:<{width}}   {b}".rstrip() for a, b in pairs)
        out.renderables.append(grid)
    accessory = block.get("accessory")
    if accessory:
        line = _render_element(accessory, block_id, out, numbers, name_of)
        out.add(line, line.plain)


def _render_element(
    element: dict[str, Any],
    block_id: str,
    out: Rendering,
    numbers: Iterator[int],
    name_of: NameOf,
) -> Text:
    kind = element.get("type")
    if kind == "button":
        label = plain_or_mrkdwn(element.get("text"), name_of).plain
        control = Control(next(numbers), label, block_id, element)
        out.controls.append(control)
        style = {"primary": "bold green", "danger": "bold red"}.get(element.get("style", ""), "bold")
        text = Text.assemble((f"[{control.number}] ", "cyan"), (label, style))
        if control.url:
            text.append(f" ↗ ({control.url})", style="dim")
        return text + Text("  ")
    if kind in _OPTION_ELEMENTS:
        caption = plain_or_mrkdwn(element.get("placeholder"), name_of).plain or "⋯"
        text = Text(f"{caption}: ", style="dim")
        for option in element.get("options", []):
            label = _option_label(option)
            control = Control(next(numbers), label, block_id, element, option)
            out.controls.append(control)
            text.append_text(Text.assemble((f"[{control.number}] ", "cyan"), label, "  "))
        return text
    if kind == "image":
        return Text(f"[image: {element.get('alt_text', '')}]  ")
    return Text(f"[{kind}]  ", style="dim")


def _option_label(option: dict[str, Any]) -> str:
    return str((option.get("text") or {}).get("text", option.get("value", "")))


def _element_text(element: dict[str, Any], name_of: NameOf) -> Text:
    if element.get("type") == "image":
        return Text(f"[image: {element.get('alt_text', '')}]")
    return plain_or_mrkdwn(element, name_of)


def _rich_text(block: dict[str, Any], name_of: NameOf) -> str:
    lines: list[str] = []
    for element in block.get("elements", []):
        kind = element.get("type")
        if kind == "rich_text_list":
            lines.extend("• " + _inline(item, name_of) for item in element.get("elements", []))
        elif kind == "rich_text_quote":
            lines.append("> " + _inline(element, name_of))
        else:
            lines.append(_inline(element, name_of))
    return "\n".join(lines)


def _inline(section: dict[str, Any], name_of: NameOf) -> str:
    parts = []
    for piece in section.get("elements", []):
        kind = piece.get("type")
        if kind == "user":
            parts.append("@" + name_of(str(piece.get("user_id", ""))))
        elif kind == "link":
            url = str(piece.get("url", ""))
            parts.append(f"{piece['text']} ({url})" if piece.get("text") else url)
        elif kind == "emoji":
            parts.append(f":{piece.get('name', '')}:")
        elif kind == "channel":
            parts.append("#" + str(piece.get("channel_id", "")))
        else:
            parts.append(str(piece.get("text", "")))
    return "".join(parts)
