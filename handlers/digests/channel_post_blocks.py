"""A channel's digest post: new works of the researchers the channel follows, newest first, in
ONE message a digest run (what does not fit waits for the next post), mentioning the members of
the workspace who claimed an author. No per-person buttons: a channel manages its feed with
`/peer channel`."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from slack_sdk.models.blocks import Block

from handlers.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_TEXT,
    MAX_SECTION_TEXT,
    Reply,
    context,
    escape,
    header,
    plural,
    section,
    shown_name,
)
from handlers.digests.digest_blocks import TITLE, item_line
from services.digests.compose import DigestGroup, DigestItem, DigestView
from services.store.text import truncate

CHANNEL_TITLE = "New papers from researchers this channel follows"
# Mentions shown under one work: a big collaboration of members is named in part.
MAX_MENTIONS = 10
_SECTION_TEXT = MAX_SECTION_TEXT - 200
# The header and intro before the researchers, "and N more" and the closing line after them.
_OPENING_BLOCKS = 2
_CLOSING_BLOCKS = 2
_RESERVED_TEXT = 800
# A work goes to many channels in one run, and each post is laid out twice (fit, then render):
# its line is built once (DigestItem is frozen, so it keys the cache).
_item_line = lru_cache(maxsize=20_000)(item_line)


def _mention_line(user_ids: tuple[str, ...]) -> str:
    shown = " ".join(f"<@{user_id}>" for user_id in user_ids[:MAX_MENTIONS])
    more = f" and {len(user_ids) - MAX_MENTIONS} more" if len(user_ids) > MAX_MENTIONS else ""
    return f"\n   :wave: {shown}{more}"


def _group_text(view: DigestView, group: DigestGroup, limit: int, *, continued: bool) -> tuple[str, int]:
    """A section of a researcher's works (newest first) in at most `limit` characters, and how
    many works it holds (0 when not even one fits)."""
    name = shown_name(group.name) + (" (continued)" if continued else "")
    lines: list[str] = []
    used = len(name) + 30
    for item in group.items:
        line = _item_line(item)
        if item.work_id in view.mentions:
            line += _mention_line(view.mentions[item.work_id])
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join([f"*{name}* · {plural(len(lines), 'new work')}", *lines]), len(lines)


def _layout(view: DigestView) -> tuple[DigestView, list[Block]]:
    """The leading works one post holds, and their blocks: a section per researcher, and more
    sections for a researcher with more works than one holds, until the post is full (counted
    from the strings, as digest_blocks does)."""
    blocks: list[Block] = []
    shown: dict[int, list[DigestItem]] = {}
    budget = MAX_MESSAGE_TEXT - _RESERVED_TEXT - len(CHANNEL_TITLE) - 120
    full = False
    for group in view.groups:
        left = group.items
        while left and not full:
            if _OPENING_BLOCKS + len(blocks) + 1 + _CLOSING_BLOCKS > MAX_BLOCKS:
                full = True
                break
            text, count = _group_text(
                view,
                replace(group, items=left),
                min(_SECTION_TEXT, budget),
                continued=group.researcher_id in shown,
            )
            if count == 0:
                full = True
                break
            blocks.append(section(text))
            budget -= len(text)
            shown.setdefault(group.researcher_id, []).extend(left[:count])
            left = left[count:]
        if full:
            break
    groups = tuple(
        replace(g, items=tuple(shown[g.researcher_id])) for g in view.groups if g.researcher_id in shown
    )
    post = replace(
        view,
        groups=groups,
        # A post laid out again from what fit() kept still counts what fit() left out.
        held_items=view.held_items + view.item_count - sum(len(group.items) for group in groups),
        held_researchers=view.held_researchers
        + sum(1 for g in view.groups if len(shown.get(g.researcher_id, ())) < len(g.items)),
    )
    return post, blocks


def fit_channel_post(view: DigestView) -> DigestView:
    """The part of a channel's digest one post shows in full; the rest is counted as held."""
    return _layout(view)[0]


def channel_post(view: DigestView, *, command: str = "/peer") -> Reply:
    """One channel post: ≤ 50 blocks, sections under 3,000 characters, text well under the cap."""
    post, group_blocks = _layout(view)
    items = post.item_count
    intro = (
        f"*{plural(items, 'new work')}* from {plural(len(post.groups), 'researcher')} this channel "
        "follows, newest first."
    )
    blocks: list[Block] = [header(CHANNEL_TITLE), section(intro), *group_blocks]
    if post.held_items:
        blocks.append(context(f"…and {plural(post.held_items, 'more new work')} in the next post."))
    blocks.append(
        context(
            f"This channel gets its digest {escape(view.schedule)}. Anyone here can change what it "
            f"follows or when: `{escape(command)} channel`."
        )
    )
    first = post.groups[0].items[0].title if post.groups and post.groups[0].items else ""
    text = f"{plural(items, 'new work')} from researchers this channel follows"
    if first:
        text += f": {truncate(first, TITLE)}" + (" and more" if items > 1 else "")
    return Reply(escape(text), blocks)
