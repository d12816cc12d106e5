"""The Slack side of the digest port: conversations.open + chat.postMessage, errors made typed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import web_client
from bot.settings import Settings
from handlers.blocks.common import Reply
from handlers.blocks.digest import digest_message
from services.digests import DigestView, RecipientGone, SentMessage, TemporaryFailure

log = logging.getLogger(__name__)

# The member cannot be reached: they left, were deactivated, or the DM is closed to the bot.
# Retrying would fail the same way, so the rows are parked.
RECIPIENT_GONE = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "messages_tab_disabled",
    }
)

# A remembered DM channel that no longer works: open the DM afresh before giving up.
STALE_CHANNEL = frozenset({"channel_not_found", "is_archived", "not_in_channel"})

TokenLookup = Callable[[str], str | None]


def bot_token_for(settings: Settings, team_id: str) -> str | None:
    """The bot token for a workspace. Single-workspace for now: SLACK_BOT_TOKEN for every team.

    The multi-workspace install replaces this with a look-up in the installation store.
    """
    del team_id
    return settings.slack_bot_token


class SlackDigestSender:
    """Sends a digest as a DM from the bot; one WebClient per token, Retry-After honoured."""

    def __init__(
        self, settings: Settings, *, token_for: TokenLookup | None = None, command: str | None = None
    ) -> None:
        self._settings = settings
        self._token_for = token_for or (lambda team_id: bot_token_for(settings, team_id))
        self._command = command or settings.bzpeer_command
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def _client(self, token: str) -> WebClient:
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                # web_client retries a 429 after a short Retry-After; a long one fails the send now.
                client = self._clients[token] = web_client(self._settings, token)
            return client

    def send(self, *, team_id: str, user_id: str, digest: DigestView) -> SentMessage:
        """Post the digest to the member's DM with the bot, opening it when we know no channel."""
        token = self._token_for(team_id)
        if not token:
            raise TemporaryFailure(f"no bot token for workspace {team_id}")
        client = self._client(token)
        reply = digest_message(digest, command=self._command)
        try:
            if digest.dm_channel:
                # The DM of an earlier digest: saves a conversations.open (Tier 3, ~50/min).
                try:
                    return _post(client, digest.dm_channel, reply)
                except SlackApiError as error:
                    if _code(error) not in STALE_CHANNEL:
                        raise
            opened = client.conversations_open(users=user_id)
            return _post(client, str(opened["channel"]["id"]), reply)
        except SlackApiError as error:
            raise _classify(error) from error
        except (SlackClientError, URLError, TimeoutError, OSError) as error:
            raise TemporaryFailure(f"Slack could not be reached ({type(error).__name__})") from error


def _post(client: WebClient, channel: str, reply: Reply) -> SentMessage:
    posted = client.chat_postMessage(
        channel=channel, unfurl_links=False, unfurl_media=False, **reply.payload()
    )
    return SentMessage(channel=str(posted.get("channel") or channel), ts=str(posted["ts"]))


def _code(error: SlackApiError) -> str:
    data = error.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _classify(error: SlackApiError) -> Exception:
    response = error.response
    status = response.status_code
    code = _code(error)
    if code in RECIPIENT_GONE:
        return RecipientGone(code)
    if status == 429 or code == "ratelimited":
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return TemporaryFailure(
            f"Slack rate limit outlived the retries (Retry-After: {retry_after or 'none'})",
            rate_limited=True,
        )
    if status >= 500:
        return TemporaryFailure(f"Slack answered HTTP {status} ({code or 'no error code'})")
    # Anything else (invalid_auth, missing_scope, invalid_blocks…) is our side or the install's:
    # keep the rows pending and say so loudly; MAX_ATTEMPTS parks them if it never clears.
    log.error("Slack refused a digest DM: %s (HTTP %s)", code or "unknown error", status)
    return TemporaryFailure(f"Slack refused the message: {code or f'HTTP {status}'}")
