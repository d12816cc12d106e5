"""What `/peer channel …` answers, privately to whoever typed it: the channel's subscriptions
with Unfollow buttons and its schedule, what a change did, and why a change cannot be made here."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement, SectionBlock

from handlers.blocks import (
    MAX_MESSAGE_TEXT,
    NAME,
    Reply,
    button,
    context,
    escape,
    link,
    plural,
    section,
    shown_name,
)
from handlers.ids import Action
from handlers.research.topic_blocks import topic_choices, topic_url
from handlers.values import ChannelResearcherValue, ChannelTopicValue
from services.digests.channel_feed import ChannelFeed, Subscription
from services.digests.channels import ChannelOutcome, ChannelTopicOutcome, MembersOutcome
from services.digests.schedule import describe
from services.digests.topic_follows import FollowedTopic
from services.openalex.topic_lookup import TopicLookup
from services.openalex.topics import TopicCandidate
from services.store.text import truncate

# Researchers and topics listed with their own Unfollow button; the rest are counted (≤ 50 blocks).
MAX_LISTED = 40
# Kept free for the notice, the opening line and the closing lines.
_RESERVED_TEXT = 1500
UNFOLLOW = "Unfollow"
# Names listed in one line of `/peer channel follow members`'s answer.
MAX_NAMES = 30
GRAMMAR = (
    "follow|unfollow QUERY · follow|unfollow topic TOPIC · follow members · "
    "digest daily|weekly|instant|off [on DAY] [at HH:MM]"
)


def channel_label(name: str) -> str:
    """How a channel is named in answers and button labels: `#lab-papers`, or "this channel"."""
    return f"#{name}" if name else "this channel"


def _schedule_line(feed: ChannelFeed, command: str, *, yours: bool = False) -> str:
    """When the channel's digest is posted, and whose time zone that is: Slack has no workspace
    zone, so it is the zone of whoever set the feed up or last changed its schedule."""
    schedule = describe(feed.prefs)
    if feed.prefs.frequency in ("daily", "weekly"):
        if not feed.set_up:
            schedule += ", in the time zone of whoever first changes what it follows or when"
        elif yours:
            schedule += f" ({feed.prefs.zone.key}: your time zone, as you set it)"
        else:
            schedule += (
                f" ({feed.prefs.zone.key}: the time zone of whoever set up this feed or last changed "
                "its schedule)"
            )
    said = (
        "The digest here is off"
        if feed.prefs.frequency == "off"
        else f"Digest posted here {escape(schedule)}"
    )
    return (
        f"{said}. "
        f"Change it with `{escape(command)} channel digest daily|weekly|instant|off [on DAY] [at HH:MM]`."
    )


def _shown_rows(researchers: int, topics: int) -> tuple[int, int]:
    """How many researchers and topics get a row of their own: MAX_LISTED in all, each kind
    keeping at least half when both have more."""
    shown_topics = min(topics, max(MAX_LISTED - researchers, MAX_LISTED // 2))
    return min(researchers, MAX_LISTED - shown_topics), shown_topics


def _follows_line(feed: ChannelFeed) -> str:
    parts = [plural(len(feed.subscriptions), "researcher")] if feed.subscriptions else []
    parts += [plural(len(feed.topics), "topic")] if feed.topics else []
    return " and ".join(parts)


def channel_feed(feed: ChannelFeed, where: str, command: str, *, notice: str | None = None) -> Reply:
    """`/peer channel`: the researchers and topics the channel follows (Unfollow buttons) and when
    its digest is posted; past MAX_LISTED rows, or the text budget, the rest are counted."""
    shown_where, cmd = escape(where), escape(command)
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    if feed.follows_nothing:
        text = f"{shown_where} follows nobody yet."
        blocks.append(
            section(
                f"{text} Type `{cmd} channel follow NAME` to post a researcher's new works here, "
                f"`{cmd} channel follow topic TOPIC` for a topic's, or `{cmd} channel follow members` "
                "for everyone in the channel who claimed a profile."
            )
        )
    else:
        text = f"{shown_where} follows {_follows_line(feed)}."
        order = "newest first" + ("; a topic's five best cited each time" if feed.topics else "")
        blocks.append(section(f"*{text}* New works are posted here, {order}."))
        budget = MAX_MESSAGE_TEXT - _RESERVED_TEXT - len(notice or "")
        researchers, topics = _shown_rows(len(feed.subscriptions), len(feed.topics))
        rows, budget = _within(
            [_subscription_row(s, feed.channel_id, where) for s in feed.subscriptions[:researchers]], budget
        )
        blocks += rows
        if len(feed.subscriptions) > len(rows):
            more = plural(len(feed.subscriptions) - len(rows), "more researcher")
            blocks.append(context(f"…and {more}: `{cmd} channel unfollow NAME` stops any of them."))
        rows, budget = _within([_topic_row(t, feed.channel_id, where) for t in feed.topics[:topics]], budget)
        blocks += rows
        if len(feed.topics) > len(rows):
            more = plural(len(feed.topics) - len(rows), "more topic")
            blocks.append(context(f"…and {more}: `{cmd} channel unfollow topic TOPIC` stops any of them."))
    blocks.append(context(_schedule_line(feed, command)))
    blocks.append(context(f"`{cmd} channel {GRAMMAR}` — anyone in the channel may change it."))
    return Reply(text, blocks)


def _within(rows: list[SectionBlock], budget: int) -> tuple[list[SectionBlock], int]:
    """The leading rows whose text (and button) fits `budget`, and the budget left."""
    kept: list[SectionBlock] = []
    for row in rows:
        cost = len(row.text.text if row.text else "") + len(UNFOLLOW)
        if cost > budget:
            break
        kept.append(row)
        budget -= cost
    return kept, budget


def _subscription_row(subscription: Subscription, channel_id: str, where: str) -> SectionBlock:
    value = ChannelResearcherValue(researcher_id=subscription.researcher_id, channel_id=channel_id).dump()
    return section(
        f"*{shown_name(subscription.name)}*",
        accessory=button(
            UNFOLLOW,
            action_id=Action.CHANNEL_UNFOLLOW,
            value=value,
            label=f"Unfollow {subscription.name} in {channel_label(where.lstrip('#'))}",
        ),
    )


def _topic_label(verb: str, name: str, where: str) -> str:
    """`Unfollow in #lab-papers: topic Interpretability and …`: the channel first, so that a long
    topic name cut to Slack's 75 characters never cuts the channel off."""
    return f"{verb} in {channel_label(where.lstrip('#'))}: topic {name}"


