"""Digest schedules: pure due-time rules in each member's zone (time injected), and
`/peer digest …` end to end with the time zone from users.info."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.local.slack_objects import SlackUser
from bot.runtime import Runtime
from handlers.digests.schedule import parse_digest_args
from services.digests.follows import FollowService
from services.digests.schedule import (
    DigestPrefs,
    format_time,
    is_due,
    last_slot_at_or_before,
    next_digest_at,
    parse_time,
    parse_weekday,
)
from services.store.engine import session_scope
from services.store.models import Delivery, Member, Work
from services.workspaces.members import Viewer
from tests.slack_support import SlackDriver, all_text

KOLKATA = DigestPrefs(frequency="daily", time="09:00", tz="Asia/Kolkata")
LOS_ANGELES = DigestPrefs(frequency="daily", time="09:00", tz="America/Los_Angeles")
ALICE = Viewer(team_id="T0TEAM1", user_id="U0ALICE")


def _walk_day(prefs: DigestPrefs, day: datetime, *, step: timedelta = timedelta(minutes=5)) -> list[datetime]:
    """Run a delivery job every `step` through one UTC day; each time the member is due, "send"."""
    sent: list[datetime] = []
    last: datetime | None = day - timedelta(days=1, hours=12)  # yesterday's digest went out
    now = day
    while now < day + timedelta(days=1):
        if is_due(prefs, last_digest_at=last, now=now):
            sent.append(now)
            last = now
        now += step
    return sent


@pytest.mark.parametrize(
    ("day", "kolkata", "los_angeles"),
    [
        # Summer: Los Angeles is UTC-7; Kolkata is UTC+5:30 all year.
        (datetime(2026, 6, 15, tzinfo=UTC), datetime(2026, 6, 15, 3, 30), datetime(2026, 6, 15, 16, 0)),
        # Winter: Los Angeles is UTC-8.
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2026, 12, 15, 3, 30), datetime(2026, 12, 15, 17, 0)),
        # The day Los Angeles springs forward (2026-03-08): 09:00 is already daylight time.
        (datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 8, 3, 30), datetime(2026, 3, 8, 16, 0)),
        # The day it falls back (2026-11-01): 09:00 is standard time again.
        (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 1, 3, 30), datetime(2026, 11, 1, 17, 0)),
    ],
)
def test_each_member_gets_one_digest_at_their_own_nine(
    day: datetime, kolkata: datetime, los_angeles: datetime
) -> None:
    assert _walk_day(KOLKATA, day) == [kolkata.replace(tzinfo=UTC)]
    assert _walk_day(LOS_ANGELES, day) == [los_angeles.replace(tzinfo=UTC)]


def test_a_due_member_stays_due_only_for_the_catch_up_window() -> None:
    nine = datetime(2026, 6, 15, 3, 30, tzinfo=UTC)  # 09:00 in Kolkata
    yesterday = nine - timedelta(days=1)
    assert not is_due(KOLKATA, last_digest_at=yesterday, now=nine - timedelta(minutes=1))
    assert is_due(KOLKATA, last_digest_at=yesterday, now=nine)
    # Nothing was pending, so nothing went out: a scheduler that was down catches up for 2 h…
    assert is_due(KOLKATA, last_digest_at=yesterday, now=nine + timedelta(hours=2))
    # …but works found in the afternoon wait for tomorrow's 09:00.
    assert not is_due(KOLKATA, last_digest_at=yesterday, now=nine + timedelta(hours=2, minutes=1))
    assert not is_due(KOLKATA, last_digest_at=nine, now=nine + timedelta(minutes=5))
    assert is_due(KOLKATA, last_digest_at=None, now=nine + timedelta(minutes=5))


def test_weekly_instant_and_off() -> None:
    friday = DigestPrefs(frequency="weekly", time="16:00", weekday=4, tz="Europe/Berlin")
    wednesday = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)
    assert next_digest_at(friday, after=wednesday) == datetime(2026, 6, 19, 14, 0, tzinfo=UTC)
    assert last_slot_at_or_before(friday, now=wednesday) == datetime(2026, 6, 12, 14, 0, tzinfo=UTC)
    assert not is_due(friday, last_digest_at=None, now=wednesday)
    assert is_due(friday, last_digest_at=None, now=datetime(2026, 6, 19, 14, 5, tzinfo=UTC))
    # A weekly digest missed by a scheduler outage still goes out the same day.
    assert is_due(friday, last_digest_at=None, now=datetime(2026, 6, 20, 13, 0, tzinfo=UTC))
    monday = DigestPrefs(frequency="weekly")
    assert next_digest_at(monday, after=wednesday) == datetime(2026, 6, 22, 9, 0, tzinfo=UTC)

    instant = DigestPrefs(frequency="instant", tz="Asia/Kolkata")
    assert is_due(instant, last_digest_at=wednesday, now=wednesday + timedelta(minutes=5))
    assert next_digest_at(instant, after=wednesday) == wednesday

    off = DigestPrefs(frequency="off")
    assert not is_due(off, last_digest_at=None, now=wednesday)
    assert next_digest_at(off, after=wednesday) is None


def test_times_are_dst_safe_and_unknown_zones_mean_utc() -> None:
    # 02:30 does not exist in Los Angeles on 2026-03-08: that day's digest comes just after the gap.
    early = DigestPrefs(frequency="daily", time="02:30", tz="America/Los_Angeles")
    after = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    first = next_digest_at(early, after=after)
    assert first == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # 03:30 PDT
    assert next_digest_at(early, after=first) == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    # 01:30 happens twice on 2026-11-01: one digest, at the first.
    repeated = DigestPrefs(frequency="daily", time="01:30", tz="America/Los_Angeles")
    slots = _walk_day(repeated, datetime(2026, 11, 1, tzinfo=UTC))
    assert slots == [datetime(2026, 11, 1, 8, 30, tzinfo=UTC)]
    nowhere = DigestPrefs(frequency="daily", time="09:00", tz="Mars/Olympus_Mons")
    assert next_digest_at(nowhere, after=after) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    # Naive timestamps (SQLite hands them back so) are UTC.
    assert next_digest_at(nowhere, after=after.replace(tzinfo=None)) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00", (9, 0)),
        ("9:30", (9, 30)),
        ("23:59", (23, 59)),
        ("00:00", (0, 0)),
        ("19:00", (19, 0)),
        ("7am", (7, 0)),
        ("7 am", (7, 0)),
        ("7:30pm", (19, 30)),
        ("7:30 PM", (19, 30)),
        ("7 p.m.", (19, 0)),
        ("12am", (0, 0)),
        ("12:15pm", (12, 15)),
        # An hour alone is on the 24-hour clock, as the schedule is shown.
        ("9", (9, 0)),
        ("21", (21, 0)),
        ("0", (0, 0)),
    ],
)
def test_times_parse(text: str, expected: tuple[int, int]) -> None:
    parsed = parse_time(text)
    assert parsed is not None and (parsed.hour, parsed.minute) == expected


@pytest.mark.parametrize(
    "text",
    ["25:00", "12:60", "9.30", "", "0900", "-1:00", "24", "13pm", "0am", "7:3pm", "7 xm", "pm", "nine"],
)
def test_bad_times_are_refused(text: str) -> None:
    assert parse_time(text) is None


@given(st.text(alphabet="0123456789: apmAPM.x", max_size=9))
def test_any_typed_time_is_a_valid_clock_or_refused(text: str) -> None:
    parsed = parse_time(text)
    assert parsed is None or parse_time(format_time(parsed)) == parsed
    request = parse_digest_args(f"daily at {text}")
    assert request.kind in ("set", "error")
    if request.kind == "error":
        assert "`7am`" in request.problem or "didn't understand" in request.problem


def test_weekdays_parse() -> None:
    assert [parse_weekday(w) for w in ("monday", "Fri", "SUNDAYS", "tues", "x", "m")] == [
        0,
        4,
        6,
        1,
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("args", "kind", "frequency", "time", "weekday"),
    [
        ("", "show", "daily", "09:00", 0),
        ("preview", "preview", "daily", "09:00", 0),
        ("daily", "set", "daily", "09:00", 0),
        ("Daily at 7:05", "set", "daily", "07:05", 0),
        ("daily at 7am", "set", "daily", "07:00", 0),
        ("daily at 7 am", "set", "daily", "07:00", 0),
        ("daily at 7:30 p.m.", "set", "daily", "19:30", 0),
        ("daily at 9", "set", "daily", "09:00", 0),
        ("weekly at 7:30pm on fri", "set", "weekly", "19:30", 4),
        ("weekly on fri at 19:00", "set", "weekly", "19:00", 4),
        ("weekly", "set", "weekly", "09:00", 0),
        ("weekly on friday at 16:00", "set", "weekly", "16:00", 4),
        ("weekly at 16:00 on fri", "set", "weekly", "16:00", 4),
        ("instant", "set", "instant", "09:00", 0),
        ("asap", "set", "instant", "09:00", 0),
        ("off", "set", "off", "09:00", 0),
    ],
)
def test_digest_grammar(args: str, kind: str, frequency: str, time: str, weekday: int) -> None:
    request = parse_digest_args(args)
    assert (request.kind, request.frequency, request.time, request.weekday) == (
        kind,
        frequency,
        time,
        weekday,
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("hourly", "“hourly” is not a digest schedule: choose daily, weekly, instant or off."),
        ("daily at 25:00", "“25:00” is not a time: type e.g. `09:00`, `19:30`, `7am` or `7:30pm`"),
        ("daily at 13 pm", "“13 pm” is not a time: type e.g. `09:00`, `19:30`, `7am` or `7:30pm`"),
        ("daily at 9.30", "as in `/peer digest daily at 7am`"),
        ("daily at 7 am please", "I didn't understand “please”: add `at TIME` for the time"),
        ("daily at", "I didn't understand “at”"),
        ("weekly on funday", "“funday” is not a day of the week"),
        ("daily on friday", "`on DAY` is for weekly digests: type `/peer digest weekly on friday`."),
        ("instant at 10:00", "`instant` takes no time or day"),
        ("daily please", "I didn't understand “please”"),
        ("preview now", "Type just `/peer digest preview`."),
        ("<!channel>", "“&lt;!channel&gt;” is not a digest schedule"),
    ],
)
def test_bad_digest_input_says_what_to_type(args: str, problem: str) -> None:
    request = parse_digest_args(args)
    assert request.kind == "error" and problem in request.problem


# ---------------------------------------------------------------------------------------------
# End to end


@pytest.fixture
def kolkata_alice(driver: SlackDriver) -> SlackDriver:
    driver.local.add_user(SlackUser("U0ALICE", "T0TEAM1", "alice", "Alice", tz="Asia/Kolkata"))
    return driver


def _member(runtime: Runtime, viewer: Viewer = ALICE) -> Member:
    with Session(runtime.services.engine) as session:
        member = session.exec(
            select(Member).where(Member.team_id == viewer.team_id, Member.user_id == viewer.user_id)
        ).one()
        session.expunge(member)
        return member


def test_digest_preferences_in_the_members_time_zone(kolkata_alice: SlackDriver, runtime: Runtime) -> None:
    kolkata_alice.command("digest")
    text = all_text(kolkata_alice.last_reply())
    assert "*Your digest:* daily at 09:00 (Asia/Kolkata)" in text
    assert "Last digest: none sent yet." in text and "You follow 0 researchers." in text

    kolkata_alice.command("digest weekly on friday at 16:30")
    text = all_text(kolkata_alice.last_reply())
    assert "Saved: your digest arrives weekly on Fridays at 16:30 (Asia/Kolkata)." in text
    assert "Next: <!date^" in text
    member = _member(runtime)
    assert (member.digest_frequency, member.digest_time, member.digest_weekday, member.tz) == (
        "weekly",
        "16:30",
        4,
        "Asia/Kolkata",
    )

    kolkata_alice.command("digest instant")
    assert "Saved: your digest arrives as soon as new works are found." in all_text(
        kolkata_alice.last_reply()
    )
    kolkata_alice.command("digest off")
    assert "Saved: digests are off. You keep following everyone" in all_text(kolkata_alice.last_reply())
    assert _member(runtime).digest_frequency == "off"
    # users.info once: the zone is cached for a week.
    assert len(kolkata_alice.local.calls_to("users.info")) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest hourly", "“hourly” is not a digest schedule"),
        ("digest daily at 25:00", "“25:00” is not a time"),
        ("digest daily at 9.30", "e.g. `09:00`, `19:30`, `7am` or `7:30pm`"),
    ],
)
def test_bad_digest_input_changes_nothing(
    driver: SlackDriver, runtime: Runtime, text: str, expected: str
) -> None:
    driver.command(text)
    reply = all_text(driver.last_reply())
    assert expected in reply and "Type `/peer digest daily`" in reply
    with Session(runtime.services.engine) as session:
        assert session.exec(select(Member)).first() is None


def test_users_info_failure_keeps_utc_and_never_breaks_the_command(
    driver: SlackDriver, runtime: Runtime
) -> None:
    driver.local.fail_next("users.info", error="user_not_found")
    driver.command("digest daily at 08:00")
    text = all_text(driver.last_reply())
    assert "Saved: your digest arrives daily at 08:00 (UTC)." in text
    assert "Times are in UTC until Slack tells us your time zone." in text
    assert _member(runtime).tz is None
    driver.local.fail_next("users.info", status=500)
    driver.command("digest")
    assert "daily at 08:00 (UTC)" in all_text(driver.last_reply())


def test_a_stale_time_zone_is_read_again_and_a_failure_keeps_the_old_one(
    kolkata_alice: SlackDriver, runtime: Runtime
) -> None:
    kolkata_alice.command("digest")
    with session_scope(runtime.services.engine) as session:
        member = session.exec(select(Member)).one()
        member.tz_checked_at = datetime.now(UTC) - timedelta(days=8)
    kolkata_alice.local.fail_next("users.info", error="ratelimited")
    kolkata_alice.command("digest")
    assert "(Asia/Kolkata)" in all_text(kolkata_alice.last_reply())
    # Alice moved to Los Angeles; the next look-up (still due: the failure recorded nothing) sees it.
    kolkata_alice.local.add_user(SlackUser("U0ALICE", "T0TEAM1", "alice", "Alice", tz="America/Los_Angeles"))
    kolkata_alice.command("digest")
    assert "daily at 09:00 (America/Los_Angeles)" in all_text(kolkata_alice.last_reply())
    assert len(kolkata_alice.local.calls_to("users.info")) == 3


def test_time_zone_refresh_is_due_after_a_week(runtime: Runtime) -> None:
    service = FollowService(runtime.services.engine)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    assert service.time_zone_due(ALICE, now=t0)
    service.digest_settings(ALICE, time_zone="Asia/Kolkata", now=t0)
    assert not service.time_zone_due(ALICE, now=t0 + timedelta(days=7))
    assert service.time_zone_due(ALICE, now=t0 + timedelta(days=7, seconds=1))
    service.digest_settings(ALICE, time_zone="Not/AZone", now=t0 + timedelta(days=8))
    assert _member(runtime).tz == "Asia/Kolkata"


def _pending_item(runtime: Runtime, title: str) -> int:
    profile = runtime.services.profiles.lookup("Samyadeep Basu").profile
    assert profile is not None
    with session_scope(runtime.services.engine) as session:
        member = session.exec(select(Member)).one()
        work = Work(title=title, title_norm=title.lower(), year=2026, openalex_id="W9999999901")
        session.add(work)
        session.flush()
        assert work.id is not None and member.id is not None
        session.add(Delivery(member_id=member.id, work_id=work.id, researcher_id=profile.id))
        return work.id


def test_digest_preview_shows_the_next_digest_and_marks_nothing(
    kolkata_alice: SlackDriver, runtime: Runtime
) -> None:
    kolkata_alice.command("follow Samyadeep Basu")
    kolkata_alice.command("digest preview")
    assert "nothing new from the researchers you follow" in all_text(kolkata_alice.last_reply())

    _pending_item(runtime, "Fragile Influence, Revisited")
    kolkata_alice.command("digest preview")
    reply = kolkata_alice.last_reply()
    text = all_text(reply)
    assert "*Preview of your next digest* (daily at 09:00)" in text
    assert "Fragile Influence, Revisited" in text and "Samyadeep Basu" in text
    assert len(reply["blocks"]) <= 50
    with Session(runtime.services.engine) as session:
        rows: list[Any] = list(session.exec(select(Delivery.status, Delivery.sent_at)))
    assert rows == [("pending", None)]
    assert _member(runtime).last_digest_at is None
