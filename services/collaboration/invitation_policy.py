"""Who may invite whom, and answering. Only a researcher whose claim is approved and who is open to
collaborate can be invited. Limits and consent: at most OPEN_LIMIT open invitations per inviter,
one open invitation per pair (either direction), none to yourself, none to someone who muted you
(or everyone), and none again to someone who declined you within DECLINE_COOLDOWN. The checks run
when the modal opens and again, with both member rows locked, when it is submitted; only the
invitee answers. Units of work run inside one session and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.collaboration.claim_queries import approved_claim_of, find_live_claim
from services.collaboration.invitation_queries import (
    count_open_sent,
    find_open_between,
    is_muted,
    last_declined,
    list_about_options,
    rows_changed,
)
from services.collaboration.invitation_types import (
    AboutOption,
    AnswerKind,
    AnswerOutcome,
    AnswerStatus,
    InviteCheck,
    InviteOutcome,
    PostedMessage,
    Refusal,
)
from services.collaboration.invitation_views import invitation_view
from services.research.profiles import profile_card_data
from services.store.models import Invitation, InvitationMute, Member, Researcher
from services.workspaces.members import Viewer, find_member, get_or_create_member

OPEN_LIMIT = 5
DECLINE_COOLDOWN = timedelta(days=30)
ABOUT_MAX = 512
_ANSWERED: dict[AnswerKind, AnswerStatus] = {
    "accept": "accepted",
    "decline": "declined",
    "mute_person": "muted_person",
    "mute_all": "muted_all",
}


def _about_label(options: tuple[AboutOption, ...], value: str | None) -> str | None:
    # Only one of the inviter's own works or topics: an edited option value is ignored.
    chosen = next((option for option in options if option.value == value), None)
    return chosen.label[:ABOUT_MAX] if chosen else None


def check_invitation(
    session: Session, inviter: Viewer, researcher: Researcher | None, researcher_id: int, now: datetime
) -> tuple[InviteCheck, Member | None]:
    """May the inviter invite the researcher now? The check, and the invitee's member row if it is ok."""
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


def create_invitation(
    session: Session, inviter: Viewer, researcher_id: int, message: str, about: str | None, now: datetime
) -> InviteOutcome:
    """Check again with both members locked, then store the open invitation (the caller sends it)."""
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
    check, invitee = check_invitation(session, inviter, researcher, researcher_id, now)
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
    return InviteOutcome("sent", check, invitation_view(session, invitation))


def answer_invitation(
    session: Session,
    invitation_id: int,
    presser: Viewer,
    answer: AnswerKind,
    now: datetime,
    pressed_on: PostedMessage | None,
) -> AnswerOutcome:
    """The invitee accepts, declines or mutes; a press on the intro settles an unconfirmed post."""
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
        return AnswerOutcome("already", invitation_view(session, invitation))
    status = "accepted" if answer == "accept" else "declined"
    result = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.status) == "open")
        .values(status=status, responded_at=now)
    )
    if rows_changed(result) != 1:
        session.refresh(invitation)
        return AnswerOutcome("already", invitation_view(session, invitation))
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
    return AnswerOutcome(_ANSWERED[answer], invitation_view(session, invitation))
