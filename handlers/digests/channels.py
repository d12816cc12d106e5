"""Channel feeds: `/peer channel [follow|unfollow QUERY | follow members | digest …]`, typed in
the channel whose feed it changes, and the Follow (pick list) / Unfollow (list) buttons.

Anyone in the channel may change its feed: the command (or the press) comes from the channel,
which Slack signs. Before anything changes, conversations.info says what the channel is: a DM or
group DM has no feed, and a private channel the bot is not in must invite it first (public ones
are posted to with chat:write.public). Answers are ephemeral; nothing is posted in the channel
until its digest is due.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply, escape
from handlers.context import CommandContext, fresh_time_zone, now_utc, pressed_channel, pressed_value, presser
from handlers.context import unresolved as unresolved_query
from handlers.digests.channel_blocks import (
    archived,
    channel_feed,
    channel_label,
    channel_only,
    channel_outcome,
    channel_topic_choices,
    channel_topic_outcome,
    channel_unreadable,
    channel_usage,
    follows_no_such_topic,
    invite_first,
    members_outcome,
    schedule_saved,
)
from handlers.digests.channel_lookup_blocks import channel_not_found
from handlers.digests.schedule import parse_digest_args
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.topic_blocks import topic_unresolved, topic_usage
from handlers.values import ChannelResearcherValue, ChannelTopicValue
from services.container import Services
from services.digests.channels import ChannelQueryOutcome, ChannelTopicAnswer
from services.workspaces.members import ChannelRef

# conversations.members: Slack recommends no more than 200 a page.
MEMBERS_PAGE = 200
# A channel of 20,000 people is 100 pages; past that the rest waits for a re-run.
MAX_MEMBER_PAGES = 100


@dataclass(frozen=True)
class ChannelInfo:
    """What conversations.info says of where the command was typed."""

    status: Literal["ok", "dm", "invite", "archived", "unreadable"]
    name: str = ""
    code: str = ""

    @property
    def where(self) -> str:
        return channel_label(self.name)


def channel_info(client: WebClient, channel_id: str) -> ChannelInfo:
    """Whether the bot can run a feed in this conversation, and the channel's name."""
    if not channel_id or channel_id.startswith("D"):
        return ChannelInfo("dm")
    try:
        info = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        # A private channel the bot is not in is invisible to it: "channel_not_found".
        return ChannelInfo("invite") if code == "channel_not_found" else ChannelInfo("unreadable", code=code)
    except (SlackClientError, OSError) as error:
        return ChannelInfo("unreadable", code=type(error).__name__)
    name = str(info.get("name") or "")
    if info.get("is_im") or info.get("is_mpim"):
        return ChannelInfo("dm")
    if info.get("is_archived"):
        return ChannelInfo("archived", name)
    if info.get("is_private") and not info.get("is_member"):
        return ChannelInfo("invite", name)
    return ChannelInfo("ok", name)


def _refusal(info: ChannelInfo, command: str) -> Reply:
    if info.status == "dm":
        return channel_only(command)
    if info.status == "invite":
        return invite_first(info.where if info.name else "this channel")
    if info.status == "archived":
        return archived(info.where)
    return channel_unreadable(info.code or "no answer")


def channel_member_ids(client: WebClient, channel_id: str) -> list[str]:
    """Everyone in the channel (conversations.members, every page)."""
    found: list[str] = []
    cursor = ""
    for _ in range(MAX_MEMBER_PAGES):
        page = client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor or None)
        found.extend(str(user) for user in page.get("members") or [])
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            break
    return found


# ---------------------------------------------------------------------------------------------
# The subcommand

Verb = Callable[[Services, str, CommandContext, ChannelRef, str], Reply]


