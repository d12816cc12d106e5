"""The Slack side of the claim and invitation ports, and `WorkspaceClients`: the one place that
decides which Web API client talks to a given workspace (SLACK_BOT_TOKEN for every team in
single-workspace mode; the workspace's own stored token with OAuth)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app import SLACK_TIMEOUT, web_client
from bot.settings import Settings
from bot.slack_sender import INVITATION_EVENT, HistoryInconclusive, bot_token_for, find_keyed, post_keyed
from handlers.blocks import Reply
from handlers.collaboration.claim_blocks import claimant_dm, orcid_verified_dm, review_message
from handlers.collaboration.invitation_blocks import (
    SlackContact,
    answered_message,
    check_back_message,
    contacts_dm,
    conversation_started,
    declined_dm,
    intro_message,
    undelivered_dm,
)
from services.collaboration.claim_types import ClaimReview, ClaimView
from services.collaboration.invitation_types import InvitationView, PostedMessage
from services.research.profiles import Profile
from services.slack_requests.sending import MessageNotDelivered
from services.workspaces.members import Viewer

log = logging.getLogger("bzpeer.collaboration")

TokenLookup = Callable[[str], str | None]
# Admins asked to review one claim, and users.list pages read to find them (200 users a page).
MAX_REVIEWERS = 10
MAX_USER_PAGES = 20


class WorkspaceClients:
    """Which Web API client talks to workspace X: one client per token, Retry-After honoured."""

    def __init__(
        self, settings: Settings, *, token_for: TokenLookup | None = None, timeout: int = SLACK_TIMEOUT
    ) -> None:
        self._settings = settings
        self._token_for = token_for or (lambda team_id: bot_token_for(settings, team_id))
        self._timeout = timeout
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def client(self, team_id: str) -> WebClient | None:
        """The workspace's client, or None when the bot has no token there (not installed)."""
        token = self._token_for(team_id)
        if not token:
            return None
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = self._clients[token] = web_client(self._settings, token, timeout=self._timeout)
            return client

    def require(self, team_id: str) -> WebClient:
        """The workspace's client; MessageNotDelivered when the bot is not installed there."""
        client = self.client(team_id)
        if client is None:
            raise MessageNotDelivered(f"no bot token for workspace {team_id}")
        return client


@contextmanager
def delivering(what: str) -> Iterator[None]:
    """Turn Slack's failures (API errors, rate limits past the retries, network) into the port's."""
    try:
        yield
    except SlackApiError as error:
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        raise MessageNotDelivered(f"{what}: {code or error.response.status_code}") from error
    except (SlackClientError, URLError, TimeoutError, OSError) as error:
        raise MessageNotDelivered(f"{what}: Slack could not be reached ({type(error).__name__})") from error


def send_dm(client: WebClient, user_id: str, reply: Reply) -> PostedMessage:
    """Open (or reuse) the bot's DM with a user and post there."""
    with delivering("DM"):
        opened = client.conversations_open(users=user_id)
        channel = str(opened["channel"]["id"])
        posted = client.chat_postMessage(
            channel=channel, unfurl_links=False, unfurl_media=False, **reply.payload()
        )
    return PostedMessage(channel=str(posted.get("channel") or channel), ts=str(posted["ts"]))


