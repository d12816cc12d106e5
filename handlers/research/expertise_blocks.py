"""The `/peer who WORDS` list: who in the store works on something, each with the reason and
View / Follow, ten per page with Previous / Next; and what to type when there is nothing to list."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock

from handlers.blocks import Reply, button, clip, context, escape, plural, section, shown_name
from handlers.context import is_user_id
from handlers.ids import Action
from handlers.values import ExpertsValue, ResearcherValue
from services.research.expertise import MIN_QUERY, Expert, ExpertPage

EXAMPLE = "influence functions"
# How much of the query and of the example title a message repeats.
QUERY_SHOWN = 80
TITLE_SHOWN = 200


def _query(query: str) -> str:
    return escape(clip(" ".join(query.split()), QUERY_SHOWN).replace("`", "'"))


def reason(expert: Expert) -> str:
    """ "2 works since 2020, e.g. “Influence Functions in Deep Learning Are Fragile”"."""
    count = plural(expert.works, "matching work")
    if expert.since is not None:
        count += f" in {expert.since}" if expert.works == 1 else f" since {expert.since}"
    return f"{count}, e.g. “{escape(clip(expert.example, TITLE_SHOWN))}”"


def _expert_blocks(expert: Expert) -> list[Block]:
    name = f"*{shown_name(expert.name)}*"
    if expert.user_id and is_user_id(expert.user_id):
        name += f" · <@{expert.user_id}>"
    value = ResearcherValue(researcher_id=expert.researcher_id).dump()
    return [
        section(f"{name}\n{reason(expert)}"),
        ActionsBlock(
            block_id=f"who:{expert.researcher_id}",
            elements=[
                button(
                    "View profile",
                    action_id=Action.VIEW_PROFILE_NEW_MESSAGE,
                    value=value,
                    label=f"View profile of {expert.name}",
                ),
                button("Follow", action_id=Action.FOLLOW, value=value, label=f"Follow {expert.name}"),
            ],
        ),
    ]


def _paging(page: ExpertPage) -> list[Block]:
    last = page.first_index + len(page.experts) - 1
    blocks: list[Block] = [
        context(f"Page {page.page} of {page.pages} · researchers {page.first_index}–{last} of {page.total}")
    ]
    shown = " ".join(page.query.split())
    buttons = []
    if page.page > 1:
        buttons.append(
            button(
                "← Previous",
                action_id=f"{Action.WHO_PAGE}:previous",
                value=ExpertsValue(query=shown, page=page.page - 1).dump(),
                label=f"Previous page of researchers for {shown}",
            )
        )
    if page.page < page.pages:
        buttons.append(
            button(
                "Next →",
                action_id=f"{Action.WHO_PAGE}:next",
                value=ExpertsValue(query=shown, page=page.page + 1).dump(),
                label=f"Next page of researchers for {shown}",
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def experts_message(page: ExpertPage) -> Reply:
    """One page of researchers whose works match, members of this workspace first."""
    count = plural(page.total, "researcher")
    blocks: list[Block] = [
        section(f"*Who works on “{_query(page.query)}”* · {count} in the store, by matching works"),
        context("Ranked by works whose title or abstract match, recent and cited ones weighing more."),
        DividerBlock(),
    ]
    for expert in page.experts:
        blocks.extend(_expert_blocks(expert))
    blocks.extend(_paging(page))
    return Reply(f"Who works on {_query(page.query)}: {count}, page {page.page} of {page.pages}", blocks)


def too_short(command: str) -> Reply:
    """No words, or fewer than MIN_QUERY letters of them."""
    return Reply(
        f"Type a few words after {command} who, e.g. {command} who {EXAMPLE}",
        [
            section(
                f"Type what you are looking for after `{command} who`, at least {MIN_QUERY} letters: "
                f"words from titles or abstracts, e.g. `{command} who {EXAMPLE}`."
            ),
            context(f"To find a person by name, type `{command} NAME`."),
        ],
    )


def no_match(command: str, query: str) -> Reply:
    """Nobody in the store has a work matching every word."""
    shown = _query(query)
    return Reply(
        f"No works in the store match {shown}",
        [
            section(
                f"No work in the store has every word of “{shown}” in its title or abstract. "
                "Try fewer or more general words, e.g. "
                f"`{command} who {EXAMPLE}`."
            ),
            context(f"To find a person by name, type `{command} NAME`."),
        ],
    )
