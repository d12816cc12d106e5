"""Invitations to collaborate (DESIGN §7): only to a researcher whose claim is approved and who
is open to collaborate; the conversation then happens in Slack, in a thread.

    open ──invitee Accept──▶ accepted        open ──invitee Decline / Mute──▶ declined
    open ──30 days without an answer──▶ expired (the scheduler job)

Limits and consent: at most OPEN_LIMIT open invitations per inviter, one open invitation per
pair (either direction), none to yourself, none to someone who muted you (or everyone), and
none again to someone who declined you within DECLINE_COOLDOWN. The checks run when the modal
opens and again, with both member rows locked, when it is submitted.

Same workspace: a group DM (inviter, invitee, bot) with the intro; the thread under it is the
conversation. Another workspace: a DM to the invitee in *their* workspace naming the inviter
and their workspace; on Accept both get the other's Slack name and e-mail in a DM. Everything
sent goes through the `InvitationSender` port.

The intro carries the invitation's key as Slack metadata. When Slack never answers the post
(services/slack_requests/sending.py) the invitation is kept, open, with no thread yet: the invitee's first
press on its buttons proves it was posted and settles it, and meanwhile `confirm_intros` (the
delivery job) looks the key up in the conversation: found → settled; not there → sent again
with the same key; Slack refusing it then → dropped, and the inviter told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, cast

from sqlalchemy import delete, func, or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from services.collaboration.claim_queries import (
    approved_claim_of,
    claim_view,
    find_live_claim,
    find_member_claim,
)
from services.collaboration.claim_types import ClaimView
from services.digests.schedule import as_utc
from services.research.collaborators import list_coauthor_counts, list_people, list_shared_topics
from services.research.profiles import Lookup, Profile, find_researcher, profile_card_data
from services.slack_requests.sending import CLOCK_SKEW, MessageNotDelivered, OutcomeUnknown
from services.store.engine import session_scope, write_retrying_once
from services.store.models import (
    Authorship,
    Invitation,
    InvitationMute,
    Member,
    Researcher,
    ResearcherTopic,
    Topic,
    Work,
    utcnow,
)
from services.workspaces.members import Viewer, find_member, get_or_create_member

log = logging.getLogger(__name__)

OPEN_LIMIT = 5
DECLINE_COOLDOWN = timedelta(days=30)
CHECK_BACK_AFTER = timedelta(days=7)
# An invitation nobody answered stops counting against the inviter's limit after this long.
EXPIRE_AFTER = timedelta(days=30)
MESSAGE_MAX = 1000
ABOUT_MAX = 512
ABOUT_WORKS = 40
ABOUT_TOPICS = 20
SHARED_SHOWN = 5
HOME_SHOWN = 5
CHECK_BACK_BATCH = 100
# An intro whose post Slack never answered is looked up once this long has passed since its
# last try (longer than any one send, Retry-After waits included): the claim on the look-up.
INTRO_LOOKUP_AFTER = timedelta(minutes=5)
INTRO_LOOKUP_BATCH = 50


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
_ANSWERED: dict[AnswerKind, AnswerStatus] = {
    "accept": "accepted",
    "decline": "declined",
    "mute_person": "muted_person",
    "mute_all": "muted_all",
}


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
            f"Invitations: {self.sent} check-back(s) sent, {self.talking} thread(s) already talking, "
            f"{self.unknown} unknown, {self.expired} expired"
        )


class InvitationService:
    """Invitations, their answers and check-backs; one transaction per public method."""

    def __init__(self, engine: Engine, sender: InvitationSender | None = None) -> None:
        self._engine = engine
        self._sender = sender

    @property
    def can_send(self) -> bool:
        return self._sender is not None

    def check(self, inviter: Viewer, researcher_id: int, *, now: datetime | None = None) -> InviteCheck:
        """Whether the viewer may invite the researcher now, and the modal's "about" choices."""
        at = now or utcnow()
        with Session(self._engine) as session:
            researcher = session.get(Researcher, researcher_id)
            return _check(session, inviter, researcher, researcher_id, at)[0]

    def check_query(self, inviter: Viewer, query: str, *, now: datetime | None = None) -> InviteQueryCheck:
        """`/peer invite QUERY`: resolve QUERY, then check as `check` does."""
        at = now or utcnow()
        with Session(self._engine) as session:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return InviteQueryCheck(found)
            return InviteQueryCheck(found, _check(session, inviter, researcher, researcher.id, at)[0])

    def invite(
        self,
        inviter: Viewer,
        researcher_id: int,
        *,
        message: str,
        about: str | None = None,
        now: datetime | None = None,
    ) -> InviteOutcome:
        """Check again, store the invitation and send it; nothing is kept if Slack refused it,
        and everything is if Slack may have posted it."""
        text = message.strip()
        if not text or len(text) > MESSAGE_MAX:
            raise ValueError(f"an invitation message has 1–{MESSAGE_MAX} characters")
        if self._sender is None:
            raise RuntimeError("no InvitationSender: invitations need a Slack bot token")
        at = now or utcnow()
        outcome = write_retrying_once(
            self._engine, lambda s: _create(s, inviter, researcher_id, text, about, at)
        )
        if outcome.invitation is None:
            return outcome
        invitation = outcome.invitation
        try:
            posted = self._sender.send_invitation(invitation)
        except OutcomeUnknown as unknown:
            # The intro (with its Accept button) may be in Slack: deleting the invitation would
            # leave that button answering "no longer in the store".
            self._set_intro(invitation.id, channel=unknown.channel, ts=None)
            log.warning("invitation %s: Slack did not answer the intro (%s); kept", invitation.id, unknown)
            kept = replace(invitation, channel_id=unknown.channel)
            return InviteOutcome("unconfirmed", outcome.check, kept)
        except MessageNotDelivered as error:
            with session_scope(self._engine) as session:
                session.execute(delete(Invitation).where(col(Invitation.id) == invitation.id))
            log.warning("invitation %s could not be sent (%s); dropped", invitation.id, error)
            return InviteOutcome("failed", outcome.check, problem=str(error))
        self._set_intro(invitation.id, channel=posted.channel, ts=posted.ts)
        sent = replace(invitation, channel_id=posted.channel, thread_ts=posted.ts)
        return InviteOutcome("sent", outcome.check, sent)

    def confirm_intros(self, *, now: datetime | None = None) -> IntroReport:
        """The delivery job: settle intros Slack never confirmed, sending again those it lacks."""
        at = now or utcnow()
        report = IntroReport()
        if self._sender is None:
            return report
        with Session(self._engine) as session:
            waiting = session.exec(
                select(Invitation)
                .where(
                    col(Invitation.status) == "open",
                    col(Invitation.thread_ts).is_(None),
                    col(Invitation.attempted_at) <= at - INTRO_LOOKUP_AFTER,
                )
                .order_by(col(Invitation.attempted_at))
                .limit(INTRO_LOOKUP_BATCH)
            ).all()
            claimed = [
                _view(session, invitation)
                for invitation in waiting
                if self._claim_intro(invitation.id, invitation.attempted_at, at)
            ]
        for view in claimed:
            self._confirm_intro(view, report)
        return report

    def answer(
        self,
        invitation_id: int,
        presser: Viewer,
        answer: AnswerKind,
        *,
        now: datetime | None = None,
        pressed_on: PostedMessage | None = None,
    ) -> AnswerOutcome:
        """Accept, decline or mute, by the invitee only; the message and the people follow.

        `pressed_on`: the message the button was pressed in (from the signed payload), which
        proves an intro Slack never confirmed was posted after all.
        """
        at = now or utcnow()
        outcome = write_retrying_once(
            self._engine, lambda s: _answer(s, invitation_id, presser, answer, at, pressed_on)
        )
        if outcome.invitation is None or outcome.status in ("not_invitee", "already", "gone"):
            return outcome
        view = outcome.invitation
        steps: list[Callable[[InvitationView], Any]] = []
        if self._sender is not None:
            steps.append(self._sender.update_invitation)
            if outcome.status == "accepted":
                steps.append(
                    self._sender.exchange_contacts
                    if view.cross_workspace
                    else self._sender.start_conversation
                )
            else:
                steps.append(self._sender.tell_declined)
        delivered = self._deliver(view, steps)
        return replace(outcome, delivered=delivered)

    def unmute(self, viewer: Viewer, muted_member_id: int | None) -> bool:
        """Take invitations again from one member (None: from everyone); False if nothing changed."""

        def work(session: Session) -> bool:
            member = find_member(session=session, viewer=viewer)
            if member is None or member.id is None:
                return False
            if muted_member_id is None:
                changed = member.mute_all_invitations
                member.mute_all_invitations = False
                session.add(member)
                return changed
            result = session.execute(
                delete(InvitationMute).where(
                    col(InvitationMute.member_id) == member.id,
                    col(InvitationMute.muted_member_id) == muted_member_id,
                )
            )
            return _rowcount(result) > 0

        return write_retrying_once(self._engine, work)

    def home(self, viewer: Viewer, *, now: datetime | None = None) -> InvitationHome:
        """My claim, the invitations I sent and received, and whom I muted."""
        at = now or utcnow()
        with Session(self._engine) as session:
            member = find_member(session=session, viewer=viewer)
            if member is None or member.id is None:
                return InvitationHome()
            return _home(session, member, viewer, at)

    def check_back_due(self, *, now: datetime | None = None) -> list[InvitationView]:
        """Invitations whose thread is CHECK_BACK_AFTER old and was never checked back on."""
        at = now or utcnow()
        with Session(self._engine) as session:
            rows = session.exec(_due_query(at)).all()
            views = [_view(session, invitation) for invitation in rows]
        # Across workspaces the conversation leaves our thread once accepted.
        return [v for v in views if not (v.cross_workspace and v.status == "accepted")]

    def send_check_backs(self, *, now: datetime | None = None) -> CheckBackReport:
        """The scheduler job: expire stale invitations, then check back on quiet threads."""
        at = now or utcnow()
        report = CheckBackReport(expired=self._expire_stale(at))
        if self._sender is None:
            return report
        for view in self.check_back_due(now=at):
            report.due += 1
            if not self._mark_checked(view.id, at):
                continue  # another scheduler took it
            quiet = True if view.cross_workspace else self._quiet(view)
            if quiet is None:
                report.unknown += 1
                self._mark_checked(view.id, None)  # try again next cycle
            elif not quiet:
                report.talking += 1
            elif self._deliver(view, [self._sender.send_check_back]):
                report.sent += 1
        return report

    # -----------------------------------------------------------------------------------------

    def _quiet(self, view: InvitationView) -> bool | None:
        assert self._sender is not None
        try:
            return self._sender.thread_is_quiet(view)
        except MessageNotDelivered:
            return None

    def _set_intro(self, invitation_id: int, *, channel: str | None, ts: str | None) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                update(Invitation)
                .where(col(Invitation.id) == invitation_id, col(Invitation.thread_ts).is_(None))
                .values(channel_id=channel, thread_ts=ts)
            )

    def _claim_intro(self, invitation_id: int | None, tried_at: datetime | None, now: datetime) -> bool:
        # Compare-and-set on the last try's time: one process looks an intro up (and sends it
        # again) at a time, and the next look-up waits INTRO_LOOKUP_AFTER.
        with session_scope(self._engine) as session:
            result = session.execute(
                update(Invitation)
                .where(
                    col(Invitation.id) == invitation_id,
                    col(Invitation.attempted_at) == tried_at,
                    col(Invitation.thread_ts).is_(None),
                )
                .values(attempted_at=now)
            )
            return _rowcount(result) == 1

    def _confirm_intro(self, view: InvitationView, report: IntroReport) -> None:
        assert self._sender is not None
        try:
            # The same key on every try: any copy found settles it.
            found = self._sender.find_invitation(view, after=view.created_at - CLOCK_SKEW)
        except MessageNotDelivered as error:
            log.info("invitation %s: intro not looked up yet (%s)", view.id, error)
            report.waiting += 1  # never sent blind: the next cycle reads the history again
            return
        try:
            posted = found or self._sender.send_invitation(view)
        except OutcomeUnknown as unknown:
            self._set_intro(view.id, channel=unknown.channel or view.channel_id, ts=None)
            report.waiting += 1
            return
        except MessageNotDelivered as error:
            # The history showed no intro and Slack refused a new one: nothing was ever posted.
            unposted = (col(Invitation.id) == view.id, col(Invitation.thread_ts).is_(None))
            with session_scope(self._engine) as session:
                session.execute(delete(Invitation).where(*unposted))
            log.warning("invitation %s could not be sent after all (%s); dropped", view.id, error)
            self._deliver(view, [self._sender.tell_undelivered])
            report.dropped += 1
            return
        self._set_intro(view.id, channel=posted.channel, ts=posted.ts)
        if found:
            report.confirmed += 1
        else:
            report.resent += 1

    def _mark_checked(self, invitation_id: int, at: datetime | None) -> bool:
        # Compare-and-set so a second scheduler (or a retry) never checks back twice.
        with session_scope(self._engine) as session:
            expected = (
                col(Invitation.checked_back_at).is_(None)
                if at
                else col(Invitation.checked_back_at).is_not(None)
            )
            result = session.execute(
                update(Invitation)
                .where(col(Invitation.id) == invitation_id, expected)
                .values(checked_back_at=at)
            )
            return _rowcount(result) == 1

    def _expire_stale(self, now: datetime) -> int:
        with session_scope(self._engine) as session:
            stale = session.exec(
                select(Invitation).where(
                    col(Invitation.status) == "open", col(Invitation.created_at) <= now - EXPIRE_AFTER
                )
            ).all()
            expired: list[InvitationView] = []
            for invitation in stale:
                result = session.execute(
                    update(Invitation)
                    .where(col(Invitation.id) == invitation.id, col(Invitation.status) == "open")
                    .values(status="expired", responded_at=now)
                )
                if _rowcount(result):
                    session.refresh(invitation)
                    expired.append(_view(session, invitation))
        if self._sender is not None:
            for view in expired:
                self._deliver(view, [self._sender.update_invitation])
        return len(expired)

    @staticmethod
    def _deliver(view: InvitationView, steps: list[Callable[[InvitationView], Any]]) -> bool:
        delivered = True
        for step in steps:
            try:
                step(view)
            except MessageNotDelivered as error:
                log.warning("invitation %s: %s failed (%s)", view.id, getattr(step, "__name__", step), error)
                delivered = False
        return delivered


