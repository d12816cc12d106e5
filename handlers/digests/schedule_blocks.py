"""Digest settings: the schedule line, `/peer digest` answers and preview, the schedule modal."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block, InputBlock, Option, StaticSelectElement, TimePickerElement
from slack_sdk.models.views import View

from handlers.blocks import Reply, context, escape, plural, section
from handlers.digests.digest_blocks import digest_message
from handlers.ids import ScheduleInput
from handlers.ids import View as ViewId
from services.digests.compose import DigestView
from services.digests.follow_views import DigestSettings
from services.digests.schedule import TIME_EXAMPLES, WEEKDAYS, format_time


def slack_date(moment: datetime) -> str:
    """A date Slack shows in the reader's own time zone (UTC in the fallback text)."""
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def schedule_line(settings: DigestSettings) -> str:
    """`daily at 09:00 (Asia/Kolkata)`; instant and off need no time zone."""
    if settings.prefs.frequency in ("daily", "weekly"):
        return f"{settings.summary} ({escape(settings.zone_name)})"
    return settings.summary


def delivery_note(settings: DigestSettings, command: str) -> str:
    """When new works of followed researchers reach the member."""
    if settings.prefs.frequency == "off":
        return f"Digests are off, so nothing arrives until you turn them on: `{command} digest daily`."
    if settings.prefs.frequency == "instant":
        return "New works arrive in a direct message as soon as they are found."
    return f"New works arrive in your digest, {schedule_line(settings)}."


def digest_times(settings: DigestSettings, *, last: str, never: str) -> list[str]:
    """When the next digest goes out (daily and weekly) and when the last one went, with its size."""
    lines = []
    if settings.prefs.frequency in ("daily", "weekly") and settings.next_at:
        lines.append(f"Next: {slack_date(settings.next_at)}")
    if settings.last_digest_at:
        items = f" ({plural(settings.last_digest_items, 'new work')})" if settings.last_digest_items else ""
        lines.append(f"{last}: {slack_date(settings.last_digest_at)}{items}")
    else:
        lines.append(never)
    return lines


def saved_note(settings: DigestSettings) -> str:
    """The confirmation after a schedule change."""
    if settings.prefs.frequency == "off":
        return "Saved: digests are off. You keep following everyone; nothing new reaches you."
    return f"Saved: your digest arrives {schedule_line(settings)}."


def digest_settings_message(settings: DigestSettings, command: str, *, saved: bool = False) -> Reply:
    """`/peer digest`: the schedule, when the next and the last digest go out, and how to change it."""
    schedule = schedule_line(settings)
    first = f":white_check_mark: {saved_note(settings)}" if saved else None
    lines = [first or f"*Your digest:* {schedule}"]
    lines += digest_times(settings, last="Last digest", never="Last digest: none sent yet.")
    muted = f" ({settings.muted} muted)" if settings.muted else ""
    lines.append(f"You follow {plural(settings.following, 'researcher')}{muted}.")
    blocks: list[Block] = [section("\n".join(lines))]
    if settings.prefs.tz is None and settings.prefs.frequency in ("daily", "weekly"):
        blocks.append(context("Times are in UTC until Slack tells us your time zone."))
    blocks.append(
        context(
            f"Change it: `{command} digest daily|weekly|instant|off [on DAY] [at HH:MM]`, "
            f"e.g. `{command} digest weekly on friday at 16:00` or `{command} digest daily at 7am` "
            f"(times like {TIME_EXAMPLES}). "
            f"`{command} digest preview` shows what the next one would hold."
        )
    )
    text = saved_note(settings) if saved else f"Your digest: {settings.summary}"
    return Reply(text, blocks)


def digest_usage(command: str, problem: str) -> Reply:
    """Bad `/peer digest …` input: what was wrong and what to type instead."""
    return Reply(
        problem,
        [
            section(f":warning: {problem}"),
            context(
                f"Type `{command} digest daily`, `{command} digest weekly on monday at 08:30`, "
                f"`{command} digest instant` or `{command} digest off`; `{command} digest` alone shows "
                "your schedule."
            ),
        ],
    )


def digest_preview(view: DigestView, command: str) -> Reply:
    """`/peer digest preview`: the next digest as it would look now; nothing is marked sent."""
    schedule = escape(view.schedule)
    if view.is_empty:
        text = "Nothing new for your next digest yet"
        return Reply(
            text,
            [
                section(
                    f"*Preview:* nothing new from the researchers you follow since your last digest, "
                    f"so right now your next digest ({schedule}) would not be sent. Empty digests never are."
                ),
                context(f"`{command} following` lists whom you follow."),
            ],
        )
    digest = digest_message(view, command=command)
    banner = section(
        f"*Preview of your next digest* ({schedule}). Nothing was marked as sent: these works "
        "still arrive with the real digest."
    )
    # The banner takes the header's place, so the preview keeps the digest's block budget.
    return Reply(f"Preview: {digest.text}", [banner, *digest.blocks[1:]])


FREQUENCY_LABELS = {
    "daily": "Daily",
    "weekly": "Weekly",
    "instant": "As soon as new works are found",
    "off": "Off (no digests)",
}


def _option(label: str, value: str) -> Option:
    return Option(text=label, value=value)


def schedule_modal(settings: DigestSettings) -> View:
    """Edit the digest schedule: how often, at what local time, on which weekday."""
    prefs = settings.prefs
    frequencies = [_option(label, value) for value, label in FREQUENCY_LABELS.items()]
    weekdays = [_option(day, str(index)) for index, day in enumerate(WEEKDAYS)]
    zone = escape(settings.zone_name)
    return View(
        type="modal",
        callback_id=ViewId.DIGEST_SCHEDULE,
        title="Digest schedule",
        submit="Save",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=ScheduleInput.FREQUENCY,
                label="How often",
                element=StaticSelectElement(
                    action_id=ScheduleInput.FREQUENCY,
                    options=frequencies,
                    initial_option=next(
                        (o for o in frequencies if o.value == prefs.frequency), frequencies[0]
                    ),
                ),
            ),
            InputBlock(
                block_id=ScheduleInput.TIME,
                label="At",
                hint=f"Your time: {zone}. Daily and weekly digests only.",
                # Slack's own time picker: a list on mobile, typed on desktop, no format to learn.
                element=TimePickerElement(
                    action_id=ScheduleInput.TIME,
                    initial_time=format_time(prefs.clock),
                    placeholder="Pick a time",
                ),
            ),
            InputBlock(
                block_id=ScheduleInput.WEEKDAY,
                label="On (weekly digests)",
                optional=True,
                element=StaticSelectElement(
                    action_id=ScheduleInput.WEEKDAY,
                    options=weekdays,
                    initial_option=weekdays[prefs.weekday % 7],
                ),
            ),
            context("Nothing new means no message. Turning digests off keeps whom you follow."),
        ],
    )
