"""The App Home tab: the digest schedule, whom I follow, my profile and invitations, help."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
)
from slack_sdk.models.views import View

from handlers.blocks import button, context, header, section
from handlers.collaboration.home_blocks import claim_review_blocks, collaboration_blocks
from handlers.digests.follow_blocks import followed_blocks, following_summary
from handlers.digests.schedule_blocks import digest_times, schedule_line
from handlers.ids import Action, BlockId
from handlers.research.topic_blocks import followed_topic_blocks
from services.collaboration.claim_types import ClaimView
from services.collaboration.invitation_types import InvitationHome
from services.digests.follow_views import HomeData

# Each follow takes two blocks; 20 of them keep the tab far inside Slack's 100-block limit.
HOME_FOLLOWS = 20
MAX_VIEW_BLOCKS = 100


def help_text(command: str) -> str:
    """The tab's closing help: finding people, your digest, a channel's feed (one section)."""
    digest = "digest daily|weekly|instant|off [on DAY] [at HH:MM]"
    return (
        "*Help*\n"
        f"• `{command} NAME`: a researcher's profile card, with *Follow*\n"
        f"• `{command} who WORDS`: who works on something, e.g. `{command} who influence functions`; "
        "members of this workspace first\n"
        f"• `{command} topic TOPIC`: an OpenAlex topic, by id (T10017) or words, and who works on it\n"
        "*Your digest*\n"
        f"• `{command} follow NAME` · `{command} unfollow NAME` · `{command} following`\n"
        f"• `{command} follow topic TOPIC` · `{command} unfollow topic TOPIC`\n"
        f"• `{command} {digest}`: when your digest arrives\n"
        f"• `{command} digest preview`: what your next digest would hold right now\n"
        "*Channel feeds*: typed in a channel such as #lab-papers, for everyone in it\n"
        f"• `{command} channel follow NAME` · `{command} channel follow topic TOPIC`: their new works "
        "posted there, one post a digest\n"
        f"• `{command} channel follow members`: everyone in the channel who claimed a profile\n"
        f"• `{command} channel`: what the channel follows, with *Unfollow* · "
        f"`{command} channel {digest}`: when it is posted\n"
        f"• `{command} help`: everything else"
    )


def home_view(
    data: HomeData,
    command: str,
    *,
    notice: str | None = None,
    collaboration: InvitationHome | None = None,
    reviews: list[ClaimView] | None = None,
) -> View:
    """The Home tab: the schedule (editable), whom I follow (Unfollow / Mute), my profile and
    invitations, claims to review (admins), help; ≤ 100 blocks."""
    settings, page = data.settings, data.following
    blocks: list[Block] = [header("BZPEER for Slack")]
    if notice:
        blocks.append(section(notice))
    lines = [f"*Your digest:* {schedule_line(settings)}"]
    lines += digest_times(settings, last="Last digest sent", never="Last digest sent: none yet.")
    blocks.append(
        section(
            "\n".join(lines),
            block_id=f"{BlockId.HOME}:schedule",
            accessory=button(
                "Edit schedule",
                action_id=Action.DIGEST_SCHEDULE,
                value="edit",
                label="Edit when your digest arrives",
            ),
        )
    )
    if settings.prefs.tz is None and settings.prefs.frequency in ("daily", "weekly"):
        blocks.append(context("Times are in UTC until Slack tells us your time zone."))
    blocks.append(DividerBlock())
    if page.total == 0 and page.topic_total == 0:
        blocks.append(
            section(
                "*Following*\nYou don't follow anyone yet. Press *Follow* on a researcher's card, or type "
                f"`{command} follow NAME`: their new works then arrive in your digest."
            )
        )
    else:
        blocks.append(section(f"*Following* · {following_summary(page)}"))
        topics = page.topics[:HOME_FOLLOWS]
        for topic in topics:
            blocks.extend(followed_topic_blocks(topic, block_prefix=BlockId.HOME))
        for item in page.items[: HOME_FOLLOWS - len(topics)]:
            blocks.extend(followed_blocks(item, block_prefix=BlockId.HOME))
        shown = len(topics) + min(len(page.items), HOME_FOLLOWS - len(topics))
        hidden = page.total + page.topic_total - shown
        if hidden > 0:
            blocks.append(context(f"…and {hidden} more: `{command} following` lists them all."))
    if collaboration is not None:
        blocks.extend(collaboration_blocks(collaboration, command))
    blocks.extend(claim_review_blocks(reviews or []))
    blocks.append(DividerBlock())
    blocks.append(section(help_text(command)))
    return View(type="home", blocks=blocks[:MAX_VIEW_BLOCKS])