# ---------------------------------------------------------------------------------------------
# Query helpers (take a session, never commit)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _live_open(now: datetime) -> Any:
    return (col(Invitation.status) == "open", col(Invitation.created_at) > now - EXPIRE_AFTER)


def count_open_sent(*, session: Session, member_id: int, now: datetime) -> int:
    """Open (not yet expired) invitations a member sent."""
    return session.exec(
        select(func.count())
        .select_from(Invitation)
        .where(col(Invitation.inviter_member_id) == member_id, *_live_open(now))
    ).one()


def find_open_between(*, session: Session, a: int, b: int, now: datetime) -> Invitation | None:
    """An open invitation between two members, in either direction."""
    return session.exec(
        select(Invitation).where(
            or_(
                (col(Invitation.inviter_member_id) == a) & (col(Invitation.invitee_member_id) == b),
                (col(Invitation.inviter_member_id) == b) & (col(Invitation.invitee_member_id) == a),
            ),
            *_live_open(now),
        )
    ).first()


def last_declined(*, session: Session, inviter_id: int, invitee_id: int) -> datetime | None:
    """When the invitee last declined this inviter."""
    moment = session.exec(
        select(func.max(col(Invitation.responded_at))).where(
            col(Invitation.inviter_member_id) == inviter_id,
            col(Invitation.invitee_member_id) == invitee_id,
            col(Invitation.status) == "declined",
        )
    ).one()
    return as_utc(moment) if moment else None