class SlackClaimNotifier:
    """Claim reviews go to the review channel when configured (and reachable), else by DM to
    the workspace's admins and owners; decisions go to the claimant by DM."""

    def __init__(
        self,
        clients: WorkspaceClients,
        *,
        command: str,
        review_channel: str | None = None,
        orcid_link: Callable[[int, Viewer], str | None] | None = None,
    ) -> None:
        self._clients = clients
        self._command = command
        self._review_channel = review_channel
        self._orcid_link = orcid_link

    def request_review(self, review: ClaimReview) -> int:
        client = self._clients.require(review.claim.claimant.team_id)
        reply = review_message(review)
        if self._review_channel:
            try:
                with delivering("review channel"):
                    client.chat_postMessage(
                        channel=self._review_channel, unfurl_links=False, **reply.payload()
                    )
                return 1
            except MessageNotDelivered as error:
                # In a multi-workspace install the channel lives in one workspace only.
                log.info("claim %s: %s; asking admins by DM", review.claim.id, error)
        asked = 0
        claimant = review.claim.claimant
        for admin in self._admins(client, team_id=claimant.team_id, exclude=claimant.user_id)[:MAX_REVIEWERS]:
            try:
                send_dm(client, admin, reply)
                asked += 1
            except MessageNotDelivered as error:
                log.warning("claim %s: admin %s not reached (%s)", review.claim.id, admin, error)
        return asked

    def tell_claimant(self, claim: ClaimView) -> None:
        client = self._clients.require(claim.claimant.team_id)
        # An approved claim's DM offers the claimant ORCID sign-in (Verification L3).
        verify_url = (
            self._orcid_link(claim.id, claim.claimant)
            if self._orcid_link and claim.status == "approved"
            else None
        )
        send_dm(client, claim.claimant.user_id, claimant_dm(claim, self._command, verify_url=verify_url))

    def tell_verified(self, viewer: Viewer, profile: Profile) -> None:
        client = self._clients.require(viewer.team_id)
        send_dm(client, viewer.user_id, orcid_verified_dm(profile))

    @staticmethod
    def _admins(client: WebClient, *, team_id: str, exclude: str) -> list[str]:
        found: list[str] = []
        cursor: str | None = None
        with delivering("users.list"):
            for _ in range(MAX_USER_PAGES):
                response = client.users_list(limit=200, cursor=cursor)
                for user in response.get("members") or []:
                    active = not user.get("deleted") and not user.get("is_bot") and user.get("id") != exclude
                    # On Enterprise Grid users.list spans the org: only this workspace's admins decide.
                    active = active and user.get("team_id", team_id) == team_id
                    if active and (user.get("is_admin") or user.get("is_owner")) and user.get("id"):
                        found.append(str(user["id"]))
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        return found


