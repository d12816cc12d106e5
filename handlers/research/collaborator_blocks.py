"""Close and suggested collaborators, each suggestion with its reason; the research graph's private
answer, its Share in channel button, and the notes that go with the picture."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock

from handlers.blocks import NAME, Reply, button, context, escape, header, plural, section, shown_name
from handlers.ids import Action, BlockId
from handlers.research.profile_blocks import FIELD
from handlers.values import GraphShareValue, LookupValue, ResearcherValue
from services.research.collaborators import Collaborators, Suggestion
from services.research.graph_picture import GraphPicture
from services.store.text import truncate

NAMES_IN_REASON = 3
TOPICS_IN_REASON = 2
# Close collaborators named in the picture's text version (the picture may hold more).
CLOSE_IN_FALLBACK = 10
# Co-authors offered for an OpenAlex look-up when nobody is in reach.
LOOKUPS_OFFERED = 3


def _listing(names: list[str], total: int) -> str:
    more = total - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def reason(suggestion: Suggestion) -> str:
    """Why someone is suggested, in words: shared co-authors, then shared topics."""
    parts = []
    if suggestion.shared_coauthor_count:
        names = [shown_name(p.name) for p in suggestion.shared_coauthors[:NAMES_IN_REASON]]
        count = suggestion.shared_coauthor_count
        label = "shared co-author" if count == 1 else "shared co-authors"
        parts.append(f"{count} {label}: {_listing(names, count)}")
    if suggestion.shared_topics:
        topics = [escape(truncate(t, FIELD)) for t in suggestion.shared_topics[:TOPICS_IN_REASON]]
        label = "shared topic" if len(suggestion.shared_topics) == 1 else "shared topics"
        parts.append(f"{label} {_listing(topics, len(suggestion.shared_topics))}")
    return " · ".join(parts)


def _close_section(found: Collaborators) -> Block:
    name = shown_name(found.researcher_name)
    if not found.close:
        return section(f"*Close collaborators*\nNo co-authors of {name} are in the store yet.")
    rows = "\n".join(f"• {shown_name(c.name)} · {plural(c.shared_works, 'shared work')}" for c in found.close)
    more = found.close_total - len(found.close)
    if more > 0:
        rows += f"\nand {more} more"
    return section(
        f"*Close collaborators* · {plural(found.close_total, 'co-author')}, most shared works first\n{rows}"
    )


def _suggestion_blocks(suggestion: Suggestion) -> list[Block]:
    openness = "Open to collaborate" if suggestion.open_to_collaborate else "Not open to collaboration"
    details = " · ".join(
        part
        for part in (
            escape(truncate(suggestion.affiliation, FIELD)) if suggestion.affiliation else None,
            openness,
        )
        if part
    )
    value = ResearcherValue(researcher_id=suggestion.id).dump()
    who = suggestion.name
    buttons = [
        button(
            "View profile",
            action_id=Action.VIEW_PROFILE_NEW_MESSAGE,
            value=value,
            label=f"View profile of {who}",
        ),
        button("Follow", action_id=Action.FOLLOW, value=value, label=f"Follow {who}"),
    ]
    if suggestion.claimed and suggestion.open_to_collaborate:
        # Only a claimed profile has a member to invite; the press re-checks everything.
        buttons.append(
            button(
                "Invite to collaborate",
                action_id=Action.INVITE,
                value=value,
                label=f"Invite {who} to collaborate",
            )
        )
    return [
        section(f"*{shown_name(suggestion.name)}* · {details}\n{reason(suggestion)}"),
        ActionsBlock(block_id=f"{BlockId.SUGGESTION}:{suggestion.id}", elements=buttons),
    ]


def _nobody_in_reach(found: Collaborators) -> list[Block]:
    name = shown_name(found.researcher_name)
    if not found.close:
        return [
            section(
                f"*Suggested collaborators*\nWith no co-authors in the store, {name} has nobody in reach yet."
            ),
            context(
                "Import their works from OpenAlex first: operators run `bzpeer import <OpenAlex id>`, "
                "or use *Look up on OpenAlex* when a search finds nobody."
            ),
        ]
    blocks: list[Block] = [
        section(
            f"*Suggested collaborators*\nNobody in the store is two co-authorship steps from {name} "
            "without already being a co-author."
        ),
        context(
            "Import co-authors' co-authors to widen the net: operators run `bzpeer import <OpenAlex id>` "
            "for each co-author; anyone can look a co-author up on OpenAlex here."
        ),
    ]
    for person in found.close[:LOOKUPS_OFFERED]:
        blocks.append(
            section(
                f"• {shown_name(person.name)}",
                accessory=button(
                    "Look up on OpenAlex",
                    action_id=Action.OPENALEX_LOOKUP,
                    value=LookupValue(query=person.openalex_id or truncate(person.name, 200)).dump(),
                    label=f"Look up {person.name} on OpenAlex",
                ),
            )
        )
    return blocks


def collaborators_message(found: Collaborators) -> Reply:
    """Close collaborators (top ten, with counts) and up to five suggestions with reasons."""
    name = truncate(found.researcher_name, NAME)
    blocks: list[Block] = [header(f"Collaborators of {name}"), _close_section(found), DividerBlock()]
    if not found.suggestions:
        blocks.extend(_nobody_in_reach(found))
        return Reply(escape(f"Collaborators of {name}: nobody to suggest yet"), blocks)
    blocks.append(
        section(
            "*Suggested collaborators* · two co-authorship steps away, not yet co-authors, "
            "open to collaborate first"
        )
    )
    for suggestion in found.suggestions:
        blocks.extend(_suggestion_blocks(suggestion))
    blocks.append(
        context(
            "Ranked by shared co-authors (Adamic-Adar: a co-author who writes with few people counts more) "
            "and shared topics."
        )
    )
    first = found.suggestions[0]
    return Reply(escape(f"Collaborators of {name}: first suggestion {truncate(first.name, NAME)}"), blocks)


def graph_fallback(picture: GraphPicture) -> str:
    """Who is in the picture, as text (the picture's fallback for anyone who cannot see it)."""
    found = picture.collaborators
    close = [
        f"{shown_name(c.name)} ({plural(c.shared_works, 'shared work')})"
        for c in found.close[:CLOSE_IN_FALLBACK]
    ]
    suggested = [
        f"{shown_name(s.name)} ({plural(s.shared_coauthor_count, 'shared co-author')})"
        for s in found.suggestions
    ]
    return "\n".join(
        [
            f"• Researcher: {shown_name(found.researcher_name)}",
            "• Close collaborators: "
            + (_listing(close, found.close_total) if close else "none in the store"),
            "• Suggested collaborators: " + (", ".join(suggested) if suggested else "none yet"),
        ]
    )


def graph_comment(picture: GraphPicture) -> str:
    """The message that comes with the picture in the asker's DM."""
    name = shown_name(picture.collaborators.researcher_name)
    return f"Research graph of *{name}*, as you asked. Only you can see it here."


def graph_shared_comment(picture: GraphPicture, *, shared_by: str) -> str:
    """The message that comes with the picture in a channel; `shared_by` is the presser's user id."""
    name = shown_name(picture.collaborators.researcher_name)
    return f"Research graph of *{name}*. Shared by <@{shared_by}>"


def graph_sent(picture: GraphPicture, *, share: GraphShareValue | None) -> Reply:
    """Told only to the asker: the picture is in their DM, with Share in channel when there is one."""
    found_name = picture.collaborators.researcher_name
    name = shown_name(found_name)
    where = f"I sent the research graph of {name} to you in a direct message; only you can see it."
    blocks: list[Block] = [
        section(f":frame_with_picture: {where}"),
        section(f"*In the picture*\n{graph_fallback(picture)}"),
    ]
    if share is not None:
        blocks.append(
            ActionsBlock(
                elements=[
                    button(
                        "Share in channel",
                        action_id=Action.GRAPH_SHARE,
                        value=share.dump(),
                        label=f"Share in channel the research graph of {found_name}",
                    )
                ]
            )
        )
        blocks.append(context("*Share in channel* posts it here for everyone, saying you shared it."))
    return Reply(where, blocks)


def graph_shared(picture: GraphPicture) -> Reply:
    """The asker's private note once the picture is in the channel (no second Share button)."""
    name = shown_name(picture.collaborators.researcher_name)
    text = f":white_check_mark: You shared the research graph of {name} in this channel."
    return Reply(text, [section(text)])


# Why the bot cannot post in a channel, by Slack's error code.
CANNOT_POST = {
    "not_in_channel": "I'm not a member of this channel",
    "channel_not_found": "I'm not a member of this channel",
    "is_archived": "This channel is archived",
    "restricted_action": "This workspace does not let me post in this channel",
}


def graph_share_refused(error: str) -> Reply:
    """Told only to the presser: why the picture could not be shared here, and what to do."""
    why = CANNOT_POST.get(error, "I cannot post in this channel")
    hint = (
        "Invite me with `/invite @bzpeer`, then press *Share in channel* again."
        if error in ("not_in_channel", "channel_not_found")
        else "The picture is still in your direct messages with me."
    )
    text = f"{why}, so I could not share the research graph here. {hint}"
    return Reply(text, [section(text)])
