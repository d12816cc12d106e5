"""Every listener answers Slack first and does its work afterwards.

Slack shows the person an error unless the HTTP response comes within 3 s, and Bolt (with
process_before_response) sends it only when the listener function returns, after any Web API call
or response_url post made there. So every listener is a Bolt lazy listener: its ack half runs in
the request thread and only acks (a modal that can show errors checks its form first); its lazy
half does the work on a pool (bot/pools.py). Bolt only logs a lazy function's exception (one line,
no traceback), so `in_background` reports it as the app's error handler does: a log line with the
traceback and an error id, and the message to the person.

A slash command that only reads the store answers in the ack itself (handlers/commands.py): the
ack half marks the request answered (`mark_answered`), and its lazy half is then never started
(bot/app.py), so no listener thread, no request copy and no response_url post.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext

from handlers.errors import report

Work = Callable[..., None]
T = TypeVar("T")

# The mark bot/pools.py routes by: OpenAlex work runs on a pool of its own.
POOL_ATTRIBUTE = "bzpeer_pool"
LOOKUP_POOL = "openalex"
# Set on a request whose ack carried the answer: its lazy half has nothing left to do.
_ANSWERED = "bzpeer_answered_in_ack"
# Where the ack half of a view submission leaves its decision for the lazy half: Bolt copies the
# request's context to lazy listeners after the ack function has run.
_HANDOVER = "bzpeer_handover"


def acknowledge(ack: Ack) -> None:
    """The ack half of a lazy listener (the request thread)."""
    ack()


def in_background(work: Work) -> Work:
    """`work` as a lazy function whose failure reaches the person, not only the log."""

    @functools.wraps(work)
    def reported(**kwargs: Any) -> None:
        try:
            work(**kwargs)
        except Exception as error:  # the lazy function's boundary, as the app's error handler
            report(error, kwargs.get("body") or {}, kwargs.get("client"))

    return reported


def after_ack(
    register: Callable[..., object], *, openalex: bool = False, ack: Callable[..., None] = acknowledge
) -> Callable[[Work], Work]:
    """Decorator: `work` becomes the lazy half of a listener whose ack half only acks (or, given
    `ack`, may answer in the ack and `mark_answered`, and `work` then does not run).

    `@after_ack(app.action(Action.FOLLOW))`; `openalex=True` for work that waits on OpenAlex, which
    then runs on the look-up pool, at most a few per member at a time.
    """

    def decorate(work: Work) -> Work:
        lazy = in_background(work)
        if openalex:
            setattr(lazy, POOL_ATTRIBUTE, LOOKUP_POOL)
        register(ack=ack, lazy=[lazy])
        return work

    return decorate


def mark_answered(context: BoltContext) -> None:
    """From an ack half that acked with the answer: its lazy half is not to run."""
    context[_ANSWERED] = True


def answered(context: BoltContext) -> bool:
    """True when the request's ack carried its answer (`mark_answered`)."""
    return bool(context.get(_ANSWERED))


def runs_on_lookup_pool(function: Callable[..., Any]) -> bool:
    """True for a lazy function registered with `after_ack(..., openalex=True)`."""
    return getattr(function, POOL_ATTRIBUTE, None) == LOOKUP_POOL


def hand_over(context: BoltContext, decision: object) -> None:
    """From the ack half of a view submission: what its lazy half is to do (deep-copyable)."""
    context[_HANDOVER] = decision


def handed_over(context: BoltContext, kind: type[T]) -> T | None:
    """In the lazy half: what the ack half decided, or None when it refused the submission."""
    decision = context.get(_HANDOVER)
    return decision if isinstance(decision, kind) else None
