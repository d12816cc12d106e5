"""Topics: `/peer topic TOPIC`, `/peer follow topic TOPIC`, `/peer unfollow topic TOPIC`, the
pick list's View, and Follow / Unfollow / Mute / Unmute of a topic wherever they appear (its card,
the following list, the Home tab, digest DMs). Every press acts for whoever pressed it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from slack_bolt import App, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import (
    CommandContext,
    fresh_time_zone,
    now_utc,
    pressed_channel,
    pressed_value,
    presser,
    tell_presser,
)
from handlers.digests.follow_blocks import following_list
from handlers.digests.follows import list_offset, press_surface
from handlers.home.tab import publish_home
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.topic_blocks import (
    topic_answer,
    topic_card,
    topic_notice,
    topic_outcome_note,
    topic_usage,
)
from handlers.values import TopicChoiceValue, TopicValue
from services.container import Services
from services.digests.follow_views import PAGE_SIZE
from services.digests.topic_follows import TopicFollowOutcome
from services.workspaces.members import Viewer

Change = Literal["follow", "unfollow", "mute", "unmute"]


def _member_id(services: Services, client: WebClient, viewer: Viewer, now: datetime) -> int:
    tz = fresh_time_zone(services, client, viewer, now)
    return services.follows.member_id(viewer, time_zone=tz, now=now)


def _in_channel(channel_id: str, in_bot_dm: bool = False) -> bool:
    """Typed (or pressed) in a channel, which could follow the topic too: not a DM."""
    return not in_bot_dm and channel_id[:1] in ("C", "G")


def handle_topic_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer topic TOPIC`: the topic's card, a pick list, or what to type instead."""
    if not parsed.args.strip():
        return topic_usage(ctx.command, f"{ctx.command} topic")
    now = now_utc()
    member_id = _member_id(services, ctx.client, ctx.viewer, now)
    answer = services.topic_follows.show(parsed.args, team_id=ctx.team_id, member_id=member_id, now=now)
    return topic_answer(answer, ctx.command, in_channel=_in_channel(ctx.channel_id, ctx.in_bot_dm))


def _change_command(
    services: Services, parsed: ParsedCommand, ctx: CommandContext, change: Literal["follow", "unfollow"]
) -> Reply:
    if not parsed.args.strip():
        return topic_usage(ctx.command, f"{ctx.command} {change} topic")
    now = now_utc()
    member_id = _member_id(services, ctx.client, ctx.viewer, now)
    answer = services.topic_follows.change_query(member_id, parsed.args, change, team_id=ctx.team_id, now=now)
    return topic_answer(answer, ctx.command)


def handle_follow_topic_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer follow topic TOPIC`: follow it (its new works come in the digest)."""
    return _change_command(services, parsed, ctx, "follow")


def handle_unfollow_topic_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer unfollow topic TOPIC`."""
    return _change_command(services, parsed, ctx, "unfollow")


def _apply(
    services: Services, member_id: int, topic_id: int, change: Change, now: datetime
) -> TopicFollowOutcome:
    follows = services.topic_follows
    if change == "follow":
        return follows.follow(member_id, topic_id, now=now)
    if change == "unfollow":
        return follows.unfollow(member_id, topic_id, now=now)
    return follows.set_muted(member_id, topic_id, change == "mute", now=now)


def answer_topic_press(
    services: Services,
    command: str,
    change: Change,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """Apply a topic's Follow / Unfollow / Mute / Unmute for the presser; show it where it was."""
    viewer, value = presser(body), TopicValue.load(pressed_value(body))
    surface = press_surface(body)
    if viewer is None or value is None:
        if surface != "home":
            tell_presser(respond, messages.stale_button())
        return
    now = now_utc()
    member_id = _member_id(services, client, viewer, now)
    outcome = _apply(services, member_id, value.topic_id, change, now)
    note = topic_outcome_note(outcome, command)
    if surface == "home":
        publish_home(services, client, viewer, command, now=now, notice=note)
    elif surface == "list":
        page = services.follows.following(viewer, offset=list_offset(body), limit=PAGE_SIZE)
        respond(replace_original=True, **following_list(page, command, notice=note).payload())
    elif surface == "card":
        card = services.topic_follows.card(value.topic_id, team_id=viewer.team_id, member_id=member_id)
        reply = topic_card(card, command, note=note) if card else topic_notice(outcome, command)
        respond(replace_original=True, **reply.payload())
    else:
        # Never replace a digest DM: tell only the presser, with an undo button.
        tell_presser(respond, topic_notice(outcome, command))


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the pick list's View and the topic Follow / Unfollow / Mute / Unmute buttons."""

    @after_ack(app.action(Action.TOPIC_VIEW))
    def handle_topic_view(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        viewer, value = presser(body), TopicChoiceValue.load(pressed_value(body))
        if viewer is None or value is None:
            tell_presser(respond, messages.stale_button())
            return
        now = now_utc()
        member_id = _member_id(services, client, viewer, now)
        answer = services.topic_follows.show(
            value.openalex_id, team_id=viewer.team_id, member_id=member_id, now=now
        )
        reply = topic_answer(answer, command, in_channel=_in_channel(pressed_channel(body)))
        respond(replace_original=True, **reply.payload())

    presses: tuple[tuple[Action, Change], ...] = (
        (Action.TOPIC_FOLLOW, "follow"),
        (Action.TOPIC_UNFOLLOW, "unfollow"),
        (Action.TOPIC_MUTE, "mute"),
        (Action.TOPIC_UNMUTE, "unmute"),
    )
    for action, change in presses:
        _register_press(app, services, command, action, change)


def _register_press(app: App, services: Services, command: str, action: Action, change: Change) -> None:
    @after_ack(app.action(action))
    def handle_topic_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_topic_press(services, command, change, body, respond, client)