def is_muted(*, session: Session, invitee: Member, inviter_id: int | None) -> bool:
    """The invitee takes no invitations at all, or none from this inviter."""
    if invitee.mute_all_invitations:
        return True
    if inviter_id is None:
        return False
    row = session.exec(
        select(col(InvitationMute.id)).where(
            col(InvitationMute.member_id) == invitee.id, col(InvitationMute.muted_member_id) == inviter_id
        )
    ).first()
    return row is not None


def list_about_options(*, session: Session, researcher_id: int) -> tuple[AboutOption, ...]:
    """The newest works and main topics of a researcher, as choices for "about"."""
    works = session.exec(
        # PostgreSQL's DISTINCT wants the ORDER BY columns selected, hence the year.
        select(col(Work.id), col(Work.title), col(Work.year))
        .join(Authorship, col(Authorship.work_id) == col(Work.id))
        .where(col(Authorship.researcher_id) == researcher_id)
        .distinct()
        .order_by(col(Work.year).desc().nulls_last(), col(Work.id).desc())
        .limit(ABOUT_WORKS)
    ).all()
    topics = session.exec(
        select(col(Topic.id), col(Topic.name))
        .join(ResearcherTopic, col(ResearcherTopic.topic_id) == col(Topic.id))
        .where(col(ResearcherTopic.researcher_id) == researcher_id)
        .order_by(col(ResearcherTopic.works).desc(), col(Topic.name))
        .limit(ABOUT_TOPICS)
    ).all()
    return tuple(
        [AboutOption(f"w:{wid}", title, "work") for wid, title, _year in works if wid is not None]
        + [AboutOption(f"t:{tid}", name, "topic") for tid, name in topics if tid is not None]
    )


