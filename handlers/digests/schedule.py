"""When digests arrive: `/peer digest [daily|weekly|instant|off [on DAY] [at HH:MM] | preview]`,
and the Home tab's Edit schedule button with its modal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers.background import after_ack, hand_over, handed_over, in_background
from handlers.blocks import Reply, escape
from handlers.context import CommandContext, form_values, fresh_time_zone, now_utc, presser
from handlers.digests.schedule_blocks import (
    FREQUENCY_LABELS,
    digest_preview,
    digest_settings_message,
    digest_usage,
    saved_note,
    schedule_modal,
)
from handlers.home.tab import publish_home
from handlers.ids import Action, ScheduleInput
from handlers.ids import View as ViewId
from handlers.parsing import ParsedCommand
from services.container import Services
from services.digests.schedule import (
    DEFAULT_TIME,
    DEFAULT_WEEKDAY,
    FREQUENCIES,
    TIME_EXAMPLES,
    format_time,
    parse_time,
    parse_weekday,
)

_FREQUENCY_ALIASES = {"asap": "instant", "immediately": "instant", "never": "off"}
# The word after the hour in "at 7 am" / "at 7:30 p.m." belongs to the time.
_MERIDIEM = ("am", "pm", "a.m", "p.m")


@dataclass(frozen=True)
class DigestRequest:
    """What `/peer digest …` asked for."""

    kind: Literal["show", "preview", "set", "error"]
    frequency: str = "daily"
    time: str = DEFAULT_TIME
    weekday: int = DEFAULT_WEEKDAY
    problem: str = ""


def parse_digest_args(args: str, command: str = "/peer") -> DigestRequest:
    """`daily|weekly|instant|off [on DAY] [at HH:MM]`, `preview`, or nothing (show)."""
    words = args.split()
    if not words:
        return DigestRequest("show")
    first = words[0].casefold()
    if first == "preview":
        if len(words) > 1:
            return DigestRequest("error", problem=f"Type just `{command} digest preview`.")
        return DigestRequest("preview")
    frequency = _FREQUENCY_ALIASES.get(first, first)
    if frequency not in FREQUENCIES:
        return DigestRequest(
            "error",
            problem=f"“{_shown(words[0])}” is not a digest schedule: choose daily, weekly, instant or off.",
        )
    clock, weekday, day, rest = None, None, "", words[1:]
    while rest:
        word, value = rest[0].casefold(), rest[1] if len(rest) > 1 else None
        taken = 2
        if word == "at" and value is not None:
            if len(rest) > 2 and rest[2].casefold().rstrip(".") in _MERIDIEM:  # "at 7 am"
                value, taken = f"{value} {rest[2]}", 3
            clock = parse_time(value)
            if clock is None:
                return DigestRequest(
                    "error",
                    problem=f"“{_shown(value)}” is not a time: type e.g. {TIME_EXAMPLES} "
                    f"(an hour alone is on the 24-hour clock), as in `{command} digest {frequency} at 7am`.",
                )
        elif word == "on" and value is not None:
            weekday, day = parse_weekday(value), value
            if weekday is None:
                return DigestRequest(
                    "error",
                    problem=f"“{_shown(value)}” is not a day of the week: type e.g. "
                    f"`{command} digest weekly on monday`.",
                )
        else:
            return DigestRequest(
                "error",
                problem=f"I didn't understand “{_shown(' '.join(rest))}”: add `at TIME` for the time, "
                f"e.g. {TIME_EXAMPLES} (and `on DAY` for weekly digests).",
            )
        rest = rest[taken:]
    if frequency in ("instant", "off") and (clock is not None or weekday is not None):
        return DigestRequest(
            "error",
            problem=f"`{frequency}` takes no time or day: instant digests arrive as soon as new works "
            f"are found, and off sends none. Type `{command} digest {frequency}`.",
        )
    if frequency == "daily" and weekday is not None:
        return DigestRequest(
            "error",
            problem=f"`on DAY` is for weekly digests: type `{command} digest weekly on {_shown(day)}`.",
        )
    return DigestRequest(
        "set",
        frequency=frequency,
        time=format_time(clock) if clock else DEFAULT_TIME,
        weekday=weekday if weekday is not None else DEFAULT_WEEKDAY,
    )


def _shown(text: str) -> str:
    """User input quoted back in a message: short, and without Slack markup."""
    return escape(text[:40]).replace("`", "'")


def handle_digest_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer digest [daily|weekly|instant|off [on DAY] [at HH:MM] | preview]`."""
    request = parse_digest_args(parsed.args, ctx.command)
    if request.kind == "error":
        return digest_usage(ctx.command, request.problem)
    viewer, now = ctx.viewer, now_utc()
    tz = fresh_time_zone(services, ctx.client, viewer, now)
    if request.kind == "preview":
        # Composes from the ledger without marking anything sent.
        member_id = services.follows.member_id(viewer, time_zone=tz, now=now)
        return digest_preview(services.digests.preview(member_id, now=now), ctx.command)
    if request.kind == "show":
        return digest_settings_message(
            services.follows.digest_settings(viewer, time_zone=tz, now=now), ctx.command
        )
    settings = services.follows.set_schedule(
        viewer,
        frequency=request.frequency,
        time=request.time,
        weekday=request.weekday,
        time_zone=tz,
        now=now,
    )
    return digest_settings_message(settings, ctx.command, saved=True)


