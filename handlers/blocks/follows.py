"""Following: what a follow / unfollow / mute did, the following list, and digest settings."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from handlers.blocks.common import Reply, context, escape, link, section
from handlers.blocks.digest import digest_message
from handlers.blocks.profile import NAME, plural, profile_card
from handlers.ids import Action
from handlers.values import ResearcherValue
from services.digests.compose import DigestView
from services.digests.follow_views import DigestSettings, FollowedResearcher, FollowingPage
from services.digests.follows import FollowOutcome
from services.store.text import truncate

# block_id prefix of the following list: a press there re-renders the list in place.
LIST_BLOCK = "following"
WORK_TITLE = 150


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


def _name(outcome: FollowOutcome) -> str:
    return f"*{escape(truncate(outcome.name, NAME))}*"


def outcome_note(outcome: FollowOutcome, command: str) -> str:
    """What happened, kindly, and how to undo it."""
    name = _name(outcome)
    later = delivery_note(outcome.settings, command) if outcome.settings else ""
    notes = {
        "followed": f":white_check_mark: You now follow {name}. {later}",
        "already_following": f"You already follow {name}, nothing to do. {later}",
        "unfollowed": f"You no longer follow {name}. Changed your mind? Press *Follow*.",
        "not_following": f"You don't follow {name}.",
        "muted": (
            f":mute: Muted {name}: their new works stay out of your digests, and you still follow "
            "them. Press *Unmute* to undo."
        ),
        "already_muted": f"{name} is already muted. Press *Unmute* to get their new works again.",
        "unmuted": f":sound: Unmuted {name}: their new works are back in your digests.",
        "not_muted": f"{name} is not muted: their new works are in your digests.",
        "gone": "That researcher is no longer in the store.",
    }
    return notes[outcome.status].strip()


def _button(label: str, action: Action, researcher_id: int, *, style: str | None = None) -> ButtonElement:
    value = ResearcherValue(researcher_id=researcher_id).dump()
    return ButtonElement(text=label, action_id=action, value=value, style=style)


def undo_buttons(outcome: FollowOutcome) -> list[ButtonElement]:
    """The button that reverses (or continues from) what just happened."""
    rid = outcome.researcher_id
    if outcome.status in ("followed", "already_following"):
        return [_button("Unfollow", Action.UNFOLLOW, rid)]
    if outcome.status in ("unfollowed", "not_following"):
        return [_button("Follow", Action.FOLLOW, rid, style="primary")]
    if outcome.status in ("muted", "already_muted"):
        return [_button("Unmute", Action.UNMUTE_RESEARCHER, rid), _button("Unfollow", Action.UNFOLLOW, rid)]
    if outcome.status in ("unmuted", "not_muted"):
        return [_button("Mute", Action.MUTE_RESEARCHER, rid), _button("Unfollow", Action.UNFOLLOW, rid)]
    return []


def follow_card(outcome: FollowOutcome, command: str) -> Reply:
    """The note on top of the researcher's card as the member now sees it (button flipped)."""
    note = outcome_note(outcome, command)
    if outcome.profile is None:
        return Reply(note, [section(note)])
    card = profile_card(outcome.profile)
    return Reply(note, [section(note), *card.blocks])


def follow_notice(outcome: FollowOutcome, command: str) -> Reply:
    """A short ephemeral note with an undo button, for presses in digest DMs and shared cards."""
    note = outcome_note(outcome, command)
    blocks: list[Block] = [section(note)]
    buttons = undo_buttons(outcome)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return Reply(note, blocks)


def newest_work_line(item: FollowedResearcher) -> str:
    """`Newest: 2021 · Title` (linked), or that no works are in the store."""
    work = item.newest_work
    if work is None:
        return "_No works in the store yet._"
    title_text = truncate(work.title, WORK_TITLE)
    title = link(work.url, title_text)
    return f"Newest: {work.year} · {title}" if work.year else f"Newest: {title}"


def followed_blocks(item: FollowedResearcher, *, block_prefix: str) -> list[Block]:
    """One followed researcher: name, newest work, muted or not; Mute/Unmute and Unfollow."""
    rid = item.researcher_id
    muted = " · :mute: _muted_" if item.muted else ""
    text = f"*{escape(truncate(item.name, NAME))}*{muted}\n{newest_work_line(item)}"
    mute = (
        _button("Unmute", Action.UNMUTE_RESEARCHER, rid)
        if item.muted
        else _button("Mute", Action.MUTE_RESEARCHER, rid)
    )
    return [
        section(text, block_id=f"{block_prefix}:{rid}"),
        ActionsBlock(
            block_id=f"{block_prefix}:{rid}:actions",
            elements=[_button("Unfollow", Action.UNFOLLOW, rid), mute],
        ),
    ]


def following_summary(page: FollowingPage) -> str:
    muted = f" ({page.muted} muted)" if page.muted else ""
    return f"You follow {plural(page.total, 'researcher')}{muted}."


def following_list(page: FollowingPage, command: str, *, notice: str | None = None) -> Reply:
    """`/peer following`: one page of whom the member follows, with Unfollow / Mute buttons."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    if page.total == 0:
        text = "You don't follow anyone yet."
        blocks.append(
            section(
                f"{text} Press *Follow* on a researcher's card, or type `{command} follow NAME`; "
                "their new works then arrive in your digest."
            )
        )
        return Reply(text, blocks)
    heading = following_summary(page)
    if page.offset:
        heading += f" Page {page.page}:"
    blocks.append(section(f"*{heading}*"))
    if not page.items:
        blocks.append(context(f"There is nobody on this page. `{command} following` starts at the top."))
    for item in page.items:
        blocks.extend(followed_blocks(item, block_prefix=f"{LIST_BLOCK}:{page.offset}"))
    blocks.append(DividerBlock())
    footer = [f"`{command} digest` shows and changes when your digest arrives."]
    if page.remaining:
        footer.insert(0, f"…and {page.remaining} more: `{command} following {page.page + 1}` shows them.")
    blocks.append(context(*footer))
    return Reply(heading, blocks)


def not_following_any(query: str, command: str) -> Reply:
    """`/peer unfollow NAME` when none of the researchers matching NAME is followed."""
    text = f"You don't follow anyone matching “{escape(truncate(query, NAME))}”."
    return Reply(text, [section(text), context(f"`{command} following` lists whom you follow.")])


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
    if settings.prefs.frequency in ("daily", "weekly") and settings.next_at:
        lines.append(f"Next: {slack_date(settings.next_at)}")
    if settings.last_digest_at:
        items = f" ({plural(settings.last_digest_items, 'new work')})" if settings.last_digest_items else ""
        lines.append(f"Last digest: {slack_date(settings.last_digest_at)}{items}")
    else:
        lines.append("Last digest: none sent yet.")
    muted = f" ({settings.muted} muted)" if settings.muted else ""
    lines.append(f"You follow {plural(settings.following, 'researcher')}{muted}.")
    blocks: list[Block] = [section("\n".join(lines))]
    if settings.prefs.tz is None and settings.prefs.frequency in ("daily", "weekly"):
        blocks.append(context("Times are in UTC until Slack tells us your time zone."))
    blocks.append(
        context(
            f"Change it: `{command} digest daily|weekly|instant|off [at HH:MM]`, "
            f"e.g. `{command} digest weekly on friday at 16:00`. "
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
