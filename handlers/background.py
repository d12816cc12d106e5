"""Listeners whose work can take a while answer Slack at once and do the work afterwards.

Bolt's lazy listeners: `acknowledge` runs in the request thread, so the ack never waits behind
other people's work; the lazy function runs on the app's listener pool. Bolt only logs a lazy
function's exception (one line, no traceback), so `in_background` reports it as the app's error
handler does: a log line with the traceback and an error id, and the message to the person.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from handlers.errors import report


def acknowledge(ack: Ack) -> None:
    """The ack half of a lazy listener (the request thread)."""
    ack()


def in_background(work: Callable[..., None]) -> Callable[..., None]:
    """`work` as a lazy function whose failure reaches the person, not only the log."""

    @functools.wraps(work)
    def reported(**kwargs: Any) -> None:
        try:
            work(**kwargs)
        except Exception as error:  # the lazy function's boundary, as the app's error handler
            report(error, kwargs.get("body") or {})

    return reported
