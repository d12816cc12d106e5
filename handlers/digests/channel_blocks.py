"""What `/peer channel …` answers, privately to whoever typed it: the channel's subscriptions
with Unfollow buttons and its schedule, what a change did, and why a change cannot be made here."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from handlers.blocks import Reply, button, context, escape, plural, section, shown_name
from handlers.ids import Action
from handlers.values import ChannelResearcherValue
from services.digests.channels import ChannelFeed, ChannelOutcome, MembersOutcome, Subscription
from services.digests.schedule import describe

# Subscriptions listed with their own Unfollow button; the rest are counted (≤ 50 blocks).
MAX_LISTED = 40
# Names listed in one line of `/peer channel follow members`'s answer.
MAX_NAMES = 30
GRAMMAR = "follow|unfollow QUERY · follow members · digest daily|weekly|instant|off [on DAY] [at HH:MM]"


def channel_label(name: str) -> str:
    """How a channel is named in answers and button labels: `#lab-papers`, or "this channel"."""
    return f"#{name}" if name else "this channel"


def _schedule_line(feed: ChannelFeed, command: str, *, yours: bool = False) -> str:
    schedule = describe(feed.prefs)
    if feed.prefs.frequency in ("daily", "weekly"):
        whose = "your time zone" if yours else "the time zone of whoever last set the schedule"
        schedule += f" ({feed.prefs.zone.key}, {whose})"
    return (
        f"Digest posted here {escape(schedule)}. "
        f"Change it with `{escape(command)} channel digest daily|weekly|instant|off [on DAY] [at HH:MM]`."
    )


def channel_feed(feed: ChannelFeed, where: str, command: str, *, notice: str | None = None) -> Reply:
    """`/peer channel`: whom the channel follows (Unfollow buttons) and when its digest is posted."""
    shown_where = escape(where)
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    total = len(feed.subscriptions)
    if not total:
        text = f"{shown_where} follows nobody yet."
        blocks.append(
            section(
                f"{text} Type `{escape(command)} channel follow NAME` to post a researcher's new works "
                f"here, or `{escape(command)} channel follow members` for everyone in the channel who "
                "claimed a profile."
            )
        )
    else:
        text = f"{shown_where} follows {plural(total, 'researcher')}."
        blocks.append(section(f"*{text}* New works are posted here, newest first."))
        for subscription in feed.subscriptions[:MAX_LISTED]:
            blocks.append(_subscription_row(subscription, feed.channel_id, where))
        if total > MAX_LISTED:
            blocks.append(
                context(
                    f"…and {plural(total - MAX_LISTED, 'more researcher')}: "
                    f"`{escape(command)} channel unfollow NAME` stops any of them."
                )
            )
    blocks.append(context(_schedule_line(feed, command)))
    blocks.append(context(f"`{escape(command)} channel {GRAMMAR}` — anyone in the channel may change it."))
    return Reply(text, blocks)


def _subscription_row(subscription: Subscription, channel_id: str, where: str) -> Block:
    value = ChannelResearcherValue(researcher_id=subscription.researcher_id, channel_id=channel_id).dump()
    return section(
        f"*{shown_name(subscription.name)}*",
        accessory=button(
            "Unfollow",
            action_id=Action.CHANNEL_UNFOLLOW,
            value=value,
            label=f"Unfollow {subscription.name} in {channel_label(where.lstrip('#'))}",
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
    """`/peer channel digest …` saved: when the channel's digest is posted now, and in whose zone."""
    text = f"{escape(where)}'s digest is now posted {escape(feed.schedule)}."
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
