"""Per-statement SQL timings from SQLAlchemy's cursor events, to say which query is slow."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# "IN (?, ?, ?)" / "IN (%(p_1)s, %(p_2)s)" render differently per list length: one key for all.
_IN_LIST = re.compile(r"\((?:\s*(?:\?|%\([^)]*\)s|\$\d+)\s*,)+\s*(?:\?|%\([^)]*\)s|\$\d+)\s*\)")
_SPACES = re.compile(r"\s+")


def statement_key(statement: str) -> str:
    """The statement with whitespace collapsed and IN-lists folded, as a grouping key."""
    return _IN_LIST.sub("(…)", _SPACES.sub(" ", statement).strip())


@dataclass
class SqlTimer:
    """Collects (statement → durations) while attached; `request_seconds` per dispatched request."""

    by_statement: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    current: float = 0.0
    enabled: bool = False

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        if self.enabled:
            self.by_statement[statement_key(statement)].append(elapsed)
            self.current += elapsed

    def take_request_total(self) -> float:
        """SQL seconds since the last call (one request's worth when called per request)."""
        total, self.current = self.current, 0.0
        return total
