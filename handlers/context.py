"""What every listener needs to know about a request: who typed the command and where
(`CommandContext`), who pressed a button or submitted a view (`presser`), which button value and
message, the member's time zone, and the one answer for a QUERY that did not name one researcher."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from handlers import messages
from handlers.blocks import Reply
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.values import ButtonValue
from services.collaboration.invitation_types import PostedMessage
from services.container import Services
from services.research.profiles import Lookup
from services.workspaces.members import Viewer

log = logging.getLogger("bzpeer.handlers")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")
Meta = TypeVar("Meta", bound=ButtonValue)


@dataclass(frozen=True)
class CommandContext:
    """Who typed the command, where, and how to answer them."""

    command: str
    team_id: str
    user_id: str
    channel_id: str
    client: WebClient
    # Sends the answer: ephemeral by response_url for the slash command, chat.postMessage in the
    # bot's DM (events have no response_url).
    reply: Callable[[Reply], None]
    # Opens a modal (once, within 3 s): the invitation modal. Empty for text typed in the DM.
    trigger_id: str = ""
    # True for text typed in the bot's DM: `channel_id` is then that DM.
    in_bot_dm: bool = False

    @property
    def viewer(self) -> Viewer:
        return Viewer(team_id=self.team_id, user_id=self.user_id)


# A subcommand's answer; None when the handler already replied itself (e.g. after an upload).
Answer = Callable[[Services, ParsedCommand, CommandContext], Reply | None]


def now_utc() -> datetime:
    return datetime.now(UTC)


def is_user_id(user_id: str) -> bool:
    return bool(_USER_ID.match(user_id))


def viewer_of(user_id: Any, team_id: Any) -> Viewer | None:
    """A Viewer from Slack ids, or None when they do not look like Slack's."""
    user, team = str(user_id or ""), str(team_id or "")
    return Viewer(team_id=team, user_id=user) if is_user_id(user) and _TEAM_ID.match(team) else None


def presser(body: dict[str, Any]) -> Viewer | None:
    """Who pressed a button or submitted a view: the payload's user in their workspace."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return viewer_of(user.get("id"), user.get("team_id") or team.get("id"))


def pressed_action(body: dict[str, Any]) -> dict[str, Any]:
    """The action of a block_actions payload (its action_id, block_id and value)."""
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def pressed_value(body: dict[str, Any]) -> str | None:
    """The `value` of the button pressed in a block_actions payload."""
    value = pressed_action(body).get("value")
    return value if isinstance(value, str) else None


def pressed_channel(body: dict[str, Any]) -> str:
    """The conversation a button was pressed in ("" for a view: the Home tab, a modal)."""
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    found = channel.get("id") if isinstance(channel, dict) else None
    if not found and isinstance(container, dict):
        found = container.get("channel_id")
    return str(found or "")


def pressed_message(body: dict[str, Any]) -> PostedMessage | None:
    """The message a button was pressed in (channel and ts), when it is one the app posted:
    Slack signs the payload, so a press proves the message exists. None for ephemeral ones."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or container.get("is_ephemeral") or not (channel and ts):
        return None
    return PostedMessage(channel=str(channel), ts=str(ts))


def on_ephemeral_message(body: dict[str, Any]) -> bool:
    """The press came from a message only the presser sees (a card, a pick list)."""
    container = body.get("container") or {}
    return container.get("type") == "message" and bool(container.get("is_ephemeral"))


def tell_presser(respond: Respond, reply: Reply) -> None:
    """A new message only the presser sees; the one pressed in stays as it is."""
    respond(response_type="ephemeral", replace_original=False, **reply.payload())


def form_values(body: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` of a submitted modal: input block id → action id → state."""
    values = ((body.get("view") or {}).get("state") or {}).get("values")
    return values if isinstance(values, dict) else {}


@dataclass(frozen=True)
class Submitted(Generic[Meta]):
    """Who submitted a modal, and the metadata the app put in it when it opened the modal."""

    viewer: Viewer
    meta: Meta


def accept_form(
    ack: Ack,
    body: dict[str, Any],
    meta_type: type[Meta],
    errors: dict[str, str],
    *,
    field: str,
    opened_from: str,
) -> Submitted[Meta] | None:
    """In a view submission's ack: the submitter and the modal's metadata, or None once the form's
    `errors` (by input block) went back in the ack. A modal whose metadata or submitter cannot be
    read (edited, or opened by an older version) is out of date: the error goes under `field`."""
    meta, viewer = meta_type.load((body.get("view") or {}).get("private_metadata")), presser(body)
    if not errors and (meta is None or viewer is None):
        errors[field] = f"This form is out of date: open it again from {opened_from}."
    if errors or meta is None or viewer is None:
        ack(response_action="errors", errors=errors)
        return None
    return Submitted(viewer, meta)


def fresh_time_zone(services: Services, client: WebClient, viewer: Viewer, when: datetime) -> str | None:
    """The member's IANA zone from `users.info` when the cached one is missing or a week old.

    None when the cache is fresh or Slack cannot say (user_not_found, missing scope, network):
    the member keeps the zone they had, or UTC, and the command goes on.
    """
    if not services.follows.time_zone_due(viewer, now=when):
        return None
    try:
        response = client.users_info(user=viewer.user_id)
    except (SlackClientError, OSError) as error:
        log.warning(
            "users.info for %s/%s failed (%s); keeping the cached time zone",
            viewer.team_id,
            viewer.user_id,
            error,
        )
        return None
    tz = (response.get("user") or {}).get("tz")
    return tz if isinstance(tz, str) and tz else None


def unresolved(
    command: str,
    lookup: Lookup,
    *,
    suggestion: str | None = None,
    action: str = Action.VIEW_PROFILE,
    value: Callable[[int], str] | None = None,
) -> Reply:
    """QUERY did not name one researcher: a pick list whose buttons carry on with `action`, an
    invalid-input hint, or "nobody by that name" with the OpenAlex look-up offer."""
    if lookup.status == "choices":
        return messages.pick_list(lookup.query, lookup.candidates, action=action, value=value)
    if lookup.status == "invalid":
        return messages.invalid_query(command, lookup.message or "That query is not valid.")
    return messages.not_found(command, lookup.query, lookup.openalex_ref or lookup.query, suggestion)
