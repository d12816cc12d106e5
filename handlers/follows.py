"""Following: `/peer follow|unfollow|following|digest`, and the Follow / Unfollow / Mute / Unmute
buttons wherever they appear (profile cards, the following list, the Home tab, digest DMs).

Every press acts for whoever pressed it (the payload's user and team), never for an id inside
the button value, which only names the researcher.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from handlers.background import after_ack
from handlers.blocks import messages
from handlers.blocks.collaborators import SUGGESTION_BLOCK
from handlers.blocks.common import Reply, escape
from handlers.blocks.follows import (
    LIST_BLOCK,
    digest_preview,
    digest_settings_message,
    digest_usage,
    follow_card,
    follow_notice,
    following_list,
    not_following_any,
    outcome_note,
)
from handlers.blocks.home import HOME_FOLLOWS, home_view
from handlers.blocks.profile import pick_list
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.values import ResearcherValue
from services.container import Services
from services.digests.follow_views import PAGE_SIZE
from services.digests.follows import FollowOutcome, FollowQueryOutcome
from services.digests.schedule import (
    DEFAULT_TIME,
    DEFAULT_WEEKDAY,
    FREQUENCIES,
    format_time,
    parse_time,
    parse_weekday,
)
from services.workspaces.members import Viewer

if TYPE_CHECKING:
    from handlers.commands import CommandContext

log = logging.getLogger("bzpeer.follows")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")
_FREQUENCY_ALIASES = {"asap": "instant", "immediately": "instant", "never": "off"}

Change = Literal["follow", "unfollow", "mute", "unmute"]
Surface = Literal["card", "list", "home", "message"]


# ---------------------------------------------------------------------------------------------
# Who, where, and the member's time zone


def viewer_of(user_id: Any, team_id: Any) -> Viewer | None:
    """A Viewer from Slack ids, or None when they do not look like Slack's."""
    user, team = str(user_id or ""), str(team_id or "")
    return Viewer(team_id=team, user_id=user) if _USER_ID.match(user) and _TEAM_ID.match(team) else None


def presser(body: dict[str, Any]) -> Viewer | None:
    """Who pressed a button or submitted a view: the payload's user in their workspace."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return viewer_of(user.get("id"), user.get("team_id") or team.get("id"))


def fresh_time_zone(services: Services, client: WebClient, viewer: Viewer, now: datetime) -> str | None:
    """The member's IANA zone from `users.info` when the cached one is missing or a week old.

    None when the cache is fresh or Slack cannot say (user_not_found, missing scope, network):
    the member keeps the zone they had, or UTC, and the command goes on.
    """
    if not services.follows.time_zone_due(viewer, now=now):
        return None
    try:
        response = client.users_info(user=viewer.user_id)
    except (SlackClientError, OSError) as error:
        log.warning("users.info for %s/%s failed (%s); keeping the cached time zone", *_ids(viewer), error)
        return None
    tz = (response.get("user") or {}).get("tz")
    return tz if isinstance(tz, str) and tz else None


def _ids(viewer: Viewer) -> tuple[str, str]:
    return viewer.team_id, viewer.user_id


def publish_home(
    services: Services,
    client: WebClient,
    viewer: Viewer,
    command: str,
    *,
    now: datetime,
    notice: str | None = None,
) -> None:
    """Publish (or refresh) the member's App Home tab."""
    data = services.follows.home(
        viewer, time_zone=fresh_time_zone(services, client, viewer, now), now=now, limit=HOME_FOLLOWS
    )
    collaboration = services.invitations.home(viewer, now=now)
    view = home_view(data, command, notice=notice, collaboration=collaboration)
    client.views_publish(user_id=viewer.user_id, view=view)


# ---------------------------------------------------------------------------------------------
# Buttons


def _action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def press_surface(body: dict[str, Any]) -> Surface:
    """Where the button was: the Home tab, the following list, an ephemeral card, or a message
    everyone in the conversation sees (a digest DM, a card shared in a channel)."""
    container = body.get("container") or {}
    if container.get("type") == "view":
        return "home"
    if not container.get("is_ephemeral"):
        return "message"
    block_id = str(_action(body).get("block_id") or "")
    if block_id.startswith(f"{SUGGESTION_BLOCK}:"):
        return "message"  # a collaborators reply: keep the other suggestions on screen
    return "list" if block_id.startswith(f"{LIST_BLOCK}:") else "card"


def _list_offset(body: dict[str, Any]) -> int:
    # block ids of the list are "following:{offset}:{researcher}[:actions]".
    parts = str(_action(body).get("block_id") or "").split(":")
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
    viewer, value = presser(body), ResearcherValue.load(_action(body).get("value"))
    surface = press_surface(body)
    if viewer is None or value is None:
        if surface != "home":
            respond(response_type="ephemeral", replace_original=False, **messages.stale_button().payload())
        return
    now = datetime.now(UTC)
    outcome = _change(services, client, viewer, value.researcher_id, change, now)
    if surface == "home":
        publish_home(services, client, viewer, command, now=now, notice=outcome_note(outcome, command))
    elif surface == "list":
        page = services.follows.following(viewer, offset=_list_offset(body), limit=PAGE_SIZE)
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


