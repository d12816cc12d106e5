"""Every due digest composed at once, measured the same way for the DM and the channel
benchmarks: wall per step, CPU, and this process's memory before and at its peak."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from benchmarks.digest_state import NOW
from benchmarks.naive import memory_mib, reset_peak
from services.digests.compose import DigestView, compose_views
from services.digests.delivery import DigestService
from services.store.engine import session_scope


@dataclass(frozen=True)
class ComposeRun:
    """What `compose_every_due` composed, and what it cost (seconds, MiB)."""

    due: list[int]
    views: dict[int, DigestView]
    due_s: float
    compose_s: float
    cpu_s: float
    rss_before: float
    peak: float


def compose_every_due(engine: Engine) -> ComposeRun:
    """due_members(force=True) at digest_state.NOW, then compose_views over all of them in one call."""
    # A collected heap and a reset high-water mark, so the peak is compose's own.
    gc.collect()
    rss_before, _ = memory_mib()
    reset_peak()
    cpu = time.process_time()
    started = time.perf_counter()
    due = [member.member_id for member in DigestService(engine).due_members(now=NOW, force=True)]
    due_s = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:
        views = compose_views(session=session, member_ids=due)
    compose_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    _, peak = memory_mib()
    return ComposeRun(due, views, due_s, compose_s, cpu_s, rss_before, peak)