def handle_channel_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer channel …`: route the verb, once Slack said the channel can have a feed."""
    if ctx.in_bot_dm:
        return channel_only(ctx.command)
    verb, _, rest = parsed.args.strip().partition(" ")
    answer = _VERBS.get(verb.casefold())
    if answer is None:
        return channel_usage(ctx.command, f"“{_shown(verb)}” is not something `{ctx.command} channel` does.")
    info = channel_info(ctx.client, ctx.channel_id)
    if info.status != "ok":
        return _refusal(info, ctx.command)
    return answer(services, rest.strip(), ctx, ChannelRef(ctx.team_id, ctx.channel_id), info.where)


def _show(services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str) -> Reply:
    if rest:
        return channel_usage(
            ctx.command, f"Type just `{ctx.command} channel` to see what this channel follows."
        )
    return channel_feed(services.channels.feed(channel, now=now_utc()), where, ctx.command)


def _target(verb: str, rest: str) -> tuple[Verb | None, str]:
    """What `follow|unfollow WORD …` names when WORD is not a researcher (see _TARGETS), and the
    text after WORD; (None, rest) for a researcher QUERY."""
    word, _, after = rest.partition(" ")
    answer = _TARGETS.get((verb, word.casefold()))
    return (answer, after.strip()) if answer is not None else (None, rest)


def _follow(services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str) -> Reply:
    special, after = _target("follow", rest)
    if special is not None:
        return special(services, after, ctx, channel, where)
    if not rest:
        return channel_usage(ctx.command, f"Type a researcher after `{ctx.command} channel follow`.")
    now = now_utc()
    tz = fresh_time_zone(services, ctx.client, ctx.viewer, now)
    result = services.channels.follow_query(channel, rest, setter=ctx.viewer, setter_tz=tz, now=now)
    return _query_reply(result, ctx, channel, where, verb="Follow", action=Action.CHANNEL_FOLLOW)


def _unfollow(services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str) -> Reply:
    special, after = _target("unfollow", rest)
    if special is not None:
        return special(services, after, ctx, channel, where)
    if not rest:
        return channel_usage(ctx.command, f"Type a researcher after `{ctx.command} channel unfollow`.")
    result = services.channels.unfollow_query(channel, rest, now=now_utc())
    lookup = result.lookup
    if result.outcome is None and (
        lookup.status == "none" or (lookup.status == "choices" and not lookup.candidates)
    ):
        return channel_usage(
            ctx.command, f"{escape(where)} follows nobody matching “{_shown(lookup.query)}”."
        )
    return _query_reply(result, ctx, channel, where, verb="Unfollow", action=Action.CHANNEL_UNFOLLOW)


def _query_reply(
    result: ChannelQueryOutcome,
    ctx: CommandContext,
    channel: ChannelRef,
    where: str,
    *,
    verb: str,
    action: str,
) -> Reply:
    if result.outcome is not None:
        return channel_outcome(result.outcome, where, ctx.command)
    lookup = result.lookup
    if lookup.status == "choices":
        return messages.pick_list(
            lookup.query,
            lookup.candidates,
            action=action,
            value=lambda rid: ChannelResearcherValue(researcher_id=rid, channel_id=channel.channel_id).dump(),
            verb=verb,
            where=f"in {where}",
        )
    if lookup.status == "none":
        return channel_not_found(lookup.query, lookup.openalex_ref or lookup.query, channel.channel_id, where)
    return unresolved_query(ctx.command, lookup)


def _follow_members(
    services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str
) -> Reply:
    if rest:
        return channel_usage(ctx.command, f"Type just `{ctx.command} channel follow members`.")
    now = now_utc()
    user_ids = channel_member_ids(ctx.client, channel.channel_id)
    tz = fresh_time_zone(services, ctx.client, ctx.viewer, now)
    outcome = services.channels.follow_members(channel, user_ids, setter=ctx.viewer, setter_tz=tz, now=now)
    return members_outcome(outcome, where, ctx.command)


def _digest(services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str) -> Reply:
    request = parse_digest_args(rest, f"{ctx.command} channel")
    if request.kind == "show":
        return _show(services, "", ctx, channel, where)
    if request.kind == "preview":
        return channel_usage(ctx.command, f"Preview is for your own digest: `{ctx.command} digest preview`.")
    if request.kind == "error":
        return channel_usage(ctx.command, request.problem)
    now = now_utc()
    feed = services.channels.set_schedule(
        channel,
        frequency=request.frequency,
        time=request.time,
        weekday=request.weekday,
        setter=ctx.viewer,
        setter_tz=fresh_time_zone(services, ctx.client, ctx.viewer, now),
        now=now,
    )
    return schedule_saved(feed, where, ctx.command)


def _follow_topic(
    services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str
) -> Reply:
    if not rest:
        return topic_usage(ctx.command, f"{ctx.command} channel follow topic")
    now = now_utc()
    tz = fresh_time_zone(services, ctx.client, ctx.viewer, now)
    answer = services.channels.follow_topic(channel, rest, setter=ctx.viewer, setter_tz=tz, now=now)
    return _topic_reply(answer, ctx.command, channel, where, verb="Follow")


def _unfollow_topic(
    services: Services, rest: str, ctx: CommandContext, channel: ChannelRef, where: str
) -> Reply:
    if not rest:
        return topic_usage(ctx.command, f"{ctx.command} channel unfollow topic")
    answer = services.channels.unfollow_topic(channel, rest, now=now_utc())
    if answer.outcome is None and answer.lookup.status == "choices" and not answer.lookup.candidates:
        return follows_no_such_topic(answer.lookup, where, ctx.command)
    return _topic_reply(answer, ctx.command, channel, where, verb="Unfollow")


def _topic_reply(
    answer: ChannelTopicAnswer, command: str, channel: ChannelRef, where: str, *, verb: str
) -> Reply:
    if answer.outcome is not None:
        return channel_topic_outcome(answer.outcome, where, command)
    if answer.lookup.status == "choices":
        return channel_topic_choices(answer.lookup, channel.channel_id, where, verb=verb)
    return topic_unresolved(command, answer.lookup)


_VERBS: dict[str, Verb] = {"": _show, "follow": _follow, "unfollow": _unfollow, "digest": _digest}
# What a channel follows besides researchers, by (verb, first word): `follow members` and
# `follow|unfollow topic TOPIC`; anything else after follow / unfollow is a researcher QUERY.
_TARGETS: dict[tuple[str, str], Verb] = {
    ("follow", "members"): _follow_members,
    ("follow", "topic"): _follow_topic,
    ("unfollow", "topic"): _unfollow_topic,
}


def _shown(text: str) -> str:
    return escape(text[:40]).replace("`", "'")


