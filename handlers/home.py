"""The App Home tab and the digest schedule modal opened from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers.background import after_ack, hand_over, handed_over, in_background
from handlers.blocks.follows import saved_note
from handlers.blocks.home import FREQUENCY_LABELS, schedule_modal
from handlers.follows import fresh_time_zone, presser, publish_home, viewer_of
from handlers.ids import Action, ScheduleInput
from handlers.ids import View as ViewId
from services.container import Services
from services.digests.schedule import DEFAULT_TIME, DEFAULT_WEEKDAY, format_time, parse_time


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
    typed = str(chosen(ScheduleInput.TIME).get("value") or "").strip()
    clock = parse_time(typed) if typed else None
    if typed and clock is None:
        errors[ScheduleInput.TIME] = f"“{typed[:20]}” is not a time: type HH:MM (24-hour), e.g. 09:00."
    elif not typed and frequency in ("daily", "weekly"):
        errors[ScheduleInput.TIME] = "Type the time your digest should arrive, e.g. 09:00."
    day = str((chosen(ScheduleInput.WEEKDAY).get("selected_option") or {}).get("value") or "")
    weekday = int(day) if day.isdecimal() and int(day) < 7 else DEFAULT_WEEKDAY
    if errors:
        return ScheduleForm(errors=errors)
    return ScheduleForm(frequency, format_time(clock) if clock else DEFAULT_TIME, weekday)


def register(app: App, services: Services, *, command: str) -> None:
    """Attach the Home tab event, the Edit schedule button and the schedule modal."""

    @after_ack(app.event("app_home_opened"))
    def handle_app_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        # The event also fires for the Messages tab; only the Home tab has a view to publish.
        viewer = viewer_of(event.get("user"), body.get("team_id") or (event.get("view") or {}).get("team_id"))
        if event.get("tab") != "home" or viewer is None:
            return
        publish_home(services, client, viewer, command, now=datetime.now(UTC))

    @after_ack(app.action(Action.DIGEST_SCHEDULE))
    def handle_edit_schedule(body: dict[str, Any], client: WebClient) -> None:
        viewer = presser(body)
        if viewer is None or not body.get("trigger_id"):
            return
        # The trigger_id expires 3 s after the press: open the modal with the stored time zone
        # rather than ask users.info first (the submission refreshes it).
        settings = services.follows.digest_settings(viewer, time_zone=None, now=datetime.now(UTC))
        client.views_open(trigger_id=body["trigger_id"], view=schedule_modal(settings))

    def check_schedule_form(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        form = read_schedule_form(((body.get("view") or {}).get("state") or {}).get("values") or {})
        if form.errors:
            ack(response_action="errors", errors=form.errors)
            return
        ack()
        hand_over(context, form)

    def save_schedule(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        form, viewer = handed_over(context, ScheduleForm), presser(body)
        if form is None or viewer is None:
            return
        now = datetime.now(UTC)
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
