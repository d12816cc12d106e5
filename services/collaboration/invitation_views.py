"""An invitation as messages show it (both parties, what they share) and the Home tab's
collaboration section, read inside one session."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from services.collaboration.claim_queries import claim_view, find_member_claim
from services.collaboration.invitation_queries import EXPIRE_AFTER, count_open_sent
from services.collaboration.invitation_types import (
    InvitationHome,
    InvitationSummary,
    InvitationView,
    MutedPerson,
    Party,
)
from services.digests.schedule import as_utc
from services.research.collaborator_queries import list_coauthor_counts, list_people, list_shared_topics
from services.research.profiles import profile_card_data
from services.store.models import Invitation, InvitationMute, Member, Researcher
from services.workspaces.members import Viewer

SHARED_SHOWN = 5
HOME_SHOWN = 5


def _party(session: Session, member: Member, researcher: Researcher | None) -> Party:
    profile = profile_card_data(session=session, researcher=researcher) if researcher else None
    return Party(Viewer(team_id=member.team_id, user_id=member.user_id), profile)


def invitation_view(session: Session, invitation: Invitation) -> InvitationView:
    """The invitation with both parties' cards and what they share (topics, co-authors, works)."""
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


def invitation_home(session: Session, member: Member, viewer: Viewer, now: datetime) -> InvitationHome:
    """The member's claim, the invitations they sent and received, and whom they muted."""
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
