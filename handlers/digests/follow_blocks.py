"""Following: what a follow / unfollow / mute did (with undo), and the following list."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from handlers.blocks import Reply, button, context, link, plural, section, shown_name
from handlers.digests.schedule_blocks import delivery_note
from handlers.ids import Action, BlockId
from handlers.research.profile_blocks import profile_card
from handlers.research.topic_blocks import followed_topic_blocks
from handlers.values import ResearcherValue
from services.digests.follow_views import FollowedResearcher, FollowingPage
from services.digests.follows import FollowOutcome
from services.store.text import truncate

WORK_TITLE = 150


def _name(outcome: FollowOutcome) -> str:
    return f"*{shown_name(outcome.name)}*"


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


def _button(
    text: str, action: Action, researcher_id: int, name: str, *, style: str | None = None
) -> ButtonElement:
    value = ResearcherValue(researcher_id=researcher_id).dump()
    return button(text, action_id=action, value=value, style=style, label=f"{text} {name}")


def undo_buttons(outcome: FollowOutcome) -> list[ButtonElement]:
    """The button that reverses (or continues from) what just happened."""
    rid, name = outcome.researcher_id, outcome.name
    if outcome.status in ("followed", "already_following"):
        return [_button("Unfollow", Action.UNFOLLOW, rid, name)]
    if outcome.status in ("unfollowed", "not_following"):
        return [_button("Follow", Action.FOLLOW, rid, name, style="primary")]
    if outcome.status in ("muted", "already_muted"):
        return [
            _button("Unmute", Action.UNMUTE_RESEARCHER, rid, name),
            _button("Unfollow", Action.UNFOLLOW, rid, name),
        ]
    if outcome.status in ("unmuted", "not_muted"):
        return [
            _button("Mute", Action.MUTE_RESEARCHER, rid, name),
            _button("Unfollow", Action.UNFOLLOW, rid, name),
        ]
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
    rid, name = item.researcher_id, item.name
    muted = " · :mute: _muted_" if item.muted else ""
    text = f"*{shown_name(item.name)}*{muted}\n{newest_work_line(item)}"
    mute = (
        _button("Unmute", Action.UNMUTE_RESEARCHER, rid, name)
        if item.muted
        else _button("Mute", Action.MUTE_RESEARCHER, rid, name)
    )
    return [
        section(text, block_id=f"{block_prefix}:{rid}"),
        ActionsBlock(
            block_id=f"{block_prefix}:{rid}:actions",
            elements=[_button("Unfollow", Action.UNFOLLOW, rid, name), mute],
        ),
    ]


def following_summary(page: FollowingPage) -> str:
    muted = f" ({page.muted} muted)" if page.muted else ""
    if not page.topic_total:
        return f"You follow {plural(page.total, 'researcher')}{muted}."
    topics_muted = f" ({page.topics_muted} muted)" if page.topics_muted else ""
    return (
        f"You follow {plural(page.total, 'researcher')}{muted} "
        f"and {plural(page.topic_total, 'topic')}{topics_muted}."
    )


def following_list(page: FollowingPage, command: str, *, notice: str | None = None) -> Reply:
    """`/peer following`: one page of whom the member follows, with Unfollow / Mute buttons."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    if page.total == 0 and page.topic_total == 0:
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
    if not page.items and not page.topics:
        blocks.append(context(f"There is nobody on this page. `{command} following` starts at the top."))
    for topic in page.topics:
        blocks.extend(followed_topic_blocks(topic, block_prefix=f"{BlockId.FOLLOWING}:{page.offset}"))
    for item in page.items:
        blocks.extend(followed_blocks(item, block_prefix=f"{BlockId.FOLLOWING}:{page.offset}"))
    blocks.append(DividerBlock())
    footer = [f"`{command} digest` shows and changes when your digest arrives."]
    if page.remaining:
        footer.insert(0, f"…and {page.remaining} more: `{command} following {page.page + 1}` shows them.")
    blocks.append(context(*footer))
    return Reply(heading, blocks)


def not_following_any(query: str, command: str) -> Reply:
    """`/peer unfollow NAME` when none of the researchers matching NAME is followed."""
    text = f"You don't follow anyone matching “{shown_name(query)}”."
    return Reply(text, [section(text), context(f"`{command} following` lists whom you follow.")])
