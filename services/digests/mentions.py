"""Whom a channel's digest post mentions: for each work, the people of the channel's workspace
with an approved claim on one of its authors (services/digests/compose.py asks, for channel
feeds only). Claims are read once per workspace and bylines once per work, however many
channels share them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select as sa_select  # Core: plain columns
from sqlmodel import Session, col

from services.store.models import MEMBER_USER, Authorship, Claim, Member
from services.store.sql import chunks


class ClaimedAuthors:
    """Claimed authors of works by workspace, read in bulk and kept for one compose run."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._claimed: dict[str, dict[int, list[str]]] = {}
        self._bylines: dict[int, list[int]] = {}

    def prepare(self, team_ids: Iterable[str], work_ids: Iterable[int]) -> None:
        """Read the claims of these workspaces and the bylines of these works, if not yet read."""
        teams = sorted(set(team_ids) - self._claimed.keys())
        for team_id in teams:
            self._claimed[team_id] = defaultdict(list)
        if teams:
            rows = self._session.execute(
                sa_select(col(Claim.researcher_id), col(Member.team_id), col(Member.user_id))
                .join(Member, col(Member.id) == col(Claim.member_id))
                .where(
                    col(Claim.status) == "approved",
                    col(Member.kind) == MEMBER_USER,
                    col(Member.team_id).in_(teams),
                )
                .order_by(col(Claim.id))
            )
            for researcher_id, team_id, user_id in rows:
                self._claimed[team_id][researcher_id].append(user_id)
        if not any(self._claimed.values()):
            return  # nobody claimed anything: no byline is worth reading
        missing = sorted(set(work_ids) - self._bylines.keys())
        for work_id in missing:
            self._bylines[work_id] = []
        for chunk in chunks(missing):
            rows = self._session.execute(
                sa_select(col(Authorship.work_id), col(Authorship.researcher_id))
                .where(col(Authorship.work_id).in_(chunk), col(Authorship.researcher_id).is_not(None))
                .order_by(col(Authorship.work_id), col(Authorship.position))
            )
            for work_id, researcher_id in rows:
                self._bylines[work_id].append(researcher_id)

    def mentions(self, team_id: str, work_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """By work: the workspace's people who claimed one of its authors, in author order."""
        claimed = self._claimed.get(team_id)
        if not claimed:
            return {}
        found: dict[int, tuple[str, ...]] = {}
        for work_id in work_ids:
            users = [user for rid in self._bylines.get(work_id, ()) for user in claimed.get(rid, ())]
            if users:
                found[work_id] = tuple(dict.fromkeys(users))
        return found
