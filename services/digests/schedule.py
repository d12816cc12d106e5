"""When a member's digest is due: daily / weekly / instant / off, in the member's own time zone.

Pure functions (no store, no clock) so the delivery job, the Home tab and the tests share one
answer. Local times are built with `zoneinfo` from the IANA name Slack gives (`users.info` `tz`),
never from a cached UTC offset, so daylight-saving changes move nobody's 09:00.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as TimeOfDay
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Frequency = Literal["daily", "weekly", "instant", "off"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "instant", "off")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_TIME = "09:00"
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_ZONE = "UTC"

# How long after a scheduled slot a member still counts as due. The delivery job runs every few
# minutes; this lets a late or restarted scheduler catch up, while works found hours after the
# slot wait for the next one instead of arriving at an odd time. Nothing is lost either way:
# undelivered items stay pending in the ledger.
CATCH_UP: dict[str, timedelta] = {"daily": timedelta(hours=2), "weekly": timedelta(hours=24)}

# 24-hour "19:00", "9:30" or an hour alone ("9", "19"); 12-hour "7am", "7 am", "7:30pm", "7 p.m.".
_TIME_24 = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?")
_TIME_12 = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?\s*([ap])\.?\s*m\.?", re.IGNORECASE)
# What every "that is not a time" answer suggests typing.
TIME_EXAMPLES = "`09:00`, `19:30`, `7am` or `7:30pm`"


@dataclass(frozen=True)
class DigestPrefs:
    """A member's digest preference: how often, at what local time, on which weekday, where."""

    frequency: str = "daily"
    time: str = DEFAULT_TIME  # "HH:MM", 24-hour, local to `tz`
    weekday: int = DEFAULT_WEEKDAY  # 0 = Monday … 6 = Sunday; weekly only
    tz: str | None = None  # IANA name; None or unknown → UTC

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.tz)

    @property
    def clock(self) -> TimeOfDay:
        return parse_time(self.time) or TimeOfDay(9, 0)


def parse_time(text: str) -> TimeOfDay | None:
    """A time of day typed as `19:00` / `9:30` (24-hour), `7am`, `7 am`, `7:30pm` (12-hour), or
    an hour alone, or None ("25:00", "9.30", "13pm", "0900").

    An hour alone is read on the 24-hour clock, like the `HH:MM` the schedule is shown in:
    `9` is 09:00 and `19` is 19:00; whoever means the evening types `9pm` or `21`."""
    text = text.strip()
    if match := _TIME_12.fullmatch(text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group(3).casefold() == "p" else 0)
    elif match := _TIME_24.fullmatch(text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
    else:
        return None
    if hour > 23 or minute > 59:
        return None
    return TimeOfDay(hour, minute)


def format_time(value: TimeOfDay) -> str:
    """`HH:MM`, the form stored on the member."""
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_weekday(text: str) -> int | None:
    """Monday → 0 … Sunday → 6, from a full name, a plural or a three-letter abbreviation."""
    word = text.strip().casefold().rstrip("s")
    for index, name in enumerate(WEEKDAYS):
        full = name.casefold()
        if word == full or (len(word) >= 3 and full.startswith(word)):
            return index
    return None


def valid_zone(name: str | None) -> bool:
    """True for an IANA zone name zoneinfo knows."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str | None) -> ZoneInfo:
    """The member's zone, UTC when unknown."""
    return ZoneInfo(name) if name and valid_zone(name) else ZoneInfo(DEFAULT_ZONE)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; SQLite hands timestamps back naive (they are stored as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _slot(prefs: DigestPrefs, day: date) -> datetime:
    # fold=0: a local time skipped by a spring-forward lands just after the gap (02:30 → 03:30),
    # a repeated one (autumn) counts once, at its first occurrence.
    return datetime.combine(day, prefs.clock, tzinfo=prefs.zone).astimezone(UTC)


def _slots(prefs: DigestPrefs, around: datetime, days: range) -> list[datetime]:
    local_day = around.astimezone(prefs.zone).date()
    candidates = (local_day + timedelta(days=offset) for offset in days)
    return [
        _slot(prefs, day)
        for day in candidates
        if prefs.frequency == "daily" or day.weekday() == prefs.weekday % 7
    ]


def next_digest_at(prefs: DigestPrefs, *, after: datetime) -> datetime | None:
    """The next scheduled digest strictly after `after` (UTC); `after` itself for instant;
    None when digests are off."""
    after = as_utc(after)
    if prefs.frequency == "instant":
        return after
    if prefs.frequency not in ("daily", "weekly"):
        return None
    return min(slot for slot in _slots(prefs, after, range(-1, 9)) if slot > after)


def last_slot_at_or_before(prefs: DigestPrefs, *, now: datetime) -> datetime | None:
    """The most recent scheduled digest time at or before `now` (daily/weekly only)."""
    if prefs.frequency not in ("daily", "weekly"):
        return None
    now = as_utc(now)
    return max(slot for slot in _slots(prefs, now, range(-8, 2)) if slot <= now)


def is_due(
    prefs: DigestPrefs,
    *,
    last_digest_at: datetime | None,
    now: datetime,
    catch_up: timedelta | None = None,
) -> bool:
    """Whether the member's digest should go out at `now`.

    Instant: always (the delivery job sends only when something is pending). Off: never.
    Daily/weekly: when the latest local slot has passed, no digest was sent since it, and it is
    no older than the catch-up window (2 h daily, 24 h weekly by default).
    """
    if prefs.frequency == "instant":
        return True
    slot = last_slot_at_or_before(prefs, now=now)
    if slot is None:
        return False
    window = catch_up if catch_up is not None else CATCH_UP[prefs.frequency]
    if as_utc(now) - slot > window:
        return False
    return last_digest_at is None or as_utc(last_digest_at) < slot


def describe(prefs: DigestPrefs) -> str:
    """`daily at 09:00`, `weekly on Mondays at 09:00`, `as soon as new works are found`, `off`."""
    if prefs.frequency == "daily":
        return f"daily at {format_time(prefs.clock)}"
    if prefs.frequency == "weekly":
        return f"weekly on {WEEKDAYS[prefs.weekday % 7]}s at {format_time(prefs.clock)}"
    if prefs.frequency == "instant":
        return "as soon as new works are found"
    return "off"
