"""What claims hand to the Slack surface: outcomes, the claim as messages show it, the claimant's
Slack identity, and the ClaimNotifier port (what ClaimService asks of Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from services.research.profiles import Lookup, Profile
from services.workspaces.members import Viewer


@dataclass(frozen=True)
class SlackIdentity:
    """What Slack says about a member (`users.info`), read by the handler for the person acting."""

    real_name: str | None = None
    email: str | None = None
    # is_admin or is_owner, and neither deleted nor a bot.
    is_admin: bool = False


@dataclass(frozen=True)
class ClaimView:
    """A claim as messages show it."""

    id: int
    status: str
    method: str | None
    researcher_id: int
    researcher_name: str
    claimant: Viewer
    decided_by: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class ClaimReview:
    """What an admin is asked to decide: the claim, the card, and why it was not automatic."""

    claim: ClaimView
    profile: Profile
    reason: str
    email_domain: str | None


ClaimStatus = Literal["approved", "pending", "already_yours", "taken", "has_other", "gone"]


@dataclass(frozen=True)
class ClaimOutcome:
    """What `/peer claim` or the Claim button did, with the card as the claimant now sees it."""

    status: ClaimStatus
    researcher_id: int
    name: str = ""
    claim: ClaimView | None = None
    profile: Profile | None = None
    # has_other: the profile the member already claimed.
    other_name: str | None = None
    # pending: why an admin must decide, and how many admins (or review channels) were asked.
    reason: str | None = None
    reviewers: int = 0


@dataclass(frozen=True)
class ClaimQueryOutcome:
    lookup: Lookup
    outcome: ClaimOutcome | None = None


DecisionStatus = Literal[
    "approved",
    "rejected",
    "revoked",
    "not_admin",
    "other_workspace",
    "own_claim",
    "not_pending",
    "not_approved",
    "gone",
]


# `decided_by` of a claim an operator decided with `bzpeer claims approve|reject` (no Slack user).
OPERATOR = "operator"


@dataclass(frozen=True)
class Reviewer:
    """The admin acting: the presser's Slack ids and whether users.info says they administer it;
    or the operator at the command line, who may decide any workspace's claims."""

    viewer: Viewer
    is_admin: bool
    operator: bool = False


OPERATOR_REVIEWER = Reviewer(viewer=Viewer(team_id="", user_id=OPERATOR), is_admin=True, operator=True)


@dataclass(frozen=True)
class DecisionOutcome:
    status: DecisionStatus
    claim: ClaimView | None = None
    # Whether the claimant was told by DM (approved, rejected, revoked).
    claimant_told: bool = False


@dataclass(frozen=True)
class RevokeQueryOutcome:
    lookup: Lookup
    outcome: DecisionOutcome | None = None


@dataclass(frozen=True)
class UnclaimOutcome:
    status: Literal["withdrawn", "none"]
    claim: ClaimView | None = None
    profile: Profile | None = None


EditStatus = Literal["saved", "not_claimant", "gone", "invalid"]


@dataclass(frozen=True)
class EditOutcome:
    status: EditStatus
    profile: Profile | None = None
    problem: str | None = None


class ClaimNotifier(Protocol):
    """The sending side of claims (Slack DMs or a review channel)."""

    def request_review(self, review: ClaimReview) -> int:
        """Ask the claimant's workspace admins to approve or reject; how many were asked."""
        ...

    def tell_claimant(self, claim: ClaimView) -> None:
        """DM the claimant the decision; MessageNotDelivered when that fails."""
        ...
