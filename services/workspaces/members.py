"""Members: Slack users of one workspace (team_id + user_id), created on first use; and channels
subscribed to researchers, which are member rows of kind "channel" (their user_id is the channel
id) so that follows, the digest ledger and schedules serve them unchanged. Whatever treats
members as people finds only kind "user"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.store.models import MEMBER_CHANNEL, MEMBER_USER, Member


@dataclass(frozen=True)
class Viewer:
    """Who is looking or acting: a Slack user in one workspace (never taken from a button value)."""

    team_id: str
    user_id: str


def find_member(*, session: Session, viewer: Viewer) -> Member | None:
    """The member row of a Slack user in a workspace, if they used the bot before."""
    return session.exec(
        select(Member).where(
            col(Member.team_id) == viewer.team_id,
            col(Member.user_id) == viewer.user_id,
            col(Member.kind) == MEMBER_USER,
        )
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


@dataclass(frozen=True)
class ChannelRef:
    """A Slack channel of one workspace (public C…, private G… or C…)."""

    team_id: str
    channel_id: str


def find_channel(*, session: Session, channel: ChannelRef) -> Member | None:
    """The member row standing for a channel's subscriptions, if it has any."""
    return session.exec(
        select(Member).where(
            col(Member.team_id) == channel.team_id,
            col(Member.user_id) == channel.channel_id,
            col(Member.kind) == MEMBER_CHANNEL,
        )
    ).first()


def get_or_create_channel(*, session: Session, channel: ChannelRef) -> tuple[Member, bool]:
    """The channel's member row (flushed when new) and whether it was just made; races as
    get_or_create_member."""
    member = find_channel(session=session, channel=channel)
    if member is not None:
        return member, False
    member = Member(team_id=channel.team_id, user_id=channel.channel_id, kind=MEMBER_CHANNEL)
    session.add(member)
    session.flush()
    return member, True
