"""Crash safety, short: `bzpeer digest --now` killed with SIGKILL three times mid-delivery, on
this test's store, then run to the end. Nothing is lost and nothing is sent twice, not even the
message Slack had already taken when the process died: the next run finds its key in the DM.

The long run (200 members, 20 random + 5 in-flight kills, Slack faults) is benchmarks/chaos.py.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.crash_support import Chaos, ChaosSlack, Worker, seed_pending, statuses, tally


def _wait_for_sent(engine: Engine, rows: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while statuses(engine)["sent"] < rows:
        assert time.monotonic() < deadline, f"fewer than {rows} rows sent in {timeout} s"
        time.sleep(0.01)


@pytest.mark.slow
def test_three_sigkills_mid_delivery_lose_nothing(database_url: str, engine: Engine, tmp_path: Path) -> None:
    slack = ChaosSlack(team_id="T0CHAOS", clock=time.time)
    with slack:
        owner = seed_pending(engine, members=12, max_works=2, rng=random.Random(3))
        chaos = Chaos(
            engine, slack, Worker(database_url, slack.url, tmp_path), random.Random(3), fault_rate=0
        )

        # 1 and 2: killed between two digests, once some rows are settled (a lease strands the rest).
        for settled in (2, 6):
            process = chaos.worker.start()
            _wait_for_sent(engine, settled)
            process.send_signal(signal.SIGKILL)
            assert chaos.record_kill(process, time.monotonic(), 0, "between posts") is not None
        # 3: killed while Slack is answering a chat.postMessage: Slack has it, the ledger does not.
        assert chaos.kill_in_flight() is not None
        assert [k.stranded > 0 for k in chaos.kills] == [True, True, True]

        assert chaos.finish() == 1
        outcome = tally(slack, engine, owner, chaos.in_flight)
        looked_up = slack.calls_to("conversations.history")

    assert outcome.lost == [] and outcome.delivered == len(owner)
    assert outcome.statuses == {"sent": len(owner)} and outcome.phantom == 0
    assert (outcome.duplicate_messages, outcome.duplicate_items) == (0, 0)
    assert looked_up  # the message Slack took as its sender died was found, not sent again