def _about_label(options: tuple[AboutOption, ...], value: str | None) -> str | None:
    # Only one of the inviter's own works or topics: an edited option value is ignored.
    chosen = next((option for option in options if option.value == value), None)
    return chosen.label[:ABOUT_MAX] if chosen else None


def _check(
    session: Session, inviter: Viewer, researcher: Researcher | None, researcher_id: int, now: datetime
) -> tuple[InviteCheck, Member | None]:
    if researcher is None:
        return InviteCheck("gone", researcher_id), None
    profile = profile_card_data(session=session, researcher=researcher, viewer=inviter)

    def refuse(status: Refusal, **extra: Any) -> tuple[InviteCheck, Member | None]:
        return InviteCheck(status, researcher_id, researcher.name, profile, **extra), None

    claim = find_live_claim(session=session, researcher_id=researcher_id)
    if claim is None:
        return refuse("unclaimed")
    if claim.status != "approved":
        return refuse("pending_claim")
    invitee = session.get(Member, claim.member_id)
    if invitee is None or invitee.id is None:
        return refuse("unclaimed")
    member = find_member(session=session, viewer=inviter)
    if member is not None and member.id == invitee.id:
        return refuse("self")
    if not researcher.open_to_collaborate:
        return refuse("closed")
    inviter_id = member.id if member else None
    if is_muted(session=session, invitee=invitee, inviter_id=inviter_id):
        return refuse("muted")
    open_count = count_open_sent(session=session, member_id=inviter_id, now=now) if inviter_id else 0
    if inviter_id is not None:
        if find_open_between(session=session, a=inviter_id, b=invitee.id, now=now):
            return refuse("pair_open", open_count=open_count)
        declined = last_declined(session=session, inviter_id=inviter_id, invitee_id=invitee.id)
        if declined is not None and now - declined < DECLINE_COOLDOWN:
            return refuse("cooldown", until=declined + DECLINE_COOLDOWN, open_count=open_count)
        if open_count >= OPEN_LIMIT:
            return refuse("limit", open_count=open_count)
    own = approved_claim_of(session=session, viewer=inviter)
    options = list_about_options(session=session, researcher_id=own.researcher_id) if own else ()
    check = InviteCheck("ok", researcher_id, researcher.name, profile, options, open_count)
    return check, invitee