class SlackInvitationSender:
    """Invitations in Slack: a group DM inside one workspace, DMs across workspaces."""

    def __init__(self, clients: WorkspaceClients) -> None:
        self._clients = clients
        self._workspaces: dict[str, str | None] = {}

    def send_invitation(self, invitation: InvitationView) -> PostedMessage:
        inviter = invitation.inviter.viewer
        client = self._clients.require(invitation.invitee.viewer.team_id)
        if invitation.cross_workspace:
            reply = intro_message(invitation, inviter=self._contact(inviter, with_email=False))
        else:
            reply = intro_message(invitation)
        with delivering("invitation"):
            channel = invitation.channel_id or self._open_intro_conversation(client, invitation)
            # OutcomeUnknown passes through: the intro may be posted, and is looked up by key.
            posted = post_keyed(
                client, channel, reply, event_type=INVITATION_EVENT, key=invitation.delivery_key
            )
        return PostedMessage(*posted)

    def find_invitation(self, invitation: InvitationView, *, after: datetime) -> PostedMessage | None:
        # Reading the group DM's history needs mpim:history; the invitee's DM's, im:history.
        client = self._clients.require(invitation.invitee.viewer.team_id)
        with delivering("conversations.history"):
            channel = invitation.channel_id or self._open_intro_conversation(client, invitation)
            try:
                ts = find_keyed(
                    client,
                    channel,
                    event_type=INVITATION_EVENT,
                    key=invitation.delivery_key,
                    after=after,
                    before=None,
                )
            except HistoryInconclusive as error:
                raise MessageNotDelivered(f"conversations.history: {error}") from error
        return PostedMessage(channel=channel, ts=ts) if ts else None

    def _tell_inviter(self, invitation: InvitationView, message: Callable[..., Reply]) -> None:
        """A DM to the inviter about the invitee, named by their profile or by Slack."""
        inviter, invitee = invitation.inviter.viewer, invitation.invitee.viewer
        profile = invitation.invitee.profile
        name = profile.name if profile else self._contact(invitee, with_email=False).name
        send_dm(
            self._clients.require(inviter.team_id), inviter.user_id, message(invitation, invitee_name=name)
        )

    def tell_undelivered(self, invitation: InvitationView) -> None:
        self._tell_inviter(invitation, undelivered_dm)

    @staticmethod
    def _open_intro_conversation(client: WebClient, invitation: InvitationView) -> str:
        """The group DM of inviter, invitee and bot; across workspaces, the invitee's DM.
        Opening it again gives the same conversation."""
        inviter, invitee = invitation.inviter.viewer, invitation.invitee.viewer
        users = invitee.user_id if invitation.cross_workspace else f"{inviter.user_id},{invitee.user_id}"
        return str(client.conversations_open(users=users)["channel"]["id"])

    def update_invitation(self, invitation: InvitationView) -> None:
        if not (invitation.channel_id and invitation.thread_ts):
            return
        # The intro lives in the invitee's workspace (the group DM, or the invitee's DM).
        client = self._clients.require(invitation.invitee.viewer.team_id)
        inviter = (
            self._contact(invitation.inviter.viewer, with_email=False) if invitation.cross_workspace else None
        )
        with delivering("chat.update"):
            client.chat_update(
                channel=invitation.channel_id,
                ts=invitation.thread_ts,
                **answered_message(invitation, inviter=inviter).payload(),
            )

    def start_conversation(self, invitation: InvitationView) -> None:
        self._in_thread(invitation, conversation_started(invitation))

    def exchange_contacts(self, invitation: InvitationView) -> None:
        inviter, invitee = invitation.inviter.viewer, invitation.invitee.viewer
        inviter_contact = self._contact(inviter, with_email=True)
        invitee_contact = self._contact(invitee, with_email=True)
        send_dm(
            self._clients.require(inviter.team_id),
            inviter.user_id,
            contacts_dm(invitation, invitee_contact, you_invited=True),
        )
        send_dm(
            self._clients.require(invitee.team_id),
            invitee.user_id,
            contacts_dm(invitation, inviter_contact, you_invited=False),
        )

    def tell_declined(self, invitation: InvitationView) -> None:
        self._tell_inviter(invitation, declined_dm)

    def thread_is_quiet(self, invitation: InvitationView) -> bool | None:
        if not (invitation.channel_id and invitation.thread_ts):
            return None
        client = self._clients.require(invitation.invitee.viewer.team_id)
        try:
            with delivering("conversations.replies"):
                response = client.conversations_replies(
                    channel=invitation.channel_id, ts=invitation.thread_ts, limit=50
                )
        except MessageNotDelivered as error:
            log.info("invitation %s: thread not readable (%s)", invitation.id, error)
            return None
        people = [
            message
            for message in response.get("messages") or []
            if message.get("ts") != invitation.thread_ts and message.get("user") and not message.get("bot_id")
        ]
        return not people

    def send_check_back(self, invitation: InvitationView) -> None:
        self._in_thread(invitation, check_back_message(invitation))

    # -----------------------------------------------------------------------------------------

    def _in_thread(self, invitation: InvitationView, reply: Reply) -> None:
        if not (invitation.channel_id and invitation.thread_ts):
            raise MessageNotDelivered("the invitation has no thread")
        client = self._clients.require(invitation.invitee.viewer.team_id)
        with delivering("thread reply"):
            client.chat_postMessage(
                channel=invitation.channel_id,
                thread_ts=invitation.thread_ts,
                unfurl_links=False,
                **reply.payload(),
            )

    def _contact(self, viewer: Viewer, *, with_email: bool) -> SlackContact:
        """Someone's Slack name (and e-mail, when visible) and workspace name, as their own
        workspace's token sees them; only these ever cross to another workspace."""
        client = self._clients.client(viewer.team_id)
        name, email = "A researcher", None
        if client is not None:
            try:
                user: dict[str, Any] = client.users_info(user=viewer.user_id).get("user") or {}
                profile = user.get("profile") or {}
                name = str(
                    profile.get("real_name") or user.get("real_name") or profile.get("display_name") or name
                )
                email = profile.get("email") if with_email else None
            except (SlackClientError, OSError) as error:
                log.info("users.info for %s/%s failed (%s)", viewer.team_id, viewer.user_id, error)
        return SlackContact(name=name, workspace=self._workspace(viewer.team_id, client), email=email)

    def _workspace(self, team_id: str, client: WebClient | None) -> str | None:
        if team_id not in self._workspaces and client is not None:
            try:
                self._workspaces[team_id] = str(client.auth_test().get("team") or "") or None
            except (SlackClientError, OSError):
                return None
        return self._workspaces.get(team_id)