def _topic_row(topic: FollowedTopic, channel_id: str, where: str) -> SectionBlock:
    value = ChannelTopicValue(topic_id=topic.topic_id, channel_id=channel_id).dump()
    title = link(topic_url(topic.openalex_id), truncate(topic.name, NAME), max_url=100)
    return section(
        f":label: *{title}* (topic)",
        accessory=button(
            UNFOLLOW,
            action_id=Action.CHANNEL_TOPIC_UNFOLLOW,
            value=value,
            label=_topic_label("Unfollow", topic.name, where),
        ),
    )


def outcome_note(outcome: ChannelOutcome, where: str) -> str:
    """One line saying what a channel follow / unfollow did."""
    name, shown_where = shown_name(outcome.name), escape(where)
    if outcome.status == "followed":
        return (
            f":white_check_mark: {shown_where} now follows *{name}*: their new works will be posted "
            f"here {escape(outcome.feed.schedule)}."
        )
    if outcome.status == "already_following":
        return f"{shown_where} already follows *{name}*."
    if outcome.status == "unfollowed":
        return f":white_check_mark: {shown_where} no longer follows *{name}*."
    if outcome.status == "not_following":
        return f"{shown_where} does not follow *{name}*."
    return "That researcher is no longer in the store."


def channel_outcome(outcome: ChannelOutcome, where: str, command: str) -> Reply:
    """A follow / unfollow's answer: what it did, then the channel's list as it is now."""
    note = outcome_note(outcome, where)
    return Reply(note, channel_feed(outcome.feed, where, command, notice=note).blocks)


def _post_when(feed: ChannelFeed) -> str:
    """When a followed topic's works come: "in the channel's daily post at 09:00 (Europe/Berlin)"."""
    prefs = feed.prefs
    if prefs.frequency in ("daily", "weekly"):
        when = describe(prefs).removeprefix(f"{prefs.frequency} ")
        return f"in the channel's {prefs.frequency} post {when} ({prefs.zone.key})"
    if prefs.frequency == "instant":
        return "in a post here as soon as they are found"
    return "here once the channel's digest is on again (it is off)"


def topic_note(outcome: ChannelTopicOutcome, where: str) -> str:
    """One line saying, for the channel, what a topic follow / unfollow did."""
    name, shown_where = f"*{shown_name(outcome.outcome.name)}*", escape(where)
    notes = {
        "followed": f":white_check_mark: {shown_where} now follows the topic {name}: its new works come "
        f"{escape(_post_when(outcome.feed))}, the five best cited each time.",
        "already_following": f"{shown_where} already follows the topic {name}.",
        "unfollowed": f":white_check_mark: {shown_where} no longer follows the topic {name}.",
        "not_following": f"{shown_where} does not follow the topic {name}.",
    }
    return notes.get(outcome.outcome.status, "That topic is no longer in the store.")


def channel_topic_outcome(outcome: ChannelTopicOutcome, where: str, command: str) -> Reply:
    """A topic follow / unfollow's answer: what it did, then the channel's list as it is now."""
    note = topic_note(outcome, where)
    return Reply(note, channel_feed(outcome.feed, where, command, notice=note).blocks)