def _create(
    session: Session, inviter: Viewer, researcher_id: int, message: str, about: str | None, now: datetime
) -> InviteOutcome:
    member = get_or_create_member(session=session, viewer=inviter)
    claim = find_live_claim(session=session, researcher_id=researcher_id)
    # Lock both members (in id order, so two crossing invitations cannot deadlock): the limit
    # and pair checks below then see every invitation committed before this one (PostgreSQL;
    # SQLite serialises writers anyway).
    ids = sorted({i for i in (member.id, claim.member_id if claim else None) if i is not None})
    session.exec(
        select(Member).where(col(Member.id).in_(ids)).order_by(col(Member.id)).with_for_update()
    ).all()
    researcher = session.get(Researcher, researcher_id)
    check, invitee = _check(session, inviter, researcher, researcher_id, now)
    if check.status != "ok" or invitee is None or invitee.id is None or member.id is None:
        status = check.status if check.status != "ok" else "gone"
        return InviteOutcome(status, check)
    invitation = Invitation(
        inviter_member_id=member.id,
        invitee_member_id=invitee.id,
        researcher_id=researcher_id,
        message=message,
        about=_about_label(check.about_options, about),
        status="open",
        created_at=now,
        attempted_at=now,  # the intro goes out right after this commit
    )
    session.add(invitation)
    session.flush()
    return InviteOutcome("sent", check, _view(session, invitation))


