"""The digest's sending port (what DigestService asks of Slack) and a delivery cycle's report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.digests.compose import DigestView
from services.store.text import plural


@dataclass(frozen=True)
class SentMessage:
    channel: str
    ts: str


class RecipientGone(Exception):
    """The member cannot be reached (left the workspace, deactivated, blocked the bot)."""


class TemporaryFailure(Exception):
    """Nothing was sent, or nothing could be read, for now (a rate limit, 5xx, Slack
    unreachable); try later. A rate limit says how long its workspace waits (Retry-After, s)."""

    def __init__(self, message: str, *, rate_limited: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.rate_limited = rate_limited
        self.retry_after = retry_after


class HistoryUnclear(TemporaryFailure):
    """The DM's history was read but cannot tell whether the message is there (more messages
    around the attempt than one read returns): that DM's business, not its workspace's."""


class DigestSender(Protocol):
    def fit(self, digest: DigestView) -> DigestView:
        """The leading part of the digest one message shows in full (never empty when the
        digest is not), with what it leaves out counted in `held_items` / `held_researchers`."""
        ...

    def send(self, *, team_id: str, user_id: str, digest: DigestView, key: str) -> SentMessage:
        """Deliver one message carrying `key`, as a DM (or, for a channel feed, into the channel
        `user_id` names); raise RecipientGone, TemporaryFailure (nothing posted) or
        OutcomeUnknown (posted perhaps: no answer came)."""
        ...

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
        """The message carrying `key` posted between `after` and `before` in the member's DM
        (`channel`, or their DM with the bot when None), or None when it is not there; raise
        RecipientGone, TemporaryFailure when the workspace's history cannot be read now, or
        HistoryUnclear when this DM's cannot tell."""
        ...


@dataclass
class DeliveryReport:
    """What one delivery cycle did."""

    members_due: int = 0
    messages_sent: int = 0
    items_sent: int = 0
    members_parked: int = 0
    items_parked: int = 0
    failures: int = 0
    # Workspaces that answered 429, and due members left for a later cycle because of it.
    rate_limited_teams: set[str] = field(default_factory=set)
    held_back: int = 0
    expired_claims: int = 0
    # Posts Slack never answered (this cycle), and earlier ones settled by looking them up.
    unconfirmed: int = 0
    confirmed: int = 0
    not_posted: int = 0
    still_unconfirmed: int = 0
    parked_member_ids: list[int] = field(default_factory=list)

    @property
    def rate_limited(self) -> bool:
        """Did Slack rate-limit any workspace this cycle?"""
        return bool(self.rate_limited_teams)

    @property
    def quiet(self) -> bool:
        """Nothing was due and nothing waited: not worth a log line."""
        waited = self.expired_claims or self.confirmed or self.not_posted or self.still_unconfirmed
        return not (self.members_due or waited)

    def summary(self) -> str:
        """One line for logs and the command line."""
        line = (
            f"Digest: {plural(self.messages_sent, 'message')} sent "
            f"({plural(self.items_sent, 'item')}) to {plural(self.members_due, 'due member')}; "
            f"{self.members_parked} parked, "
            f"{self.failures} failed (retried next cycle)"
        )
        if self.unconfirmed:
            line += f"; {self.unconfirmed} not confirmed by Slack (looked up before any resend)"
        if self.confirmed or self.not_posted:
            line += (
                f"; earlier unconfirmed messages: {self.confirmed} found in Slack, "
                f"{self.not_posted} not posted (sent again)"
            )
        if self.still_unconfirmed:
            line += f"; {self.still_unconfirmed} still waiting for a readable history"
        if self.rate_limited:
            line += f"; Slack rate-limited {plural(len(self.rate_limited_teams), 'workspace')}"
        if self.held_back:
            line += f"; {plural(self.held_back, 'due member')} left for a later cycle (Slack rate limit)"
        return line + "."


def new_key() -> str:
    """A fresh message key: what the message carries as Slack metadata, and its rows in the ledger."""
    return uuid.uuid4().hex