# ---------------------------------------------------------------------------------------------
# Buttons


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the channel feed's Follow (pick list) and Unfollow (list) buttons."""

    @after_ack(app.action(Action.CHANNEL_FOLLOW))
    def handle_channel_follow_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_channel_press(services, command, "follow", body, respond, client)

    @after_ack(app.action(Action.CHANNEL_UNFOLLOW))
    def handle_channel_unfollow_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_channel_press(services, command, "unfollow", body, respond, client)

    @after_ack(app.action(Action.CHANNEL_TOPIC_FOLLOW))
    def handle_channel_topic_follow_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_channel_topic_press(services, command, "follow", body, respond, client)

    @after_ack(app.action(Action.CHANNEL_TOPIC_UNFOLLOW))
    def handle_channel_topic_unfollow_press(
        body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        answer_channel_topic_press(services, command, "unfollow", body, respond, client)


def answer_channel_press(
    services: Services,
    command: str,
    change: Literal["follow", "unfollow"],
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """Follow / unfollow for the channel the button was pressed in, and show the list as it is now."""
    viewer, value = presser(body), ChannelResearcherValue.load(pressed_value(body))
    if viewer is None or value is None:
        respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
        return
    info = pressed_in(body, value.channel_id, command, respond, client)
    if info is None:
        return
    channel, now = ChannelRef(viewer.team_id, value.channel_id), now_utc()
    if change == "follow":
        tz = fresh_time_zone(services, client, viewer, now)
        outcome = services.channels.follow(channel, value.researcher_id, setter=viewer, setter_tz=tz, now=now)
    else:
        outcome = services.channels.unfollow(channel, value.researcher_id, now=now)
    respond(replace_original=True, **channel_outcome(outcome, info.where, command).payload())


def pressed_in(
    body: dict[str, Any], channel_id: str, command: str, respond: Respond, client: WebClient
) -> ChannelInfo | None:
    """The channel a button acts for, when it was pressed in that channel (that is what lets
    anyone there act) and the channel can still have a feed; otherwise None, the presser told why."""
    if pressed_channel(body) != channel_id:
        respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
        return None
    info = channel_info(client, channel_id)
    if info.status != "ok":
        respond(replace_original=True, **_refusal(info, command).payload())
        return None
    return info


def answer_channel_topic_press(
    services: Services,
    command: str,
    change: Literal["follow", "unfollow"],
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """A pick list's Follow / Unfollow of a topic, or `/peer channel`'s Unfollow, for the channel
    the button was pressed in; the answer replaces the button's message."""
    viewer, value = presser(body), ChannelTopicValue.load(pressed_value(body))
    # Only `/peer channel`'s Unfollow names a stored topic; a pick list names an OpenAlex id.
    if viewer is None or value is None or (value.topic_id is not None and change != "unfollow"):
        respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
        return
    info = pressed_in(body, value.channel_id, command, respond, client)
    if info is None:
        return
    channel, now, where = ChannelRef(viewer.team_id, value.channel_id), now_utc(), info.where
    if value.topic_id is not None:
        outcome = services.channels.unfollow_topic_id(channel, value.topic_id, now=now)
        respond(replace_original=True, **channel_topic_outcome(outcome, where, command).payload())
        return
    query = value.openalex_id or ""
    if change == "follow":
        tz = fresh_time_zone(services, client, viewer, now)
        answer = services.channels.follow_topic(channel, query, setter=viewer, setter_tz=tz, now=now)
    else:
        answer = services.channels.unfollow_topic(channel, query, now=now)
    respond(
        replace_original=True, **_topic_reply(answer, command, channel, where, verb=change.title()).payload()
    )
