"""The digest DM: new works grouped by followed researcher, inside Slack's message limits."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block

from handlers.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    Rendered,
    Reply,
    button,
    context,
    escape,
    header,
    link,
    plural,
    section,
    shown_name,
)
from handlers.ids import Action
from handlers.values import ResearcherValue, TopicValue
from services.digests.compose import GROUP_TOPIC, DigestGroup, DigestItem, DigestView
from services.store.text import truncate

# Display caps: the largest digest stays far inside Slack's per-section and per-message limits.
TITLE = 200
FIELD = 120
MAX_URL = 500
# A researcher's section stops short of Slack's 3,000 characters; their other works come in the
# next message.
_SECTION_TEXT = MAX_SECTION_TEXT - 200
# Kept free for the closing blocks (what comes later, how to change the schedule).
_RESERVED_BLOCKS = 2
_RESERVED_TEXT = 600
# The longest header a digest has (its budget); a digest of researchers alone says just that.
TITLE_TEXT = "New from researchers and topics you follow"


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


MUTE_TOPIC = "Mute this topic"


def topic_works_url(group: DigestGroup) -> str | None:
    """OpenAlex's list of the topic's works since the oldest one in this digest."""
    if not group.topic_openalex_id:
        return None
    since = f",from_publication_date:{group.since.isoformat()}" if group.since else ""
    return f"https://openalex.org/works?filter=topics.id:{group.topic_openalex_id}{since}"


def _more_line(group: DigestGroup, more: int) -> str:
    return f"…and {plural(more, 'more new work')}: " + link(topic_works_url(group), "see them on OpenAlex")


# Distinct groups of one digest run, rendered once: followers of a researcher or a topic mostly
# get the same new works, so a run of 50,000 digests holds a few thousand distinct groups.
GROUP_CACHE = 8192


def section_text(
    group: DigestGroup,
    *,
    line: Callable[[DigestItem], str] = item_line,
    limit: int = _SECTION_TEXT,
    continued: bool = False,
) -> tuple[str, int]:
    """A group's section text in at most `limit` characters, and how many of its works it shows
    (0 when not even one fits): a researcher's newest first (the rest come later); a topic's best
    cited first, then "and M more" with OpenAlex's link. `line` renders one work (a channel's
    post adds the mentions of claimed co-authors)."""
    name = shown_name(group.name) + (" (continued)" if continued else "")
    topic = group.kind == GROUP_TOPIC
    lines: list[str] = []
    used = len(name) + 30 + (len(_more_line(group, group.total)) if topic else 0)
    for item in group.items:
        text = line(item)
        if used + len(text) + 1 > limit:
            break
        lines.append(text)
        used += len(text) + 1
    if not topic:
        return "\n".join([f"*{name}* · {plural(len(lines), 'new work')}", *lines]), len(lines)
    head = f":label: *{name}* (topic) · {plural(group.total, 'new work')}"
    more = group.total - len(lines)
    return "\n".join([head, *lines, *([_more_line(group, more)] if more else [])]), len(lines)


def sources(groups: tuple[DigestGroup, ...]) -> str:
    """Where a message's works come from: "2 researchers and 1 topic", "3 topics"."""
    topics = sum(1 for group in groups if group.kind == GROUP_TOPIC)
    researchers = plural(len(groups) - topics, "researcher")
    if not topics:
        return researchers
    return f"{researchers} and {plural(topics, 'topic')}" if len(groups) > topics else plural(topics, "topic")


@dataclass(frozen=True)
class _Placed:
    """A group as a digest DM shows it: its blocks, what its text costs of the message's
    budget, and the part of the group the blocks show."""

    blocks: tuple[Block, ...]
    cost: int
    shown: DigestGroup


@lru_cache(maxsize=GROUP_CACHE)
def _placed(group: DigestGroup) -> _Placed:
    text, count = section_text(group)
    if count == len(group.items):
        shown = group
    elif group.kind == GROUP_TOPIC:
        # A topic's group goes out whole: the works its section has no room for are summarised.
        rest = tuple(item.work_id for item in group.items[count:])
        shown = replace(group, items=group.items[:count], summarised=rest + group.summarised)
    else:
        shown = replace(group, items=group.items[:count])
    blocks = tuple(Rendered(block) for block in _group_dicts(group, text))
    return _Placed(blocks, len(text) + len(UNFOLLOW) + len(MUTE), shown)