def _answer(
    session: Session,
    invitation_id: int,
    presser: Viewer,
    answer: AnswerKind,
    now: datetime,
    pressed_on: PostedMessage | None,
) -> AnswerOutcome:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        return AnswerOutcome("gone")
    if pressed_on is not None and invitation.thread_ts is None:
        # Whoever pressed, a press on the intro proves Slack posted it: settle what it never confirmed.
        invitation.channel_id, invitation.thread_ts = pressed_on.channel, pressed_on.ts
        session.add(invitation)
        session.flush()
    invitee = session.get(Member, invitation.invitee_member_id)
    if invitee is None or (invitee.team_id, invitee.user_id) != (presser.team_id, presser.user_id):
        # Never say whose invitation it is, or change anything.
        return AnswerOutcome("not_invitee")
    if invitation.status != "open":
        return AnswerOutcome("already", _view(session, invitation))
    status = "accepted" if answer == "accept" else "declined"
    result = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.status) == "open")
        .values(status=status, responded_at=now)
    )
    if _rowcount(result) != 1:
        session.refresh(invitation)
        return AnswerOutcome("already", _view(session, invitation))
    if answer == "mute_all":
        invitee.mute_all_invitations = True
        session.add(invitee)
    elif answer == "mute_person" and not is_muted(
        session=session, invitee=invitee, inviter_id=invitation.inviter_member_id
    ):
        assert invitee.id is not None
        session.add(InvitationMute(member_id=invitee.id, muted_member_id=invitation.inviter_member_id))
    session.flush()
    session.refresh(invitation)
    return AnswerOutcome(_ANSWERED[answer], _view(session, invitation))


def _party(session: Session, member: Member, researcher: Researcher | None) -> Party:
    profile = profile_card_data(session=session, researcher=researcher) if researcher else None
    return Party(Viewer(team_id=member.team_id, user_id=member.user_id), profile)


def _view(session: Session, invitation: Invitation) -> InvitationView:
    inviter = session.get(Member, invitation.inviter_member_id)
    invitee = session.get(Member, invitation.invitee_member_id)
    assert inviter is not None and invitee is not None and invitation.id is not None
    own = find_member_claim(session=session, member_id=inviter.id) if inviter.id else None
    inviter_researcher = (
        session.get(Researcher, own.researcher_id) if own is not None and own.status == "approved" else None
    )
    invitee_researcher = session.get(Researcher, invitation.researcher_id)
    topics: tuple[str, ...] = ()
    coauthors: tuple[str, ...] = ()
    together = 0
    if inviter_researcher is not None and invitee_researcher is not None:
        a, b = inviter_researcher.id, invitee_researcher.id
        assert a is not None and b is not None
        topics = list_shared_topics(session=session, researcher_id=b, others=[a]).get(a, ())
        mine = list_coauthor_counts(session=session, researcher_id=a)
        theirs = list_coauthor_counts(session=session, researcher_id=b)
        together = mine.get(b, 0)
        shared = (set(mine) & set(theirs)) - {a, b}
        people = list_people(session=session, researcher_ids=shared)
        coauthors = tuple(sorted((p.name for p in people.values()), key=str.casefold))
    return InvitationView(
        id=invitation.id,
        status=invitation.status,
        inviter=_party(session, inviter, inviter_researcher),
        invitee=_party(session, invitee, invitee_researcher),
        message=invitation.message or "",
        about=invitation.about,
        shared_topics=topics[:SHARED_SHOWN],
        shared_coauthors=coauthors[:SHARED_SHOWN],
        coauthored_works=together,
        channel_id=invitation.channel_id,
        thread_ts=invitation.thread_ts,
        created_at=as_utc(invitation.created_at),
        responded_at=as_utc(invitation.responded_at) if invitation.responded_at else None,
    )


