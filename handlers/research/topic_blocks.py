"""Topics in Slack: the topic card, the pick list when words name several, "no such topic", what
a follow / unfollow / mute of a topic did, and a followed topic's row in lists."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from handlers.blocks import Reply, button, context, escape, header, link, plural, section, shown_name
from handlers.ids import Action
from handlers.values import TopicChoiceValue, TopicValue
from services.digests.topic_follows import FollowedTopic, TopicAnswer, TopicCard, TopicFollowOutcome
from services.openalex.topic_lookup import TopicLookup
from services.openalex.topics import TopicCandidate
from services.research.topic_queries import TopicResearcher
from services.store.text import truncate

DESCRIPTION = 700
HINT = 200
EXAMPLE_TOPIC = "T10017"


def topic_url(openalex_id: str | None) -> str | None:
    return f"https://openalex.org/{openalex_id}" if openalex_id else None


def _topic_button(
    text: str, action: Action, topic_id: int, name: str, *, style: str | None = None
) -> ButtonElement:
    value = TopicValue(topic_id=topic_id).dump()
    return button(text, action_id=action, value=value, style=style, label=f"{text} topic {name}")


def _researcher_line(researcher: TopicResearcher) -> str:
    who = (
        f"<@{researcher.user_id}> ({shown_name(researcher.name)})"
        if researcher.user_id
        else shown_name(researcher.name)
    )
    return f"• {who} · {plural(researcher.works, 'work')}"


def card_buttons(card: TopicCard) -> list[ButtonElement]:
    """Follow, or (followed) Unfollow and Mute / Unmute."""
    tid, name = card.facts.topic_id, card.facts.name
    if not card.following:
        return [_topic_button("Follow", Action.TOPIC_FOLLOW, tid, name, style="primary")]
    mute = (
        _topic_button("Unmute", Action.TOPIC_UNMUTE, tid, name)
        if card.muted
        else _topic_button("Mute", Action.TOPIC_MUTE, tid, name)
    )
    return [_topic_button("Unfollow", Action.TOPIC_UNFOLLOW, tid, name), mute]


def topic_card(card: TopicCard, command: str, *, note: str | None = None, in_channel: bool = False) -> Reply:
    """A topic: name, domain › field › subfield, description, works in our store, the researchers
    in the store with most works on it (members here first, mentioned), and Follow."""
    facts = card.facts
    blocks: list[Block] = [section(note)] if note else []
    blocks.append(header(truncate(facts.name, 140)))
    path = " › ".join(escape(part) for part in (facts.domain, facts.field, facts.subfield) if part)
    ref = (
        link(topic_url(facts.openalex_id), facts.openalex_id or "", max_url=100) if facts.openalex_id else ""
    )
    blocks.append(
        section(" · ".join(part for part in (f"*{path}*" if path else "", f"OpenAlex topic {ref}") if part))
    )
    if facts.description:
        blocks.append(section(escape(truncate(facts.description, DESCRIPTION))))
    counts = f"*Works in our store:* {facts.works_in_store:,}"
    if facts.works_count is not None:
        counts += f" · {facts.works_count:,} in OpenAlex"
    blocks.append(section(counts))
    if facts.researchers:
        lines = [_researcher_line(r) for r in facts.researchers]
        blocks.append(section("*Researchers in the store with most works on it*\n" + "\n".join(lines)))
    else:
        blocks.append(context("No researcher in the store has works on this topic yet."))
    blocks.append(ActionsBlock(elements=card_buttons(card)))
    muted = " (muted)" if card.muted else ""
    state = (
        f"You follow this topic{muted}."
        if card.following
        else "Follow it to get its new works in your digest."
    )
    hint = f"`{command} following` lists what you follow."
    if in_channel and facts.openalex_id:
        # The card's buttons act for the viewer; the channel's feed is a command typed here.
        hint += f" `{command} channel follow topic {facts.openalex_id}` posts its new works in this channel."
    blocks.append(context(f"{state} A digest shows the five best cited new works of a topic. {escape(hint)}"))
    return Reply(escape(f"Topic: {truncate(facts.name, 140)}"), blocks)


def _view_button(candidate: TopicCandidate) -> ButtonElement:
    return button(
        "View",
        action_id=Action.TOPIC_VIEW,
        value=TopicChoiceValue(openalex_id=candidate.openalex_id).dump(),
        label=f"View topic {candidate.name}",
    )


def topic_choices(
    lookup: TopicLookup, *, choose: Callable[[TopicCandidate], ButtonElement] = _view_button
) -> Reply:
    """Several topics match the words: one line each, with View (or what `choose` makes)."""
    query = shown_name(lookup.query)
    blocks: list[Block] = [section(f"Several OpenAlex topics match “{query}”. Which one?")]
    for candidate in lookup.candidates:
        details = escape(truncate(candidate.hint, HINT)) if candidate.hint else ""
        works = f"{candidate.works_count:,} works in OpenAlex" if candidate.works_count is not None else ""
        text = "\n".join(
            part
            for part in (f"*{shown_name(candidate.name)}* · {candidate.openalex_id}", details, works)
            if part
        )
        blocks.append(section(text, accessory=choose(candidate)))
    return Reply(escape(f"Several topics match “{truncate(lookup.query, 150)}”"), blocks)


def topic_usage(command: str, usage: str) -> Reply:
    """TOPIC is missing."""
    text = f"Type a topic after {usage}: an OpenAlex topic id, its URL, or words."
    return Reply(
        text,
        [
            section(
                f"Type a topic after `{escape(usage)}`: an OpenAlex topic id "
                f"(`{usage} {EXAMPLE_TOPIC}`), its URL (`https://openalex.org/{EXAMPLE_TOPIC}`) "
                f"or words (`{usage} influence functions`)."
            ),
            context(f"`{escape(command)} help` lists everything the bot can do."),
        ],
    )


def topic_unresolved(command: str, lookup: TopicLookup) -> Reply:
    """TOPIC named no single topic: the pick list, none, or OpenAlex's trouble."""
    if lookup.status == "choices":
        return topic_choices(lookup)
    query = shown_name(lookup.query)
    if lookup.status == "error":
        text = (
            f"Could not look up the topic “{query}”: {escape(lookup.message or 'OpenAlex did not answer.')}"
        )
        return Reply(text, [section(text), context("Please try again in a minute.")])
    text = f"No OpenAlex topic matches “{query}”."
    hint = (
        f"Try other words, or a topic id such as `{EXAMPLE_TOPIC}` or its URL "
        f"(`https://openalex.org/{EXAMPLE_TOPIC}`). To find people instead, `{escape(command)} who WORDS`."
    )
    return Reply(text, [section(text), context(hint)])


