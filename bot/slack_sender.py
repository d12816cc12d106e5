"""The Slack side of the digest port (conversations.open + chat.postMessage, errors made typed;
a channel's feed is posted straight into the channel), and the keyed post and look-up that
digests and invitations share (services/slack_requests/sending.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.metadata import Metadata

from bot.app import SLACK_TIMEOUT, web_client
from bot.settings import Settings
from handlers.blocks import Reply
from handlers.digests.channel_post_blocks import channel_post, fit_channel_post
from handlers.digests.digest_blocks import digest_message, fit_digest
from services.digests.compose import DigestView
from services.digests.port import HistoryUnclear, RecipientGone, SentMessage, TemporaryFailure
from services.slack_requests.sending import OutcomeUnknown

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

# The metadata event types of our keyed messages (alphanumeric and underscores, as Slack wants).
DIGEST_EVENT = "bzpeer_digest"
INVITATION_EVENT = "bzpeer_invitation"
# conversations.history gives apps outside the Marketplace at most 15 messages a call (Tier 1).
HISTORY_LIMIT = 15


class HistoryInconclusive(Exception):
    """More messages in the window than one history read returns, and the key not among them."""


def post_keyed(
    client: WebClient, channel: str, reply: Reply, *, event_type: str, key: str
) -> tuple[str, str]:
    """chat.postMessage carrying `key` as message metadata; the (channel, ts) Slack answered.

    OutcomeUnknown when the request went out and no answer came back (a timeout, a connection
    dropped mid-answer): Slack may have posted it. A URLError means it never left this machine.
    """
    try:
        posted = client.chat_postMessage(
            channel=channel,
            unfurl_links=False,
            unfurl_media=False,
            metadata=Metadata(event_type=event_type, event_payload={"key": key}),
            **reply.payload(),
        )
    except URLError:
        raise
    except (OSError, HTTPException) as error:
        raise OutcomeUnknown(f"no answer from Slack ({type(error).__name__})", channel=channel) from error
    return str(posted.get("channel") or channel), str(posted["ts"])


def find_keyed(
    client: WebClient, channel: str, *, event_type: str, key: str, after: datetime, before: datetime | None
) -> str | None:
    """The ts of the message carrying `key` in the channel between `after` and `before`, or None.

    One history read (Tier 1: a second one would only be rate limited): when the window holds
    more than a page and the key is not on it, raises HistoryInconclusive rather than guess.
    """
    response = client.conversations_history(
        channel=channel,
        oldest=_slack_ts(after),
        latest=_slack_ts(before) if before else None,
        limit=HISTORY_LIMIT,
        include_all_metadata=True,
    )
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == event_type and payload.get("key") == key:
            return str(message["ts"])
    if response.get("has_more"):
        raise HistoryInconclusive(f"more than {HISTORY_LIMIT} messages since the attempt")
    return None


def _slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def bot_token_for(settings: Settings, team_id: str) -> str | None:
    """The bot token for a workspace. Single-workspace for now: SLACK_BOT_TOKEN for every team.

    The multi-workspace install replaces this with a look-up in the installation store.
    """
    del team_id
    return settings.slack_bot_token


class SlackDigestSender:
    """Sends a digest as a DM from the bot; one WebClient per token, Retry-After honoured."""

    def __init__(
        self,
        settings: Settings,
        *,
        token_for: TokenLookup | None = None,
        command: str | None = None,
        timeout: int = SLACK_TIMEOUT,
    ) -> None:
        self._settings = settings
        self._token_for = token_for or (lambda team_id: bot_token_for(settings, team_id))
        self._command = command or settings.bzpeer_command
        self._timeout = timeout
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def _client(self, team_id: str) -> WebClient:
        token = self._token_for(team_id)
        if not token:
            raise TemporaryFailure(f"no bot token for workspace {team_id}")
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                # A 429 fails the call at once: DigestService waits out its Retry-After for that
                # workspace alone, where sleeping here would hold up every other workspace too.
                client = self._clients[token] = web_client(
                    self._settings, token, timeout=self._timeout, wait_on_429=False
                )
            return client

    def fit(self, digest: DigestView) -> DigestView:
        """The part of the digest one DM (or a channel's one post) holds (Block Kit's limits)."""
        return fit_channel_post(digest) if digest.is_channel else fit_digest(digest)

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        """Post the digest to the member's DM with the bot, opening it when we know no channel;
        a channel's feed goes into the channel (chat:write, or chat:write.public unjoined).
        A channel the bot cannot post in (not_in_channel, channel_not_found, is_archived) is
        RecipientGone: its rows are parked, and the delivery job logs it."""
        client = self._client(team_id)
        if digest.is_channel:
            reply = channel_post(digest, command=self._command)
        else:
            reply = digest_message(digest, command=self._command)

        def post(channel: str) -> SentMessage:
            return SentMessage(*post_keyed(client, channel, reply, event_type=DIGEST_EVENT, key=key))

        try:
            if digest.is_channel:
                return post(user_id)
            if digest.dm_channel:
                # The DM of an earlier digest: saves a conversations.open (Tier 3, ~50/min).
                try:
                    return post(digest.dm_channel)
                except SlackApiError as error:
                    if _code(error) not in STALE_CHANNEL:
                        raise
            return post(str(client.conversations_open(users=user_id)["channel"]["id"]))
        except SlackApiError as error:
            raise _classify(error) from error
        except (SlackClientError, OSError) as error:
            # Before the post, or a post that never reached Slack: nothing was sent.
            raise TemporaryFailure(f"Slack could not be reached ({type(error).__name__})") from error

    def find(
        self,
        *,
        team_id: str,
        user_id: str,
        channel: str | None,
        key: str,
        after: datetime,
        before: datetime,
    ) -> SentMessage | None:
        """Look for the digest carrying `key` in the member's DM (needs im:history), or in the
        channel a feed posts to (channels:history, groups:history)."""
        client = self._client(team_id)
        try:
            if is_channel_id(user_id):
                channel = user_id
                ts = _find_in_channel(client, channel, key=key, after=after, before=before)
            else:
                if channel is None:
                    # The sender died before it learnt the DM; opening it again gives the same one.
                    channel = str(client.conversations_open(users=user_id)["channel"]["id"])
                ts = find_keyed(client, channel, event_type=DIGEST_EVENT, key=key, after=after, before=before)
        except SlackApiError as error:
            raise _classify(error) from error
        except HistoryInconclusive as error:
            raise HistoryUnclear(f"the DM's history cannot tell: {error}") from error
        except (SlackClientError, OSError) as error:
            raise TemporaryFailure(f"Slack could not be reached ({type(error).__name__})") from error
        return SentMessage(channel, ts) if ts else None


def _find_in_channel(
    client: WebClient, channel: str, *, key: str, after: datetime, before: datetime
) -> str | None:
    """find_keyed in a channel feed's channel. Slack shows a channel's history only to members,
    and a public channel's feed is posted with chat:write.public without joining: on
    not_in_channel the bot joins (channels:join) and reads again. Where it cannot join (a private
    channel it was removed from) the first refusal stands, and the rows are parked."""
    try:
        return find_keyed(client, channel, event_type=DIGEST_EVENT, key=key, after=after, before=before)
    except SlackApiError as refused:
        if _code(refused) != "not_in_channel":
            raise
        try:
            client.conversations_join(channel=channel)
        except SlackApiError:
            raise refused from None
    return find_keyed(client, channel, event_type=DIGEST_EVENT, key=key, after=after, before=before)


def is_channel_id(conversation_id: str) -> bool:
    """A channel's id (public C…, private G… or C…), as a channel feed's member row holds it;
    people's ids start with U or W."""
    return conversation_id.startswith(("C", "G"))


def _code(error: SlackApiError) -> str:
    data = error.response.data
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _seconds(value: object) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


def _classify(error: SlackApiError) -> Exception:
    response = error.response
    status = response.status_code
    code = _code(error)
    if code in RECIPIENT_GONE:
        return RecipientGone(code)
    if status == 429 or code == "ratelimited":
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return TemporaryFailure(
            f"Slack rate limit (Retry-After: {retry_after or 'none'})",
            rate_limited=True,
            retry_after=_seconds(retry_after),
        )
    if status >= 500:
        # Slack answered, so the call ended there: an outage's 5xx are not looked up one by one.
        return TemporaryFailure(f"Slack answered HTTP {status} ({code or 'no error code'})")
    # Anything else (invalid_auth, missing_scope, invalid_blocks…) is our side or the install's:
    # keep the rows waiting and say so loudly; MAX_ATTEMPTS parks them if it never clears.
    log.error("Slack refused a digest call: %s (HTTP %s)", code or "unknown error", status)
    return TemporaryFailure(f"Slack refused the call: {code or f'HTTP {status}'}")
