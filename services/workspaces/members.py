"""Members: Slack users of one workspace (team_id + user_id), created on first use."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.store.models import Member


@dataclass(frozen=True)
class Viewer:
    """Who is looking or acting: a Slack user in one workspace (never taken from a button value)."""

    team_id: str
    user_id: str


def find_member(*, session: Session, viewer: Viewer) -> Member | None:
    """The member row of a Slack user in a workspace, if they used the bot before."""
    return session.exec(
        select(Member).where(col(Member.team_id) == viewer.team_id, col(Member.user_id) == viewer.user_id)
    ).first()


def get_or_create_member(*, session: Session, viewer: Viewer) -> Member:
    """The member row, added to the session (flushed, so it has an id) when new.

    Two first uses racing each other hit the (team_id, user_id) unique key at flush or commit;
    callers retry once, and the retry finds the row.
    """
    member = find_member(session=session, viewer=viewer)
    if member is None:
        member = Member(team_id=viewer.team_id, user_id=viewer.user_id)
        session.add(member)
        session.flush()
    return member
