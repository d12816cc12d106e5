"""Slack's limits are per workspace, so a delivery cycle waits per workspace: a short pause after
each post to it (pacing), and the Retry-After of a 429 from it. Members of a workspace that is
waiting out a 429 step aside, the others go on; they come back when its wait is over, in this
cycle if the wait is short (MAX_WAIT), else in a later one.

The waits live in the scheduler process (the DigestService it keeps for its life), not in the
store. A 429 means Slack posted nothing, so the ledger is right whatever another process knows;
what sharing would save is one refused call per other scheduler per wait (each learns the wait
from its own first 429 and then keeps it, across its cycles). A few refused calls a minute are
cheaper than a table written on every 429 and read before every claim, and a wait that must
outlive the process is longer than a delivery cycle anyway: the next one learns it again.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

# When a 429 names no wait (Slack always does; a proxy may not): slack_sdk's own default.
DEFAULT_RETRY_AFTER = 1.0
# The longest Retry-After a cycle waits for before retrying that workspace's members itself;
# beyond it they stay pending for a later cycle (the delivery job runs every 5 minutes).
MAX_WAIT = 60.0
# How often one member may meet a 429 in one cycle before it waits for the next cycle.
MAX_TRIES = 3


@dataclass(frozen=True)
class DueMember:
    """A member whose digest a cycle found due, as it found them: their last digest then tells
    whether another scheduler has sent this digest since (a moved `last_digest_at`)."""

    member_id: int
    team_id: str
    last_digest_at: datetime | None


@dataclass
class WorkspaceGate:
    """When each workspace may next be posted to, by this process."""

    _next_post: dict[str, datetime] = field(default_factory=dict)
    _limited_until: dict[str, datetime] = field(default_factory=dict)

    def posted(self, team_id: str, *, at: datetime, pace: float) -> None:
        """A post to the workspace at `at`: the next waits `pace` seconds."""
        self._next_post[team_id] = at + timedelta(seconds=pace)

    def pace_wait(self, team_id: str, *, at: datetime) -> float:
        """Seconds to wait before the next post to the workspace (pacing only)."""
        next_post = self._next_post.get(team_id)
        return max((next_post - at).total_seconds(), 0.0) if next_post else 0.0

    def rate_limited(self, team_id: str, *, at: datetime, retry_after: float | None) -> None:
        """Slack answered 429 at `at`: nothing goes to the workspace before its Retry-After."""
        wait = DEFAULT_RETRY_AFTER if retry_after is None else max(retry_after, 0.0)
        until = at + timedelta(seconds=wait)
        self._limited_until[team_id] = max(until, self._limited_until.get(team_id, until))

    def limited_for(self, team_id: str, *, at: datetime) -> float:
        """Seconds the workspace still waits out a 429 (0: free)."""
        until = self._limited_until.get(team_id)
        if until is None:
            return 0.0
        if until <= at:
            del self._limited_until[team_id]
            return 0.0
        return (until - at).total_seconds()

    def lift(self, team_ids: Iterable[str]) -> None:
        """The cycle has waited these workspaces' Retry-After out."""
        for team_id in team_ids:
            self._limited_until.pop(team_id, None)


class DueQueue:
    """One cycle's due members, in order, with a workspace's members set aside while it waits
    out a 429, and taken up again once the wait is over."""

    def __init__(
        self,
        due: Iterable[DueMember],
        gate: WorkspaceGate,
        *,
        clock: Callable[[], datetime],
        pause: Callable[[float], None],
        max_wait: float = MAX_WAIT,
        max_tries: int = MAX_TRIES,
    ) -> None:
        self._queue = deque(due)
        self._later: list[DueMember] = []
        self._gate = gate
        self._clock = clock
        self._pause = pause
        self._max_wait = max_wait
        self._max_tries = max_tries
        self._tries: Counter[int] = Counter()
        # Members left pending for a later cycle: their workspace's wait outlasted this one.
        self.held_back = 0

    @property
    def left(self) -> int:
        """Members this cycle has still to claim, set-aside ones included."""
        return len(self._queue) + len(self._later)

    def next_batch(self, size: int) -> list[DueMember] | None:
        """Up to `size` members to claim, none of a waiting workspace; None when the cycle is done."""
        while True:
            self._take_up(lambda team: not self._gate.limited_for(team, at=self._clock()))
            batch: list[DueMember] = []
            while self._queue and len(batch) < size:
                member = self._queue.popleft()
                if self.waiting(member):
                    self.set_aside(member)
                else:
                    batch.append(member)
            if batch:
                return batch
            if not self._later:
                return None
            if not self._wait_for_a_workspace():
                self.held_back += len(self._later)
                self._later = []
                return None

    def waiting(self, member: DueMember) -> bool:
        """Is the member's workspace waiting out a 429?"""
        return self._gate.limited_for(member.team_id, at=self._clock()) > 0

    def set_aside(self, member: DueMember) -> None:
        """Its workspace waits: take the member up again after the wait."""
        self._later.append(member)

    def rate_limited(self, member: DueMember) -> None:
        """Slack refused the member's digest with a 429 (nothing posted): try again after the wait."""
        self._tries[member.member_id] += 1
        if self._tries[member.member_id] < self._max_tries:
            self._later.append(member)
        else:
            self.held_back += 1

    def _take_up(self, free: Callable[[str], bool]) -> None:
        back: list[DueMember] = []
        still: list[DueMember] = []
        for member in self._later:
            (back if free(member.team_id) else still).append(member)
        self._later = still
        self._queue.extendleft(reversed(back))

    def _wait_for_a_workspace(self) -> bool:
        """Nothing else to do: wait for the first workspace whose wait is short enough."""
        at = self._clock()
        waits = {team: self._gate.limited_for(team, at=at) for team in {m.team_id for m in self._later}}
        first = min(waits.values())
        if first > self._max_wait:
            log.info(
                "digest delivery: %d due members wait for a later cycle; Slack asked their "
                "workspaces to wait %.0f s or more",
                len(self._later),
                first,
            )
            return False
        ready = {team for team, wait in waits.items() if wait <= first}
        self._pause(first)
        self._gate.lift(ready)
        self._take_up(lambda team: team in ready)
        return True
