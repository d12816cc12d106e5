"""The App Home tab (follows, digest schedule, last digest, help) and the schedule modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks.common import context, escape, header, section
from handlers.blocks.follows import followed_blocks, following_summary, schedule_line, slack_date
from handlers.blocks.invitations import home_blocks as collaboration_blocks
from handlers.blocks.profile import plural
from handlers.ids import Action, ScheduleInput
from handlers.ids import View as ViewId
from services.collaboration.invitation_types import InvitationHome
from services.digests.follow_views import DigestSettings, HomeData
from services.digests.schedule import WEEKDAYS, format_time

# Each follow takes two blocks; 20 of them keep the tab far inside Slack's 100-block limit.
HOME_FOLLOWS = 20
MAX_VIEW_BLOCKS = 100
HOME_BLOCK = "home"

FREQUENCY_LABELS = {
    "daily": "Daily",
    "weekly": "Weekly",
    "instant": "As soon as new works are found",
    "off": "Off (no digests)",
}


def _digest_lines(settings: DigestSettings) -> list[str]:
    lines = [f"*Your digest:* {schedule_line(settings)}"]
    if settings.prefs.frequency in ("daily", "weekly") and settings.next_at:
        lines.append(f"Next: {slack_date(settings.next_at)}")
    if settings.last_digest_at:
        items = f" ({plural(settings.last_digest_items, 'new work')})" if settings.last_digest_items else ""
        lines.append(f"Last digest sent: {slack_date(settings.last_digest_at)}{items}")
    else:
        lines.append("Last digest sent: none yet.")
    return lines


def home_view(
    data: HomeData, command: str, *, notice: str | None = None, collaboration: InvitationHome | None = None
) -> View:
    """The Home tab: the schedule (editable), whom I follow (Unfollow / Mute), help; ≤ 100 blocks."""
    settings, page = data.settings, data.following
    blocks: list[Block] = [header("BZPEER for Slack")]
    if notice:
        blocks.append(section(notice))
    blocks.append(
        section(
            "\n".join(_digest_lines(settings)),
            block_id=f"{HOME_BLOCK}:schedule",
            accessory=ButtonElement(text="Edit schedule", action_id=Action.DIGEST_SCHEDULE, value="edit"),
        )
    )
    if settings.prefs.tz is None and settings.prefs.frequency in ("daily", "weekly"):
        blocks.append(context("Times are in UTC until Slack tells us your time zone."))
    blocks.append(DividerBlock())
    if page.total == 0:
        blocks.append(
            section(
                "*Following*\nYou don't follow anyone yet. Press *Follow* on a researcher's card, or type "
                f"`{command} follow NAME`: their new works then arrive in your digest."
            )
        )
    else:
        blocks.append(section(f"*Following* · {following_summary(page)}"))
        for item in page.items[:HOME_FOLLOWS]:
            blocks.extend(followed_blocks(item, block_prefix=HOME_BLOCK))
        hidden = page.total - min(len(page.items), HOME_FOLLOWS)
        if hidden > 0:
            blocks.append(context(f"…and {hidden} more: `{command} following` lists them all."))
    if collaboration is not None:
        blocks.extend(collaboration_blocks(collaboration, command))
    blocks.append(DividerBlock())
    blocks.append(
        section(
            "*Help*\n"
            f"• `{command} NAME`: a researcher's profile card, with *Follow*\n"
            f"• `{command} follow NAME` · `{command} unfollow NAME` · `{command} following`\n"
            f"• `{command} digest daily|weekly|instant|off [at HH:MM]`: when your digest arrives\n"
            f"• `{command} digest preview`: what your next digest would hold right now\n"
            f"• `{command} help`: everything else"
        )
    )
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])


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
                label="At (24-hour time, HH:MM)",
                hint=f"Your time: {zone}. Daily and weekly digests only.",
                element=PlainTextInputElement(
                    action_id=ScheduleInput.TIME,
                    initial_value=format_time(prefs.clock),
                    placeholder="09:00",
                    max_length=5,
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
