"""What invitations hand to the Slack surface: checks, outcomes, the invitation as messages show it,
the Home tab's lists, the jobs' reports, and the InvitationSender port (what InvitationService
asks of Slack)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from services.collaboration.claim_types import ClaimView
from services.research.profiles import Lookup, Profile
from services.store.text import plural
from services.workspaces.members import Viewer

Refusal = Literal[
    "gone", "unclaimed", "pending_claim", "closed", "self", "muted", "pair_open", "limit", "cooldown"
]


@dataclass(frozen=True)
class AboutOption:
    """One of the inviter's own works or topics the invitation can be about."""

    value: str  # "w:<work id>" or "t:<topic id>"
    label: str
    kind: Literal["work", "topic"]


@dataclass(frozen=True)
class InviteCheck:
    """May the viewer invite this researcher now? `status` "ok" or the refusal."""

    status: Literal["ok"] | Refusal
    researcher_id: int
    name: str = ""
    profile: Profile | None = None
    about_options: tuple[AboutOption, ...] = ()
    open_count: int = 0
    # cooldown: when the pair may be invited again.
    until: datetime | None = None


@dataclass(frozen=True)
class InviteQueryCheck:
    lookup: Lookup
    check: InviteCheck | None = None


@dataclass(frozen=True)
class Party:
    """One side of an invitation: the Slack member and their claimed researcher's card, if any."""

    viewer: Viewer
    profile: Profile | None


@dataclass(frozen=True)
class InvitationView:
    """Everything a message about an invitation shows."""

    id: int
    status: str
    inviter: Party
    invitee: Party
    message: str
    about: str | None
    shared_topics: tuple[str, ...]
    shared_coauthors: tuple[str, ...]
    coauthored_works: int
    channel_id: str | None
    thread_ts: str | None
    created_at: datetime
    responded_at: datetime | None

    @property
    def cross_workspace(self) -> bool:
        """The invitee sits in another workspace than the inviter."""
        return self.inviter.viewer.team_id != self.invitee.viewer.team_id

    @property
    def delivery_key(self) -> str:
        """The intro's key (its Slack metadata), the same for every try of this invitation."""
        return f"invitation-{self.id}-{int(self.created_at.timestamp())}"


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class InvitationSender(Protocol):
    """The sending side of invitations. Each method raises MessageNotDelivered on failure."""

    def send_invitation(self, invitation: InvitationView) -> PostedMessage:
        """Same workspace: open the group DM and post the intro; else DM the invitee. The intro
        carries `invitation.delivery_key`; OutcomeUnknown when Slack never answered the post."""
        ...

    def find_invitation(self, invitation: InvitationView, *, after: datetime) -> PostedMessage | None:
        """The intro carrying the invitation's key, posted since `after`, or None when it is not
        there; MessageNotDelivered when the conversation's history cannot tell."""
        ...

    def tell_undelivered(self, invitation: InvitationView) -> None:
        """DM the inviter that the invitation Slack never confirmed could not be sent after all."""
        ...

    def update_invitation(self, invitation: InvitationView) -> None:
        """Show the invitation's new state in its message (the buttons go)."""
        ...

    def start_conversation(self, invitation: InvitationView) -> None:
        """Accepted in one workspace: say so in the thread, where they now talk."""
        ...

    def exchange_contacts(self, invitation: InvitationView) -> None:
        """Accepted across workspaces: DM each side the other's Slack name and e-mail."""
        ...

    def tell_declined(self, invitation: InvitationView) -> None:
        """DM the inviter, kindly, that the invitation was declined."""
        ...

    def thread_is_quiet(self, invitation: InvitationView) -> bool | None:
        """Nobody wrote in the thread yet (None: could not tell)."""
        ...

    def send_check_back(self, invitation: InvitationView) -> None:
        """Post the check-back in the thread."""
        ...


# "unconfirmed": Slack never answered the intro's post; kept and looked up (confirm_intros).
InviteStatus = Literal["sent", "unconfirmed", "failed"] | Refusal


@dataclass(frozen=True)
class InviteOutcome:
    status: InviteStatus
    check: InviteCheck
    invitation: InvitationView | None = None
    problem: str | None = None


AnswerKind = Literal["accept", "decline", "mute_person", "mute_all"]
AnswerStatus = Literal["accepted", "declined", "muted_person", "muted_all", "not_invitee", "already", "gone"]


@dataclass(frozen=True)
class AnswerOutcome:
    status: AnswerStatus
    invitation: InvitationView | None = None
    # Whether the follow-up messages (update, thread, DMs) all went out.
    delivered: bool = True


@dataclass(frozen=True)
class InvitationSummary:
    """One line of the Home tab's invitation lists."""

    id: int
    status: str
    other: Viewer
    other_name: str | None  # the other side's claimed researcher, when there is one
    cross_workspace: bool
    created_at: datetime
    responded_at: datetime | None


@dataclass(frozen=True)
class MutedPerson:
    member_id: int
    viewer: Viewer
    name: str | None
    cross_workspace: bool = False


@dataclass(frozen=True)
class InvitationHome:
    """The Home tab's collaboration section."""

    claim: ClaimView | None = None
    profile: Profile | None = None
    sent: tuple[InvitationSummary, ...] = ()
    received: tuple[InvitationSummary, ...] = ()
    open_sent: int = 0
    muted_all: bool = False
    muted: tuple[MutedPerson, ...] = ()


@dataclass
class IntroReport:
    """What one look-up of unconfirmed intros did."""

    confirmed: int = 0
    resent: int = 0
    dropped: int = 0
    waiting: int = 0

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"Invitation intros Slack had not confirmed: {self.confirmed} found posted, "
            f"{self.resent} sent again, {self.dropped} dropped (inviter told), {self.waiting} still waiting"
        )


@dataclass
class CheckBackReport:
    """What one check-back cycle did."""

    due: int = 0
    sent: int = 0
    talking: int = 0
    unknown: int = 0
    expired: int = 0

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"Invitations: {plural(self.sent, 'check-back')} sent, "
            f"{plural(self.talking, 'thread')} already talking, "
            f"{self.unknown} unknown, {self.expired} expired"
        )
