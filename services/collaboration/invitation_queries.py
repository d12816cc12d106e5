"""Query helpers on invitations (take a session, never commit): open invitations, mutes, the last
decline, and what an invitation can be about."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, or_
from sqlalchemy.engine import CursorResult
from sqlmodel import Session, col, select

from services.collaboration.invitation_types import AboutOption
from services.digests.schedule import as_utc
from services.store.models import Authorship, Invitation, InvitationMute, Member, ResearcherTopic, Topic, Work

# An invitation nobody answered stops counting against the inviter's limit after this long.
EXPIRE_AFTER = timedelta(days=30)
ABOUT_WORKS = 40
ABOUT_TOPICS = 20


def rows_changed(result: Any) -> int:
    """Rows an UPDATE or DELETE changed."""
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