def _now() -> datetime:
    return datetime.now(UTC)


def _viewer(ctx: CommandContext) -> Viewer:
    return Viewer(team_id=ctx.team_id, user_id=ctx.user_id)


def _query_reply(result: FollowQueryOutcome, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    lookup = result.lookup
    if result.outcome is not None:
        return follow_card(result.outcome, ctx.command)
    if lookup.status == "choices":
        return (
            pick_list(lookup.query, lookup.candidates)
            if lookup.candidates
            else not_following_any(lookup.query, ctx.command)
        )
    if lookup.status == "invalid":
        return messages.invalid_query(ctx.command, lookup.message or "That query is not valid.")
    return messages.not_found(
        ctx.command, lookup.query, lookup.openalex_ref or lookup.query, parsed.suggestion
    )


def handle_follow_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer follow QUERY`: follow, or the pick list / not-found flow of the profile card."""
    viewer, now = _viewer(ctx), _now()
    tz = fresh_time_zone(services, ctx.client, viewer, now)
    return _query_reply(
        services.follows.follow_query(viewer, parsed.query, time_zone=tz, now=now), parsed, ctx
    )


def handle_unfollow_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer unfollow QUERY`."""
    result = services.follows.unfollow_query(_viewer(ctx), parsed.query, now=_now())
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
    following = services.follows.following(_viewer(ctx), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return following_list(following, ctx.command)


@dataclass(frozen=True)
class DigestRequest:
    """What `/peer digest …` asked for."""

    kind: Literal["show", "preview", "set", "error"]
    frequency: str = "daily"
    time: str = DEFAULT_TIME
    weekday: int = DEFAULT_WEEKDAY
    problem: str = ""


def parse_digest_args(args: str, command: str = "/peer") -> DigestRequest:
    """`daily|weekly|instant|off [on DAY] [at HH:MM]`, `preview`, or nothing (show)."""
    words = args.split()
    if not words:
        return DigestRequest("show")
    first = words[0].casefold()
    if first == "preview":
        if len(words) > 1:
            return DigestRequest("error", problem=f"Type just `{command} digest preview`.")
        return DigestRequest("preview")
    frequency = _FREQUENCY_ALIASES.get(first, first)
    if frequency not in FREQUENCIES:
        return DigestRequest(
            "error",
            problem=f"“{_shown(words[0])}” is not a digest schedule: choose daily, weekly, instant or off.",
        )
    clock, weekday, day, rest = None, None, "", words[1:]
    while rest:
        word, value = rest[0].casefold(), rest[1] if len(rest) > 1 else None
        if word == "at" and value is not None:
            clock = parse_time(value)
            if clock is None:
                return DigestRequest(
                    "error",
                    problem=f"“{_shown(value)}” is not a time: type it as HH:MM on a 24-hour clock, "
                    f"e.g. `{command} digest {frequency} at 09:00` or `at 17:30`.",
                )
        elif word == "on" and value is not None:
            weekday, day = parse_weekday(value), value
            if weekday is None:
                return DigestRequest(
                    "error",
                    problem=f"“{_shown(value)}” is not a day of the week: type e.g. "
                    f"`{command} digest weekly on monday`.",
                )
        else:
            return DigestRequest(
                "error",
                problem=f"I didn't understand “{_shown(' '.join(rest))}”: add `at HH:MM` for the time "
                "(and `on DAY` for weekly digests).",
            )
        rest = rest[2:]
    if frequency in ("instant", "off") and (clock is not None or weekday is not None):
        return DigestRequest(
            "error",
            problem=f"`{frequency}` takes no time or day: instant digests arrive as soon as new works "
            f"are found, and off sends none. Type `{command} digest {frequency}`.",
        )
    if frequency == "daily" and weekday is not None:
        return DigestRequest(
            "error",
            problem=f"`on DAY` is for weekly digests: type `{command} digest weekly on {_shown(day)}`.",
        )
    return DigestRequest(
        "set",
        frequency=frequency,
        time=format_time(clock) if clock else DEFAULT_TIME,
        weekday=weekday if weekday is not None else DEFAULT_WEEKDAY,
    )


def _shown(text: str) -> str:
    """User input quoted back in a message: short, and without Slack markup."""
    return escape(text[:40]).replace("`", "'")


def handle_digest_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer digest [daily|weekly|instant|off [on DAY] [at HH:MM] | preview]`."""
    request = parse_digest_args(parsed.args, ctx.command)
    if request.kind == "error":
        return digest_usage(ctx.command, request.problem)
    viewer, now = _viewer(ctx), _now()
    tz = fresh_time_zone(services, ctx.client, viewer, now)
    if request.kind == "preview":
        # Composes from the ledger without marking anything sent.
        member_id = services.follows.member_id(viewer, time_zone=tz, now=now)
        return digest_preview(services.digests.preview(member_id, now=now), ctx.command)
    if request.kind == "show":
        return digest_settings_message(
            services.follows.digest_settings(viewer, time_zone=tz, now=now), ctx.command
        )
    settings = services.follows.set_schedule(
        viewer,
        frequency=request.frequency,
        time=request.time,
        weekday=request.weekday,
        time_zone=tz,
        now=now,
    )
    return digest_settings_message(settings, ctx.command, saved=True)