@dataclass(frozen=True)
class ScheduleForm:
    """The schedule modal as submitted: the choice, or an error per input block."""

    frequency: str = "daily"
    time: str = DEFAULT_TIME
    weekday: int = DEFAULT_WEEKDAY
    errors: dict[str, str] | None = None


def read_schedule_form(values: dict[str, Any]) -> ScheduleForm:
    """Read and check `view.state.values` of the schedule modal."""

    def chosen(field: ScheduleInput) -> dict[str, Any]:
        state = (values.get(field) or {}).get(field) or {}
        return state if isinstance(state, dict) else {}

    errors: dict[str, str] = {}
    frequency = str((chosen(ScheduleInput.FREQUENCY).get("selected_option") or {}).get("value") or "")
    if frequency not in FREQUENCY_LABELS:
        errors[ScheduleInput.FREQUENCY] = "Choose how often your digest arrives."
    # The time picker submits `selected_time` ("HH:mm"); a modal opened before it replaced the
    # text box (still on someone's screen across a deploy) submits the typed `value`.
    time_state = chosen(ScheduleInput.TIME)
    typed = str(time_state.get("selected_time") or time_state.get("value") or "").strip()
    clock = parse_time(typed) if typed else None
    if typed and clock is None:
        errors[ScheduleInput.TIME] = f"“{typed[:20]}” is not a time: type e.g. 09:00, 19:30, 7am or 7:30pm."
    elif not typed and frequency in ("daily", "weekly"):
        errors[ScheduleInput.TIME] = "Pick the time your digest should arrive, e.g. 09:00."
    day = str((chosen(ScheduleInput.WEEKDAY).get("selected_option") or {}).get("value") or "")
    weekday = int(day) if day.isdecimal() and int(day) < 7 else DEFAULT_WEEKDAY
    if errors:
        return ScheduleForm(errors=errors)
    return ScheduleForm(frequency, format_time(clock) if clock else DEFAULT_TIME, weekday)


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the Edit schedule button and the schedule modal."""

    @after_ack(app.action(Action.DIGEST_SCHEDULE))
    def handle_edit_schedule(body: dict[str, Any], client: WebClient) -> None:
        viewer = presser(body)
        if viewer is None or not body.get("trigger_id"):
            return
        # The trigger_id expires 3 s after the press: open the modal with the stored time zone
        # rather than ask users.info first (the submission refreshes it).
        settings = services.follows.digest_settings(viewer, time_zone=None, now=now_utc())
        client.views_open(trigger_id=body["trigger_id"], view=schedule_modal(settings))

    def check_schedule_form(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        form = read_schedule_form(form_values(body))
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        ack()
        hand_over(context, form)

    def save_schedule(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        form, viewer = handed_over(context, ScheduleForm), presser(body)
        if form is None or viewer is None:
            return
        now = now_utc()
        settings = services.follows.set_schedule(
            viewer,
            frequency=form.frequency,
            time=form.time,
            weekday=form.weekday,
            time_zone=fresh_time_zone(services, client, viewer, now),
            now=now,
        )
        notice = f":white_check_mark: {saved_note(settings)}"
        publish_home(services, client, viewer, command, now=now, notice=notice)

    # The form's errors come back in the ack; saving and the Home tab come after it.
    app.view(ViewId.DIGEST_SCHEDULE)(ack=check_schedule_form, lazy=[in_background(save_schedule)])
