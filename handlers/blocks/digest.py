"""The digest DM: new works grouped by followed researcher, inside Slack's message limits."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from handlers.blocks.common import (
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    Reply,
    context,
    escape,
    header,
    link,
    section,
)
from handlers.ids import Action
from handlers.values import ResearcherValue
from services.digests import DigestGroup, DigestItem, DigestView
from services.text import truncate

# Display caps: the largest digest stays far inside Slack's per-section and per-message limits.
MAX_ITEMS_PER_GROUP = 5
NAME = 150
TITLE = 200
FIELD = 120
MAX_URL = 500
# Kept free for the closing blocks ("and N more researchers", how to change the schedule).
_RESERVED_BLOCKS = 2
_RESERVED_TEXT = 600


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _title(title: str, url: str | None) -> str:
    text = truncate(title, TITLE)
    return link(url, text, max_url=MAX_URL)


def _published_in(item: DigestItem) -> str:
    venue = escape(truncate(item.published_venue or "a journal", FIELD))
    year = f" ({item.published_year})" if item.published_year else ""
    return f"now published in _{venue}_{year}"


def item_line(item: DigestItem) -> str:
    """One work: the linked title, then venue and date, or the "now published in …" news."""
    if item.kind == "published":
        return f"• :tada: *{_title(item.title, item.published_url or item.url)}* is {_published_in(item)}"
    when = item.publication_date.isoformat() if item.publication_date else item.year
    meta = [escape(truncate(item.venue, FIELD)) if item.venue else None, str(when) if when else None]
    line = f"• *{_title(item.title, item.url)}*"
    details = " · ".join(part for part in meta if part)
    if item.published_venue:
        details = f"{details} · {_published_in(item)}" if details else _published_in(item)
    return f"{line}\n   {details}" if details else line


UNFOLLOW = "Unfollow"
MUTE = "Mute this researcher"


def group_text(group: DigestGroup, *, command: str) -> str:
    """A researcher's section text: their name and up to MAX_ITEMS_PER_GROUP works, newest first."""
    name = escape(truncate(group.name, NAME))
    lines = [f"*{name}* · {_plural(len(group.items), 'new work')}"]
    shown = 0
    for item in group.items[:MAX_ITEMS_PER_GROUP]:
        line = item_line(item)
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_SECTION_TEXT - 200:
            break
        lines.append(line)
        shown += 1
    more = len(group.items) - shown
    if more:
        lines.append(f"_and {more} more: `{escape(command)} papers {name}`_")
    return "\n".join(lines)


def group_blocks(group: DigestGroup, text: str) -> list[Block]:
    """The researcher's section and its Unfollow / Mute-this-researcher buttons."""
    value = ResearcherValue(researcher_id=group.researcher_id).dump()
    buttons = ActionsBlock(
        elements=[
            ButtonElement(text=UNFOLLOW, action_id=Action.UNFOLLOW, value=value),
            ButtonElement(text=MUTE, action_id=Action.MUTE_RESEARCHER, value=value),
        ]
    )
    return [section(text), buttons]


def digest_message(view: DigestView, *, command: str = "/peer") -> Reply:
    """The digest DM: newest first, ≤ 50 blocks and well under Slack's text cap; "and N more"."""
    items = view.item_count
    intro = (
        f"*{_plural(items, 'new work')}* from {_plural(len(view.groups), 'researcher')} you follow, "
        "newest first."
    )
    title = "New from researchers you follow"
    blocks: list[Block] = [header(title), section(intro)]
    # Counted from the strings themselves, as text_length() would count the blocks: rendering
    # every candidate with to_dict() just to measure it would double the cost of a digest run.
    used = len(title) + len(intro)
    shown = 0
    for group in view.groups:
        text = group_text(group, command=command)
        cost = len(text) + len(UNFOLLOW) + len(MUTE)
        if len(blocks) + 2 > MAX_BLOCKS - _RESERVED_BLOCKS or used + cost > MAX_MESSAGE_TEXT - _RESERVED_TEXT:
            break
        blocks.extend(group_blocks(group, text))
        used += cost
        shown += 1
    hidden = view.groups[shown:]
    if hidden:
        hidden_items = sum(len(g.items) for g in hidden)
        blocks.append(
            context(
                f"…and {_plural(hidden_items, 'more new work')} by "
                f"{_plural(len(hidden), 'more researcher')} you follow: `{escape(command)} following` "
                "lists them all."
            )
        )
    blocks.append(
        context(
            f"You get this digest {escape(view.schedule)}. Change it with "
            f"`{escape(command)} digest daily|weekly|instant|off [at HH:MM]` or on the app's Home tab."
        )
    )
    first = view.groups[0].items[0].title if view.groups and view.groups[0].items else ""
    text = f"{_plural(items, 'new work')} from researchers you follow"
    if first:
        text += f": {truncate(first, TITLE)}" + (" and more" if items > 1 else "")
    return Reply(escape(text), blocks)
