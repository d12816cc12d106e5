"""The Messages tab: text typed to the bot in its DM works like the slash command.

The same parser and the same subcommand handlers as `/peer` (handlers/commands.py), answered in
that DM with chat.postMessage: an event has no response_url, and only that person sees the DM
anyway. Slack retries an event it got no 200 for; the dedupe middleware (bot/middleware.py)
keys it by its event_id, so a retry is answered once.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply
from handlers.commands import answer_command, command_routes
from handlers.context import Answer, CommandContext, is_user_id
from handlers.parsing import parse_dm_text
from services.container import Services


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the listener for `message` events (subscribed as `message.im`)."""
    routes: dict[str, Answer] = {
        **command_routes(),
        "unusable": lambda _s, _p, ctx: messages.dm_hint(ctx.command),
    }

    # One listener for every message event, so none goes unhandled (Bolt would answer 404 and
    # Slack retry it); what is not a person typing to the bot is dropped after the ack.
    @after_ack(app.event("message"))
    def handle_direct_message(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        # `body`, not Bolt's `event`: in_background hands it to the error report, which answers in the DM.
        event = body.get("event") or {}
        if not typed_to_bot(event, bot_user_id=context.bot_user_id):
            return
        channel, thread_ts = str(event["channel"]), event.get("thread_ts")

        def post_in_dm(reply: Reply) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **reply.payload())

        ctx = CommandContext(
            command=command,
            team_id=str(context.team_id or event.get("team") or ""),
            user_id=str(event["user"]),
            channel_id=channel,
            client=client,
            reply=post_in_dm,
            in_bot_dm=True,
        )
        answer_command(services, parse_dm_text(str(event.get("text") or ""), command), ctx, routes)


def typed_to_bot(event: dict[str, Any], *, bot_user_id: str | None) -> bool:
    """A person's own new message in their DM with the bot: not an edit, a join or a bot's post."""
    user = event.get("user")
    return (
        event.get("channel_type") == "im"
        and not event.get("subtype")
        and not event.get("bot_id")
        and isinstance(user, str)
        and is_user_id(user)
        and user != bot_user_id
        and bool(event.get("channel"))
    )
