"""`/peer channel follow QUERY` for someone not in the store yet: the offer to look them up on
OpenAlex for the channel, and the pick list of OpenAlex authors whose buttons follow for it."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from handlers import messages
from handlers.blocks import Reply, button, context, escape, section
from handlers.ids import Action
from handlers.parsing import MAX_QUERY
from handlers.values import ChannelAuthorValue, ChannelLookupValue
from services.openalex.author_lookup import OpenAlexLookup
from services.openalex.records import AuthorCandidate


def channel_not_found(query: str, openalex_ref: str, channel_id: str, where: str) -> Reply:
    """Nobody in the store answers: offer the look-up whose result the channel follows (a
    personal card's Follow would follow for the presser, not for the channel)."""
    text = f"No researcher matching “{escape(query)}” is in the store yet."
    value = ChannelLookupValue(query=openalex_ref[:MAX_QUERY], channel_id=channel_id).dump()
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            elements=[
                button(
                    "Look up on OpenAlex and follow",
                    action_id=Action.CHANNEL_LOOKUP,
                    value=value,
                    style="primary",
                    label=f"Look up and follow in {where}: {query}",
                )
            ]
        ),
        context(
            f"Found there, they are imported and {escape(where)} follows them. "
            "Or try another spelling, an OpenAlex author id (A…) or an ORCID."
        ),
    ]
    return Reply(text, blocks)


def channel_author_choices(result: OpenAlexLookup, channel_id: str, where: str) -> Reply:
    """What an OpenAlex look-up for a channel found when it is not one author: several, each
    with *Follow* (import, then the channel follows), or why none."""

    def choose(candidate: AuthorCandidate, about: str) -> ButtonElement:
        return button(
            "Follow",
            action_id=Action.CHANNEL_IMPORT,
            value=ChannelAuthorValue(openalex_id=candidate.openalex_id, channel_id=channel_id).dump(),
            label=f"Follow in {where}: {candidate.display_name}" + (f" ({about})" if about else ""),
        )

    return messages.openalex_result_message(
        result, choose=choose, ask=f"Follow the one you mean in {escape(where)}:"
    )
