"""The papers list: one page of works with their citations and open-access links, its filters and
order (each removable) and Previous / Next."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from handlers.blocks import Reply, clip, context, plural, section, shown_name
from handlers.ids import Action
from handlers.research.profile_blocks import work_line
from handlers.values import PapersValue
from services.research.papers import PaperFilters, PaperPage
from services.research.profiles import WorkSummary

# Text per listed work: five of them plus the header, filters and paging stay well under
# MAX_MESSAGE_TEXT (Slack's undocumented msg_blocks_too_long ceiling).
ITEM_BUDGET = 1700
EXAMPLE = "Samyadeep Basu year:2021 type:preprint sort:cited"


def filter_words(filters: PaperFilters) -> list[str]:
    """The filters as the user types them: `year:2021`, `type:preprint` (the order is not one)."""
    words = []
    if filters.year is not None:
        words.append(f"year:{filters.year}")
    if filters.type is not None:
        words.append(f"type:{filters.type}")
    return words


def papers_value(researcher_id: int, filters: PaperFilters, page: int = 1) -> str:
    """The button value for a place in a papers list: page, filters and order."""
    return PapersValue(
        researcher_id=researcher_id,
        page=page,
        year=filters.year,
        type=filters.type,
        sort="cited" if filters.sort == "cited" else None,
    ).dump()


def _value(page: PaperPage, number: int, filters: PaperFilters) -> str:
    return papers_value(page.researcher_id, filters, number)


def paper_item(work: WorkSummary) -> str:
    """A work as work_line renders it, shortened (links, then abstract dropped) to fit the budget."""
    line = work_line(work)
    if len(line) > ITEM_BUDGET:
        line = work_line(replace(work, url=None, oa_url=None))
    if len(line) > ITEM_BUDGET:
        line = work_line(replace(work, url=None, oa_url=None, abstract=None))
    return clip(line, ITEM_BUDGET)


def _remove_button(page: PaperPage, word: str, key: str, filters: PaperFilters) -> ButtonElement:
    return ButtonElement(
        text=f"✕ {word}",
        action_id=f"{Action.PAPERS_CLEAR_FILTER}:{key}",
        value=_value(page, 1, filters),
        accessibility_label=clip(f"Remove {word} from the papers of {page.researcher_name}", 75),
    )


def _filter_blocks(page: PaperPage) -> list[Block]:
    filters = page.filters
    cited = filters.sort == "cited"
    if not filters.active and not cited:
        return []
    words = filter_words(filters)
    buttons = []
    if filters.year is not None:
        buttons.append(_remove_button(page, f"year:{filters.year}", "year", replace(filters, year=None)))
    if filters.type is not None:
        buttons.append(_remove_button(page, f"type:{filters.type}", "type", replace(filters, type=None)))
    if cited:
        buttons.append(_remove_button(page, "sort:cited", "sort", replace(filters, sort="newest")))
    said = []
    if words:
        said.append("Filtered by " + " · ".join(f"`{w}`" for w in words))
    if cited:
        said.append("most cited first (`sort:cited`)")
    return [
        context("; ".join(said) + ". Press one to remove it."),
        ActionsBlock(elements=buttons),
    ]


def _paging(page: PaperPage) -> list[Block]:
    last = page.first_index + len(page.works) - 1
    blocks: list[Block] = [
        context(f"Page {page.page} of {page.pages} · items {page.first_index}–{last} of {page.total}")
    ]
    buttons = []
    if page.page > 1:
        buttons.append(
            ButtonElement(
                text="← Previous",
                action_id=f"{Action.PAPERS_PAGE}:previous",
                value=_value(page, page.page - 1, page.filters),
                accessibility_label=clip(f"Previous page of the papers of {page.researcher_name}", 75),
            )
        )
    if page.page < page.pages:
        buttons.append(
            ButtonElement(
                text="Next →",
                action_id=f"{Action.PAPERS_PAGE}:next",
                value=_value(page, page.page + 1, page.filters),
                accessibility_label=clip(f"Next page of the papers of {page.researcher_name}", 75),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def papers_message(page: PaperPage) -> Reply:
    """One page of a researcher's works, newest (or most cited) first; a clear sentence when there
    are none."""
    name = shown_name(page.researcher_name)
    words = " · ".join(f"`{w}`" for w in filter_words(page.filters))
    count = plural(page.total, "published item")
    if page.filters.active:
        count += f" match {words} ({page.all_works} in all)"
    if page.filters.sort == "cited":
        count += ", most cited first"
    blocks: list[Block] = [section(f"*Published work of {name}* · {count}")]
    if page.all_works == 0:
        blocks.append(
            context(
                f"No works of {name} are in the store yet. Importing them from OpenAlex "
                "(`bzpeer import`, or *Look up on OpenAlex*) brings their publications in."
            )
        )
        return Reply(f"{name} has no works in the store yet", blocks)
    blocks.extend(_filter_blocks(page))
    if page.total == 0:
        every = plural(page.all_works, "published item")
        blocks.append(section(f"None of the {every} of {name} match {words}."))
        return Reply(f"No works of {name} match {' '.join(filter_words(page.filters))}", blocks)
    blocks.append(DividerBlock())
    blocks.extend(section(paper_item(work)) for work in page.works)
    blocks.extend(_paging(page))
    return Reply(f"{name}: {count}, page {page.page} of {page.pages}", blocks)


def bad_filter(command: str, message: str) -> Reply:
    """A year:, type: or sort: value we cannot use, with what to type instead."""
    return Reply(
        message,
        [section(message), context(f"For example: `{command} papers {EXAMPLE}`")],
    )
