"""A channel's digest post: new works of the researchers the channel follows, newest first, and
of its topics (the best cited few, "and M more"), in ONE message a digest run (what does not fit
waits for the next post), mentioning the members of the workspace who claimed an author. No
per-person buttons: a channel manages its feed with `/peer channel`."""

from __future__ import annotations

from collections.abc import Callable
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
)
from handlers.digests.digest_blocks import TITLE, followed_kinds, item_line, section_text, sources
from services.digests.compose import GROUP_TOPIC, DigestGroup, DigestItem, DigestView
from services.store.text import truncate

# The longest title a post has (its budget); a post of researchers alone says just that.
CHANNEL_TITLE = "New papers from researchers and topics this channel follows"
# Mentions shown under one work: a big collaboration of members is named in part.
MAX_MENTIONS = 10
_SECTION_TEXT = MAX_SECTION_TEXT - 200
# The header and intro before the groups, "and N more" and the closing line after them.
_OPENING_BLOCKS = 2
_CLOSING_BLOCKS = 2
_RESERVED_TEXT = 800
# A work goes to many channels in one run, and each post is laid out twice (fit, then render):
# its line is built once (DigestItem is frozen, so it keys the cache).
_item_line = lru_cache(maxsize=20_000)(item_line)

_Key = tuple[str, int]  # a group: (kind, researcher or topic id)


def _key(group: DigestGroup) -> _Key:
    return (
        (group.kind, group.topic_id or 0) if group.kind == GROUP_TOPIC else (group.kind, group.researcher_id)
    )


def _mention_line(user_ids: tuple[str, ...]) -> str:
    shown = " ".join(f"<@{user_id}>" for user_id in user_ids[:MAX_MENTIONS])
    more = f" and {len(user_ids) - MAX_MENTIONS} more" if len(user_ids) > MAX_MENTIONS else ""
    return f"\n   :wave: {shown}{more}"


def _line_with_mentions(view: DigestView) -> Callable[[DigestItem], str]:
    def line(item: DigestItem) -> str:
        text = _item_line(item)
        return text + _mention_line(view.mentions[item.work_id]) if item.work_id in view.mentions else text

    return line


def _cut_short(group: DigestGroup, shown: dict[_Key, list[DigestItem]]) -> bool:
    """Whether the post leaves some of the group for later (a topic's group goes whole or not)."""
    key = _key(group)
    return key not in shown or (group.kind != GROUP_TOPIC and len(shown[key]) < len(group.items))


def _layout(view: DigestView) -> tuple[DigestView, list[Block]]:
    """The leading works one post holds, and their blocks: a section per researcher (more
    sections for one with more works than a section holds) and one per topic (its best cited,
    the rest summarised as in a digest DM), until the post is full (counted from the strings,
    as digest_blocks does)."""
    blocks: list[Block] = []
    shown: dict[_Key, list[DigestItem]] = {}
    summarised: dict[_Key, tuple[int, ...]] = {}
    line = _line_with_mentions(view)
    budget = MAX_MESSAGE_TEXT - _RESERVED_TEXT - len(CHANNEL_TITLE) - 120
    full = False
    for group in view.groups:
        key, left = _key(group), group.items
        while left and not full:
            if _OPENING_BLOCKS + len(blocks) + 1 + _CLOSING_BLOCKS > MAX_BLOCKS:
                full = True
                break
            part = replace(group, items=left)
            text, count = section_text(
                part, line=line, limit=min(_SECTION_TEXT, budget), continued=key in shown
            )
            if count == 0:
                full = True
                break
            blocks.append(section(text))
            budget -= len(text)
            shown.setdefault(key, []).extend(left[:count])
            left = left[count:]
            if group.kind == GROUP_TOPIC:
                # A topic's group goes out whole: what its section has no room for is summarised.
                summarised[key] = tuple(item.work_id for item in left) + group.summarised
                left = ()
        if full:
            break
    groups = tuple(
        replace(g, items=tuple(shown[_key(g)]), summarised=summarised.get(_key(g), ()))
        for g in view.groups
        if _key(g) in shown
    )
    post = replace(
        view,
        groups=groups,
        # A post laid out again from what fit() kept still counts what fit() left out.
        held_items=view.held_items + view.item_count - sum(group.total for group in groups),
        held_researchers=view.held_researchers + sum(1 for g in view.groups if _cut_short(g, shown)),
        held_for_next_digest=False,
    )
    return post, blocks


def fit_channel_post(view: DigestView) -> DigestView:
    """The part of a channel's digest one post shows in full; the rest is counted as held."""
    return _layout(view)[0]


def channel_post(view: DigestView, *, command: str = "/peer") -> Reply:
    """One channel post: ≤ 50 blocks, sections under 3,000 characters, text well under the cap."""
    post, group_blocks = _layout(view)
    items = post.item_count
    followed = followed_kinds(post)
    order = "newest first" + ("; a topic's best cited first" if "topics" in followed else "")
    intro = f"*{plural(items, 'new work')}* from {sources(post.groups)} this channel follows, {order}."
    blocks: list[Block] = [
        header(f"New papers from {followed} this channel follows"),
        section(intro),
        *group_blocks,
    ]
    if post.held_items:
        blocks.append(context(f"…and {plural(post.held_items, 'more new work')} in the next post."))
    blocks.append(
        context(
            f"This channel gets its digest {escape(view.schedule)}. Anyone here can change what it "
            f"follows or when: `{escape(command)} channel`."
        )
    )
    first = post.groups[0].items[0].title if post.groups and post.groups[0].items else ""
    text = f"{plural(items, 'new work')} from {followed} this channel follows"
    if first:
        text += f": {truncate(first, TITLE)}" + (" and more" if items > 1 else "")
    return Reply(escape(text), blocks)