def topic_outcome_note(outcome: TopicFollowOutcome, command: str) -> str:
    """What happened to the topic follow, and how to undo it."""
    name = f"*{shown_name(outcome.name)}*"
    notes = {
        "followed": f":white_check_mark: You now follow the topic {name}: its new works come in your digest.",
        "already_following": f"You already follow the topic {name}, nothing to do.",
        "unfollowed": f"You no longer follow the topic {name}. Changed your mind? Press *Follow*.",
        "not_following": f"You don't follow the topic {name}.",
        "muted": f":mute: Muted the topic {name}: its works stay out of your digests. "
        "Press *Unmute* to undo.",
        "already_muted": f"The topic {name} is already muted.",
        "unmuted": f":sound: Unmuted the topic {name}: its new works are back in your digests.",
        "not_muted": f"The topic {name} is not muted.",
        "gone": "That topic is no longer in the store.",
    }
    del command
    return notes[outcome.status]


def topic_answer(answer: TopicAnswer, command: str, *, in_channel: bool = False) -> Reply:
    """`/peer topic|follow topic|unfollow topic TOPIC`: the card (with what changed), or why not."""
    note = topic_outcome_note(answer.outcome, command) if answer.outcome else None
    if answer.card is not None:
        return topic_card(answer.card, command, note=note, in_channel=in_channel)
    if note is not None:
        return Reply(note, [section(note)])
    return topic_unresolved(command, answer.lookup)


def undo_buttons(outcome: TopicFollowOutcome) -> list[ButtonElement]:
    tid, name = outcome.topic_id, outcome.name
    if outcome.status in ("followed", "already_following"):
        return [_topic_button("Unfollow", Action.TOPIC_UNFOLLOW, tid, name)]
    if outcome.status in ("unfollowed", "not_following"):
        return [_topic_button("Follow", Action.TOPIC_FOLLOW, tid, name, style="primary")]
    if outcome.status in ("muted", "already_muted"):
        return [_topic_button("Unmute", Action.TOPIC_UNMUTE, tid, name)]
    if outcome.status in ("unmuted", "not_muted"):
        return [_topic_button("Mute", Action.TOPIC_MUTE, tid, name)]
    return []


def topic_notice(outcome: TopicFollowOutcome, command: str) -> Reply:
    """A short note with an undo button, for presses in digest DMs."""
    note = topic_outcome_note(outcome, command)
    blocks: list[Block] = [section(note)]
    buttons = undo_buttons(outcome)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return Reply(note, blocks)


def followed_topic_blocks(item: FollowedTopic, *, block_prefix: str) -> list[Block]:
    """One followed topic in a list: name (linked), muted or not; Unfollow and Mute / Unmute."""
    tid, name = item.topic_id, item.name
    muted = " · :mute: _muted_" if item.muted else ""
    title = link(topic_url(item.openalex_id), truncate(name, 150), max_url=100)
    mute = (
        _topic_button("Unmute", Action.TOPIC_UNMUTE, tid, name)
        if item.muted
        else _topic_button("Mute", Action.TOPIC_MUTE, tid, name)
    )
    return [
        section(f":label: *{title}* (topic){muted}", block_id=f"{block_prefix}:t{tid}"),
        ActionsBlock(
            block_id=f"{block_prefix}:t{tid}:actions",
            elements=[_topic_button("Unfollow", Action.TOPIC_UNFOLLOW, tid, name), mute],
        ),
    ]