def _group_dicts(group: DigestGroup, text: str) -> tuple[dict[str, Any], ...]:
    """The group's section and its Unfollow / Mute buttons (for the researcher or the topic)."""
    if group.kind == GROUP_TOPIC and group.topic_id is not None:
        topic = TopicValue(topic_id=group.topic_id).dump()
        label = f"topic {group.name}"
        buttons = ActionsBlock(
            elements=[
                button(UNFOLLOW, action_id=Action.TOPIC_UNFOLLOW, value=topic, label=f"Unfollow {label}"),
                button(MUTE_TOPIC, action_id=Action.TOPIC_MUTE, value=topic, label=f"Mute {label}"),
            ]
        )
        return section(text).to_dict(), buttons.to_dict()
    value = ResearcherValue(researcher_id=group.researcher_id).dump()
    buttons = ActionsBlock(
        elements=[
            button(UNFOLLOW, action_id=Action.UNFOLLOW, value=value, label=f"Unfollow {group.name}"),
            button(MUTE, action_id=Action.MUTE_RESEARCHER, value=value, label=f"Mute {group.name}"),
        ]
    )
    return section(text).to_dict(), buttons.to_dict()


def _layout(view: DigestView) -> tuple[DigestView, list[Block]]:
    """The leading groups (and works) of the digest that one message holds, and their blocks.

    Counted from the strings themselves, as text_length() would count the blocks: rendering
    every candidate with to_dict() just to measure it would double the cost of a digest run.
    """
    blocks: list[Block] = []
    shown: list[DigestGroup] = []
    used = len(TITLE_TEXT) + 120  # the header and the intro line
    for group in view.groups:
        placed = _placed(group)
        # The header and intro, the groups so far, then this group's section and buttons.
        too_many_blocks = 2 + len(blocks) + 2 > MAX_BLOCKS - _RESERVED_BLOCKS
        if too_many_blocks or used + placed.cost > MAX_MESSAGE_TEXT - _RESERVED_TEXT:
            break
        blocks.extend(placed.blocks)
        used += placed.cost
        shown.append(placed.shown)
    if len(shown) == len(view.groups) and all(map(operator.is_, shown, view.groups)):
        return view, blocks  # the whole digest fits: most do
    cut_short = sum(1 for whole, part in zip(view.groups, shown, strict=False) if part.total != whole.total)
    message = replace(
        view,
        groups=tuple(shown),
        held_items=view.held_items + view.item_count - sum(group.total for group in shown),
        held_researchers=view.held_researchers + len(view.groups) - len(shown) + cut_short,
    )
    return message, blocks


def fit_digest(view: DigestView) -> DigestView:
    """The part of the digest one message shows in full; what it leaves out is counted as held."""
    return _layout(view)[0]


def _held_line(view: DigestView) -> str:
    when = "with your next digest" if view.held_for_next_digest else "in the next message"
    return (
        f"…and {plural(view.held_items, 'more new work')} by "
        f"{plural(view.held_researchers, 'researcher')} you follow: they come {when}."
    )


def followed_kinds(view: DigestView) -> str:
    """What the digest's works come from: "researchers", "topics", or "researchers and topics"."""
    topics = any(group.kind == GROUP_TOPIC for group in view.groups)
    researchers = any(group.kind != GROUP_TOPIC for group in view.groups)
    return "researchers and topics" if topics and researchers else "topics" if topics else "researchers"


@lru_cache(maxsize=GROUP_CACHE)
def _once(kind: str, text: str) -> Block:
    """The header, intro and footer lines repeat across a run's digests: each rendered once."""
    block = header(text) if kind == "header" else section(text) if kind == "section" else context(text)
    return Rendered(block.to_dict())


def digest_message(view: DigestView, *, command: str = "/peer") -> Reply:
    """One digest DM: newest first, ≤ 50 blocks and well under Slack's text cap; a digest too
    big for one message shows its first part and says the rest follows."""
    message, group_part = _layout(view)
    items = message.item_count
    followed = followed_kinds(message)
    order = "newest first" + ("; a topic's best cited first" if "topics" in followed else "")
    intro = f"*{plural(items, 'new work')}* from {sources(message.groups)} you follow, {order}."
    title = f"New from {followed} you follow"
    blocks: list[Block] = [_once("header", title), _once("section", intro), *group_part]
    if message.held_items:
        blocks.append(_once("context", _held_line(message)))
    blocks.append(
        _once(
            "context",
            f"You get this digest {escape(view.schedule)}. Change it with "
            f"`{escape(command)} digest daily|weekly|instant|off [on DAY] [at HH:MM]` "
            "or on the app's Home tab.",
        )
    )
    first = message.groups[0].items[0].title if message.groups and message.groups[0].items else ""
    text = f"{plural(items, 'new work')} from {followed} you follow"
    if first:
        text += f": {truncate(first, TITLE)}" + (" and more" if items > 1 else "")
    return Reply(escape(text), blocks)
