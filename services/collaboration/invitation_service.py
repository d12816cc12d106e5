"""Invitations to collaborate: who may invite whom is in invitation_policy.py; this is the service
the handlers and the scheduler call. The conversation happens in Slack, in a thread.

    open ──invitee Accept──▶ accepted        open ──invitee Decline / Mute──▶ declined
    open ──30 days without an answer──▶ expired (the scheduler job)

Same workspace: a group DM (inviter, invitee, bot) with the intro; the thread under it is the
conversation. Another workspace: a DM to the invitee in *their* workspace naming the inviter
and their workspace; on Accept both get the other's Slack name and e-mail in a DM. Everything
sent goes through the `InvitationSender` port.

The intro carries the invitation's key as Slack metadata. When Slack never answers the post
(services/slack_requests/sending.py) the invitation is kept, open, with no thread yet: the
invitee's first press on its buttons proves it was posted and settles it, and meanwhile
`confirm_intros` (the delivery job) looks the key up in the conversation: found → settled; not
there → sent again with the same key; Slack refusing it then → dropped, and the inviter told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.collaboration.invitation_policy import answer_invitation, check_invitation, create_invitation
from services.collaboration.invitation_queries import EXPIRE_AFTER, rows_changed
from services.collaboration.invitation_types import (
    AnswerKind,
    AnswerOutcome,
    CheckBackReport,
    IntroReport,
    InvitationHome,
    InvitationSender,
    InvitationView,
    InviteCheck,
    InviteOutcome,
    InviteQueryCheck,
    PostedMessage,
)
from services.collaboration.invitation_views import invitation_home, invitation_view
from services.research.profiles import find_researcher
from services.slack_requests.sending import CLOCK_SKEW, MessageNotDelivered, OutcomeUnknown
from services.store.engine import session_scope, write_retrying_once
from services.store.models import Invitation, InvitationMute, Researcher, utcnow
from services.workspaces.members import Viewer, find_member

log = logging.getLogger(__name__)

MESSAGE_MAX = 1000
CHECK_BACK_AFTER = timedelta(days=7)
CHECK_BACK_BATCH = 100
# An intro whose post Slack never answered is looked up once this long has passed since its
# last try (longer than any one send, Retry-After waits included): the claim on the look-up.
INTRO_LOOKUP_AFTER = timedelta(minutes=5)
INTRO_LOOKUP_BATCH = 50


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
            return check_invitation(session, inviter, researcher, researcher_id, at)[0]

    def check_query(self, inviter: Viewer, query: str, *, now: datetime | None = None) -> InviteQueryCheck:
        """`/peer invite QUERY`: resolve QUERY, then check as `check` does."""
        at = now or utcnow()
        with Session(self._engine) as session:
            found, researcher = find_researcher(session=session, query=query)
            if researcher is None or researcher.id is None:
                return InviteQueryCheck(found)
            return InviteQueryCheck(
                found, check_invitation(session, inviter, researcher, researcher.id, at)[0]
            )

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
            self._engine, lambda s: create_invitation(s, inviter, researcher_id, text, about, at)
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
                invitation_view(session, invitation)
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
            self._engine, lambda s: answer_invitation(s, invitation_id, presser, answer, at, pressed_on)
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
            return rows_changed(result) > 0

        return write_retrying_once(self._engine, work)

    def home(self, viewer: Viewer, *, now: datetime | None = None) -> InvitationHome:
        """My claim, the invitations I sent and received, and whom I muted."""
        at = now or utcnow()
        with Session(self._engine) as session:
            member = find_member(session=session, viewer=viewer)
            if member is None or member.id is None:
                return InvitationHome()
            return invitation_home(session, member, viewer, at)

    def check_back_due(self, *, now: datetime | None = None) -> list[InvitationView]:
        """Invitations whose thread is CHECK_BACK_AFTER old and was never checked back on."""
        at = now or utcnow()
        with Session(self._engine) as session:
            rows = session.exec(_due_query(at)).all()
            views = [invitation_view(session, invitation) for invitation in rows]
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
            return rows_changed(result) == 1

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
            return rows_changed(result) == 1

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
                if rows_changed(result):
                    session.refresh(invitation)
                    expired.append(invitation_view(session, invitation))
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
