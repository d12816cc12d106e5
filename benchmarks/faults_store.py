"""Findings 1 and 2 of issue 14: text the stores cannot hold, and a store that cannot be reached.

1. A NUL byte or a lone surrogate in an OpenAlex record (`bzpeer refresh`, `bzpeer import`) or in
   text typed in Slack (a headline, an invitation message).
2. PostgreSQL refusing connections (a TCP proxy in front of it is closed), SQLite locked by
   another connection's `BEGIN EXCLUSIVE`: a signed `app_uninstalled` and `/healthz`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from benchmarks.fault_replay import (
    PARK_TEAM,
    SAM,
    SEED,
    Ran,
    Replay,
    invite_values,
    member,
    new_work,
    profile_values,
)
from benchmarks.fault_support import Answer, Row, final_view_text, get, wait_for
from bot.local.slack_objects import SlackUser
from services.store.text import storable

POISONS = {"NUL": "\x00", "lone surrogate": "\ud800"}
REFRESH_AUTHORS = 150  # two batches of the refresh job (100 author ids per OpenAlex request)
POISONED_AUTHOR = 50  # in the first batch


def _bad_work(r: Replay, work_id: str) -> str:
    """What became of the poisoned work: absent, stored cleaned, or stored as it came."""
    title = r.scalar("SELECT title FROM work WHERE openalex_id = :w", w=work_id)
    if title is None:
        return "bad work not stored"
    return "bad work stored cleaned" if storable(title) == title else f"bad work stored raw: {title!r}"


def _fine(bad: str) -> bool:
    return not bad.startswith("bad work stored raw")


def _exit(ran: Ran) -> str:
    return f"exit {ran.returncode}" + (f" ({ran.last_error()})" if ran.returncode else "")


def refresh_poison(r: Replay, number: str, poison: str, round_: int) -> Row:
    row = Row(
        number,
        f"`bzpeer refresh`: one record's title has a {poison}; {REFRESH_AUTHORS} followed researchers "
        "in 2 batches, one new work each",
        "exit 0 twice; the other works stored and queued; the bad work skipped or stored cleaned",
    )
    # Weekly, not off: the ledger queues nothing for members who turned digests off.
    authors = r.seed_once("refresh followers", lambda: r.followers("71", REFRESH_AUTHORS, frequency="weekly"))
    prefix, bad_id = f"W71{round_}", f"W71{round_}999999"
    works = [new_work(f"{prefix}{n:06d}", a, f"Fault refresh work {n}") for n, a in enumerate(authors, 1)]
    works.append(new_work(bad_id, authors[POISONED_AUTHOR - 1], f"Poison{POISONS[poison]}title"))
    r.serve_works(works)
    first, second = r.cli("refresh"), r.cli("refresh")
    good = f"w.openalex_id LIKE '{prefix}%' AND w.openalex_id <> '{bad_id}'"
    stored = r.scalar(f"SELECT count(*) FROM work w WHERE {good}")
    queued = r.scalar(f"SELECT count(*) FROM delivery d JOIN work w ON w.id = d.work_id WHERE {good}")
    bad = _bad_work(r, bad_id)
    row.seen = (
        f"1st run {_exit(first)}, 2nd run {_exit(second)}; {stored}/{REFRESH_AUTHORS} other works stored, "
        f"{queued} queued; {bad}"
    )
    row.holds = (
        first.returncode == second.returncode == 0
        and stored == queued == REFRESH_AUTHORS
        and _fine(bad)
        and not (first.traceback or second.traceback)
    )
    return row


def import_poison(r: Replay, number: str, poison: str, round_: int) -> Row:
    row = Row(
        number,
        f"`bzpeer import A…`: one of the author's 6 works has a {poison} in its title",
        "exit 0; the 5 other works stored; the bad work skipped or stored cleaned",
    )
    author, prefix = f"A72{round_}00000001", f"W72{round_}"
    bad_id = f"{prefix}999"
    r.add_author(author, f"Fault Importee {round_}", works=6)
    works = [new_work(f"{prefix}{n:03d}", author, f"Fault import work {n}") for n in range(1, 6)]
    works.append(new_work(bad_id, author, f"Poison{POISONS[poison]}title"))
    r.serve_works(works)
    ran = r.cli("import", author)
    stored = r.scalar(
        f"SELECT count(*) FROM work WHERE openalex_id LIKE '{prefix}%' AND openalex_id <> '{bad_id}'"
    )
    bad = _bad_work(r, bad_id)
    tail = " with a traceback" if ran.traceback else ""
    row.seen = f"{_exit(ran)}{tail}; {stored}/5 other works stored; {bad}"
    row.holds = ran.returncode == 0 and stored == 5 and _fine(bad) and not ran.traceback
    return row


def _modal_outcome(answer: Answer) -> str:
    action = answer.json().get("response_action")
    if answer.status == 200 and not answer.body:
        return "empty 200: the modal closes, nothing said"
    return f"{answer}, response_action {action or 'none'}"


def headline_poison(r: Replay, number: str, poison: str) -> Row:
    typed = f"Poison{POISONS[poison]}headline"
    row = Row(
        number,
        f"a headline with a {poison} submitted in the profile modal",
        "the modal shows “saved”; the headline stored cleaned",
    )
    view = r.claimed_open()
    answer = r.send(r.requests.submit(SAM, view, profile_values(typed)))
    stored = r.scalar("SELECT headline FROM researcher WHERE name = :n", n=SEED)
    saved = answer.status == 200 and answer.json().get("response_action") == "update"
    row.seen = f"{_modal_outcome(answer)}; stored headline {stored!r}"
    row.holds = saved and stored == storable(typed)
    # The next rows invite this researcher: keep the profile open whatever happened here.
    r.send(r.requests.submit(SAM, view, profile_values("Interpretability")))
    return row


def invitation_poison(r: Replay, number: str, poison: str) -> Row:
    typed = f"Let us{POISONS[poison]} talk"
    row = Row(
        number,
        f"an invitation message with a {poison} submitted in the invitation modal",
        "the modal says “Invitation sent”; the message stored cleaned",
    )
    inviter = member("U0INVNUL")
    r.slack.add_user(SlackUser(inviter.user_id, inviter.team_id, "inv", "Ivo Inviter"))
    view = r.invite_modal(inviter)
    updates = len(r.slack.calls_to("views.update"))
    answer = r.send(r.requests.submit(inviter, view, invite_values(typed)))
    said = final_view_text(r.slack, view["id"], after=updates, timeout=8)
    stored = r.scalar(
        "SELECT i.message FROM invitation i JOIN member m ON m.id = i.inviter_member_id WHERE m.user_id = :u",
        u=inviter.user_id,
    )
    sent = "Invitation sent" in said  # result_view's text for an invitation that went out
    then = "“Invitation sent”" if sent else repr(said[:60]) if said else "never updated"
    row.seen = f"{_modal_outcome(answer)}; modal then {then}; stored message {stored!r}"
    row.holds = answer.status == 200 and sent and stored == storable(typed)
    return row


def finding_1(r: Replay) -> list[Row]:
    try:
        refreshes = [refresh_poison(r, "1a", "NUL", 1), refresh_poison(r, "1b", "lone surrogate", 2)]
    finally:
        # Their 300 queued items must not go out with the digests of findings 4 and 10.
        r.command(member("U0F71"), "digest off")
    return [
        *refreshes,
        import_poison(r, "1c", "NUL", 1),
        import_poison(r, "1d", "lone surrogate", 2),
        headline_poison(r, "1e", "NUL"),
        headline_poison(r, "1f", "lone surrogate"),
        invitation_poison(r, "1g", "NUL"),
    ]


# ---------------------------------------------------------------------------------------------
# 2. The store cannot be reached


def _parked_twice(r: Replay, outage: Callable[[], Any], recover: Callable[[], Any]) -> dict[str, Any]:
    """A workspace with one follow uninstalls during `outage`; Slack retries after `recover`."""
    parker = member("U0PARKER", PARK_TEAM)
    r.slack.add_user(SlackUser(parker.user_id, PARK_TEAM, "parker", "Pat Parker"))
    r.command(parker, f"follow {SEED}")
    event = r.requests.event(PARK_TEAM, {"type": "app_uninstalled"})
    base = r.server().base
    log = r.log()
    outage()
    try:
        first = r.send(event, timeout=45)
        health = get(base, "/healthz", timeout=45)
    finally:
        recover()
    # Slack retries a delivery it got no 2xx for (after 1 s, 1 min, 5 min), signed afresh.
    retry = r.send(
        r.requests.resign(event, **{"x-slack-retry-num": "1", "x-slack-retry-reason": "http_error"})
    )
    healthy = get(base, "/healthz")
    parked = wait_for(
        lambda: r.scalar(
            "SELECT count(*) FROM follow f JOIN member m ON m.id = f.member_id "
            "WHERE m.team_id = :t AND f.parked",
            t=PARK_TEAM,
        ),
        3,
    )
    lines = [e for e in log.entries() if e.get("msg") == "workspace parked" and e.get("team_id") == PARK_TEAM]
    return {
        "first": first,
        "health": health,
        "retry": retry,
        "healthy": healthy,
        "parked": parked or 0,
        "lines": len(lines),
    }


def _store_rows(number: str, what: str, seen: dict[str, Any]) -> list[Row]:
    first, retry, health = seen["first"], seen["retry"], seen["health"]
    # Slack retries only deliveries it got no 2xx for: after a 200 the event is gone for good.
    lost = " (Slack sends no retry after a 2xx: the event is lost)" if 200 <= first.status < 300 else ""
    event = Row(
        f"{number}a",
        f"{what}: a signed `app_uninstalled` (the workspace has one follow)",
        "503 within 3 s; Slack's retry (same event_id, X-Slack-Retry-Num 1) after recovery "
        "→ 200, the workspace parked once",
        f"{first}{lost}; {'a retry sent anyway' if lost else 'the retry'} after recovery {retry}; "
        f"follows parked {seen['parked']}, "
        f"“workspace parked” logged {seen['lines']}×",
    )
    event.holds = (
        first.status == 503
        and first.seconds < 3
        and retry.status == 200
        and seen["parked"] == 1
        and seen["lines"] == 1
    )
    health_row = Row(
        f"{number}b",
        f"{what}: GET /healthz",
        "503 (the store cannot be written); 200 again after recovery",
        f"{health}; after recovery {seen['healthy']}",
    )
    health_row.holds = health.status == 503 and health.seconds < 3 and seen["healthy"].status == 200
    return [event, health_row]


def finding_2(r: Replay) -> list[Row]:
    r.server()
    if r.backend == "postgresql":
        proxy = r.proxy
        assert proxy is not None
        seen = _parked_twice(r, proxy.refuse, proxy.accept)
        return _store_rows("2", "PostgreSQL refusing connections", seen)
    path = make_url(r.database_url).database or ""
    holder = sqlite3.connect(path, isolation_level=None, timeout=5)

    def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")

    def unlock() -> None:
        holder.execute("ROLLBACK")
        holder.close()

    seen = _parked_twice(r, lock, unlock)
    return _store_rows("2", "SQLite locked (another connection holds BEGIN EXCLUSIVE)", seen)


FINDINGS: dict[int, Callable[[Replay], list[Row]]] = {1: finding_1, 2: finding_2}