def channel_topic_choices(lookup: TopicLookup, channel_id: str, where: str, *, verb: str) -> Reply:
    """Several topics match the words: Follow (or Unfollow) each in this channel."""
    action = Action.CHANNEL_TOPIC_FOLLOW if verb == "Follow" else Action.CHANNEL_TOPIC_UNFOLLOW

    def choose(candidate: TopicCandidate) -> ButtonElement:
        return button(
            verb,
            action_id=action,
            value=ChannelTopicValue(openalex_id=candidate.openalex_id, channel_id=channel_id).dump(),
            style="primary" if verb == "Follow" else None,
            label=_topic_label(verb, candidate.name, where),
        )

    return topic_choices(lookup, choose=choose)


def follows_no_such_topic(lookup: TopicLookup, where: str, command: str) -> Reply:
    """`/peer channel unfollow topic WORDS` naming none of the channel's topics."""
    text = f"{escape(where)} follows no topic matching “{shown_name(lookup.query)}”."
    return Reply(text, [section(text), context(f"`{escape(command)} channel` lists what it follows.")])


def _names(subscriptions: tuple[Subscription, ...]) -> str:
    names = ", ".join(shown_name(s.name) for s in subscriptions[:MAX_NAMES])
    more = len(subscriptions) - MAX_NAMES
    return names + (f" and {plural(more, 'more')}" if more > 0 else "")


def members_outcome(outcome: MembersOutcome, where: str, command: str) -> Reply:
    """`/peer channel follow members`: who was added, who was followed already, or that nobody
    in the channel has claimed a profile yet."""
    shown_where = escape(where)
    if not outcome.added and not outcome.already:
        text = f"Nobody in {shown_where} has claimed a researcher profile yet, so there is nobody to follow."
        return Reply(
            text,
            [
                section(f":information_source: {text}"),
                context(
                    f"Members claim their own profile with `{escape(command)} claim NAME`; once it is "
                    f"approved, `{escape(command)} channel follow members` again picks them up."
                ),
            ],
        )
    parts = []
    if outcome.added:
        parts.append(
            f":white_check_mark: {shown_where} now follows {plural(len(outcome.added), 'member')} "
            f"who claimed a profile: {_names(outcome.added)}."
        )
    else:
        parts.append(
            f"No new members to follow: {shown_where} already follows everyone here who claimed a profile."
        )
    if outcome.already:
        parts.append(
            f"Already followed: {plural(len(outcome.already), 'member')} ({_names(outcome.already)})."
        )
    note = "\n".join(parts)
    reply = channel_feed(outcome.feed, where, command, notice=note)
    added = plural(len(outcome.added), "member")
    return Reply(f"{shown_where}: {added} added, {len(outcome.already)} already followed", reply.blocks)


def schedule_saved(feed: ChannelFeed, where: str, command: str) -> Reply:
    """`/peer channel digest …` saved: when the channel's digest is posted now, in the zone of
    whoever saved it."""
    if feed.prefs.frequency == "off":
        text = (
            f"The digest of {escape(where)} is now off: nothing is posted there, and what it follows is kept."
        )
    else:
        text = f"{escape(where)} now gets its digest posted {escape(feed.schedule)}."
    blocks: list[Block] = [
        section(f":white_check_mark: {text}"),
        context(_schedule_line(feed, command, yours=True)),
    ]
    return Reply(text, blocks)


def channel_usage(command: str, problem: str = "") -> Reply:
    """What `/peer channel` takes, after what was wrong (already escaped) if anything."""
    usage = (
        f"`{escape(command)} channel` lists what this channel follows; "
        f"`{escape(command)} channel {GRAMMAR}` changes it."
    )
    text = problem or "Channel feeds"
    return Reply(text, [*([section(problem)] if problem else []), section(usage)])


def channel_only(command: str) -> Reply:
    """Typed in a DM or group DM (or the bot's DM): feeds belong to channels."""
    text = (
        "Channel feeds are set up in a channel: type this in the channel that should get the posts, "
        f"e.g. `{escape(command)} channel follow NAME` in #lab-papers."
    )
    return Reply(text, [section(text), context(f"For your own digest, use `{escape(command)} follow NAME`.")])


def invite_first(where: str) -> Reply:
    """A private channel the bot is not in: it cannot post there, so nothing was subscribed."""
    text = (
        f"I'm not a member of {escape(where)}, a private channel, so I could not post its digest. "
        "Invite me first: `/invite @BZPEER`, then type the command again."
    )
    return Reply(text, [section(f":lock: {text}")])


def archived(where: str) -> Reply:
    text = f"{escape(where)} is archived: nothing can be posted there."
    return Reply(text, [section(text)])


def channel_unreadable(code: str) -> Reply:
    """Slack would not say what this channel is (a scope missing, Slack down): nothing changed."""
    text = f"Slack would not say what this channel is ({escape(code)}), so nothing changed. Try again soon."
    return Reply(text, [section(f":warning: {text}")])
