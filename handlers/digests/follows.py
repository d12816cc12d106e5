"""Following: `/peer follow|unfollow|following`, and the Follow / Unfollow / Mute / Unmute
buttons wherever they appear (profile cards, the following list, the Home tab, digest DMs).

Every press acts for whoever pressed it (the payload's user and team), never for an id inside
the button value, which only names the researcher.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from slack_bolt import App, Respond
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.context import CommandContext, fresh_time_zone, now_utc, pressed_action, presser, unresolved
from handlers.digests.follow_blocks import (
    follow_card,
    follow_notice,
    following_list,
    not_following_any,
    outcome_note,
)
from handlers.home.tab import publish_home
from handlers.ids import Action, BlockId
from handlers.parsing import ParsedCommand
from handlers.values import ResearcherValue
from services.container import Services
from services.digests.follow_views import PAGE_SIZE
from services.digests.follows import FollowOutcome, FollowQueryOutcome
from services.workspaces.members import Viewer

Change = Literal["follow", "unfollow", "mute", "unmute"]
Surface = Literal["card", "list", "home", "message"]


# ---------------------------------------------------------------------------------------------
# Buttons


def press_surface(body: dict[str, Any]) -> Surface:
    """Where the button was: the Home tab, the following list, an ephemeral card, or a message
    everyone in the conversation sees (a digest DM, a card shared in a channel)."""
    container = body.get("container") or {}
    if container.get("type") == "view":
        return "home"
    if not container.get("is_ephemeral"):
        return "message"
    block_id = str(pressed_action(body).get("block_id") or "")
    if block_id.startswith(f"{BlockId.SUGGESTION}:"):
        return "message"  # a collaborators reply: keep the other suggestions on screen
    return "list" if block_id.startswith(f"{BlockId.FOLLOWING}:") else "card"


def list_offset(body: dict[str, Any]) -> int:
    # block ids of the list are "following:{offset}:{researcher}[:actions]".
    parts = str(pressed_action(body).get("block_id") or "").split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdecimal() and len(parts[1]) <= 6 else 0


def _change(
    services: Services, client: WebClient, viewer: Viewer, researcher_id: int, change: Change, now: datetime
) -> FollowOutcome:
    if change == "follow":
        tz = fresh_time_zone(services, client, viewer, now)
        return services.follows.follow(viewer, researcher_id, time_zone=tz, now=now)
    if change == "unfollow":
        return services.follows.unfollow(viewer, researcher_id, now=now)
    return services.follows.set_muted(viewer, researcher_id, change == "mute", now=now)


def answer_press(
    services: Services,
    command: str,
    change: Change,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
) -> None:
    """Apply a Follow / Unfollow / Mute / Unmute press for the presser and show it where it was."""
    viewer, value = presser(body), ResearcherValue.load(pressed_action(body).get("value"))
    surface = press_surface(body)
    if viewer is None or value is None:
        if surface != "home":
            respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
        return
    now = now_utc()
    outcome = _change(services, client, viewer, value.researcher_id, change, now)
    if surface == "home":
        publish_home(services, client, viewer, command, now=now, notice=outcome_note(outcome, command))
    elif surface == "list":
        page = services.follows.following(viewer, offset=list_offset(body), limit=PAGE_SIZE)
        reply = following_list(page, command, notice=outcome_note(outcome, command))
        respond(replace_original=True, **reply.payload())
    elif surface == "card":
        respond(replace_original=True, **follow_card(outcome, command).payload())
    else:
        # Never replace a digest DM or a shared card: tell only the presser, with an undo button.
        respond(
            response_type="ephemeral", replace_original=False, **follow_notice(outcome, command).payload()
        )


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the Follow / Unfollow / Mute / Unmute button listeners."""

    @after_ack(app.action(Action.FOLLOW))
    def handle_follow_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_press(services, command, "follow", body, respond, client)

    @after_ack(app.action(Action.UNFOLLOW))
    def handle_unfollow_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_press(services, command, "unfollow", body, respond, client)

    @after_ack(app.action(Action.MUTE_RESEARCHER))
    def handle_mute_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_press(services, command, "mute", body, respond, client)

    @after_ack(app.action(Action.UNMUTE_RESEARCHER))
    def handle_unmute_press(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        answer_press(services, command, "unmute", body, respond, client)


# ---------------------------------------------------------------------------------------------
# Subcommands


def _query_reply(result: FollowQueryOutcome, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    lookup = result.lookup
    if result.outcome is not None:
        return follow_card(result.outcome, ctx.command)
    if lookup.status == "choices" and not lookup.candidates:
        return not_following_any(lookup.query, ctx.command)
    return unresolved(ctx.command, lookup, suggestion=parsed.suggestion)


def handle_follow_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer follow QUERY`: follow, or the pick list / not-found flow of the profile card."""
    viewer, now = ctx.viewer, now_utc()
    tz = fresh_time_zone(services, ctx.client, viewer, now)
    return _query_reply(
        services.follows.follow_query(viewer, parsed.query, time_zone=tz, now=now), parsed, ctx
    )


def handle_unfollow_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer unfollow QUERY`."""
    result = services.follows.unfollow_query(ctx.viewer, parsed.query, now=now_utc())
    if result.outcome is None and result.lookup.status == "none":
        # Nobody by that name in the store means nobody by that name is followed: no import offer.
        return not_following_any(result.lookup.query, ctx.command)
    return _query_reply(result, parsed, ctx)


def handle_following_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer following [PAGE]`: whom I follow, with Unfollow and Mute / Unmute buttons."""
    words = parsed.args.casefold().split()
    if words and words[0] == "page":
        words = words[1:]
    if len(words) > 1 or (words and not (words[0].isdecimal() and 0 < int(words[0]) <= 10_000)):
        return messages.invalid_query(
            ctx.command,
            f"Type {ctx.command} following for whom you follow, or {ctx.command} following 2 "
            "for the next page.",
        )
    page = int(words[0]) if words else 1
    following = services.follows.following(ctx.viewer, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return following_list(following, ctx.command)