def _due_query(now: datetime) -> Any:
    return (
        select(Invitation)
        .where(
            col(Invitation.status).in_(("open", "accepted")),
            col(Invitation.channel_id).is_not(None),
            col(Invitation.thread_ts).is_not(None),
            col(Invitation.checked_back_at).is_(None),
            col(Invitation.created_at) <= now - CHECK_BACK_AFTER,
        )
        .order_by(col(Invitation.created_at), col(Invitation.id))
        .limit(CHECK_BACK_BATCH)
    )


def _summary(
    session: Session,
    invitation: Invitation,
    other: Member,
    other_name: str | None,
    viewer: Viewer,
    now: datetime,
) -> InvitationSummary:
    status = invitation.status
    if status == "open" and now - as_utc(invitation.created_at) >= EXPIRE_AFTER:
        status = "expired"
    assert invitation.id is not None
    return InvitationSummary(
        id=invitation.id,
        status=status,
        other=Viewer(team_id=other.team_id, user_id=other.user_id),
        other_name=other_name,
        cross_workspace=other.team_id != viewer.team_id,
        created_at=as_utc(invitation.created_at),
        responded_at=as_utc(invitation.responded_at) if invitation.responded_at else None,
    )


def _claimed_name(session: Session, member: Member) -> str | None:
    claim = find_member_claim(session=session, member_id=member.id) if member.id else None
    if claim is None or claim.status != "approved":
        return None
    researcher = session.get(Researcher, claim.researcher_id)
    return researcher.name if researcher else None


def _home(session: Session, member: Member, viewer: Viewer, now: datetime) -> InvitationHome:
    assert member.id is not None
    claim = find_member_claim(session=session, member_id=member.id)
    profile = None
    if claim is not None:
        researcher = session.get(Researcher, claim.researcher_id)
        profile = (
            profile_card_data(session=session, researcher=researcher, viewer=viewer) if researcher else None
        )
    newest = (col(Invitation.created_at).desc(), col(Invitation.id).desc())
    sent_rows = session.exec(
        select(Invitation, Member, Researcher)
        .join(Member, col(Member.id) == col(Invitation.invitee_member_id))
        .join(Researcher, col(Researcher.id) == col(Invitation.researcher_id))
        .where(col(Invitation.inviter_member_id) == member.id)
        .order_by(*newest)
        .limit(HOME_SHOWN)
    ).all()
    received_rows = session.exec(
        select(Invitation, Member)
        .join(Member, col(Member.id) == col(Invitation.inviter_member_id))
        .where(col(Invitation.invitee_member_id) == member.id)
        .order_by(*newest)
        .limit(HOME_SHOWN)
    ).all()
    mutes = session.exec(
        select(InvitationMute, Member)
        .join(Member, col(Member.id) == col(InvitationMute.muted_member_id))
        .where(col(InvitationMute.member_id) == member.id)
        .order_by(col(InvitationMute.created_at))
    ).all()
    return InvitationHome(
        claim=claim_view(session=session, claim=claim) if claim else None,
        profile=profile,
        sent=tuple(_summary(session, inv, other, r.name, viewer, now) for inv, other, r in sent_rows),
        received=tuple(
            _summary(session, inv, other, _claimed_name(session, other), viewer, now)
            for inv, other in received_rows
        ),
        open_sent=count_open_sent(session=session, member_id=member.id, now=now),
        muted_all=member.mute_all_invitations,
        muted=tuple(
            MutedPerson(
                member_id=other.id or 0,
                viewer=Viewer(team_id=other.team_id, user_id=other.user_id),
                name=_claimed_name(session, other),
                cross_workspace=other.team_id != viewer.team_id,
            )
            for _mute, other in mutes
        ),
    )
