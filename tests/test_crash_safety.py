"""Crash safety, short: `bzpeer digest --now` killed with SIGKILL three times mid-delivery, on
this test's store, then run to the end. Nothing is lost and nothing is sent twice, not even the
message Slack had already taken when the process died: the next run finds its key in the DM.

Then the same with three runs delivering at once, as three schedulers do: one killed while
Slack answers its post, three killed at random moments, and still each item exactly once.

The long run (200 members, 20 random + 5 in-flight kills, Slack faults; `--processes 4`) is
benchmarks/chaos.py.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.crash_support import TOKEN, Chaos, ChaosSlack, Worker, seed_pending, statuses, tally


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
        # All 12 in one claim (no smaller claims near the wave's end): a kill between two digests
        # then always strands claimed rows, which the lease has to bring back.
        worker = Worker(database_url, slack.url, tmp_path, settings={"BZPEER_DIGEST_CLAIM_FLOOR": "25"})
        chaos = Chaos(engine, slack, worker, random.Random(3), fault_rate=0)

        # 1 and 2: killed between two digests, once some rows are settled (a lease strands the rest).
        for settled in (2, 6):
            process = chaos.worker.start()
            _wait_for_sent(engine, settled)
            process.send_signal(signal.SIGKILL)
            assert chaos.record_kill(process, time.monotonic(), 0, "between posts") is not None
        # 3: killed while Slack is answering a chat.postMessage: Slack has it, the ledger does not.
        assert chaos.kill_in_flight()
        assert [k.stranded > 0 for k in chaos.kills] == [True, True, True]

        assert chaos.finish() == 1
        outcome = tally(slack, engine, owner, chaos.in_flight)
        looked_up = slack.calls_to("conversations.history")

    assert outcome.lost == [] and outcome.delivered == len(owner)
    assert outcome.statuses == {"sent": len(owner)} and outcome.phantom == 0
    assert (outcome.duplicate_messages, outcome.duplicate_items) == (0, 0)
    assert looked_up  # the message Slack took as its sender died was found, not sent again


@pytest.mark.slow
def test_three_runs_at_once_killed_in_flight_and_at_random_lose_nothing_and_send_nothing_twice(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    slack = ChaosSlack(team_id="T0CHAOS", clock=time.time)
    with slack:
        owner = seed_pending(engine, members=60, max_works=2, rng=random.Random(5))
        # Slack's 50-odd ms per post, so that the three runs overlap.
        slack.slow_next("chat.postMessage", 0.05, times=10_000)
        worker = Worker(database_url, slack.url, tmp_path)
        chaos = Chaos(engine, slack, worker, random.Random(5), fault_rate=0, processes=3)

        in_flight = chaos.kill_in_flight()
        assert len(in_flight) == 1 and in_flight[0].stranded > 0
        tokens = {c.token for c in slack.calls_to("chat.postMessage") if c.error is None}
        assert tokens == {f"{TOKEN}-{n}" for n in (1, 2, 3)}  # all three delivered, side by side
        chaos.kill_at_random(window=1.0)
        assert chaos.finish() <= 2
        outcome = tally(slack, engine, owner, chaos.in_flight)

    assert outcome.lost == [] and outcome.delivered == len(owner)
    assert outcome.statuses == {"sent": len(owner)} and outcome.phantom == 0
    assert (outcome.duplicate_messages, outcome.duplicate_items) == (0, 0)
