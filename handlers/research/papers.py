"""`/peer papers QUERY [year:YYYY] [type:preprint|article] [sort:cited]` and the papers buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from slack_bolt import App, Respond

from handlers import messages
from handlers.background import after_ack
from handlers.blocks import Reply, escape
from handlers.context import CommandContext, pressed_value, tell_presser, unresolved
from handlers.ids import Action
from handlers.parsing import ParsedCommand
from handlers.research.paper_blocks import bad_filter, papers_message, papers_value
from handlers.values import PapersValue
from services.container import Services
from services.research.papers import WORK_TYPES, PaperFilters, PaperSort, WorkType

# Only these words are options: "https://openalex.org/A…" and names stay the QUERY.
_OPTION = re.compile(r"^(year|type|sort):(.*)$", re.IGNORECASE)
_YEAR = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class PapersRequest:
    """The QUERY and filters of `/peer papers …`, or why the options cannot be used."""

    query: str = ""
    filters: PaperFilters = field(default_factory=PaperFilters)
    error: str | None = None


def _shown(value: str) -> str:
    return escape(value[:30].replace("`", "'"))


def parse_papers_request(text: str) -> PapersRequest:
    """Split `Samyadeep Basu year:2021 type:preprint` into the QUERY and its filters."""
    words: list[str] = []
    options: dict[str, str] = {}
    for token in text.split():
        match = _OPTION.match(token)
        if match is None:
            words.append(token)
            continue
        key, value = match.group(1).casefold(), match.group(2)
        if key in options:
            return PapersRequest(error=f"Give `{key}:` only once, e.g. `{key}:{options[key] or '…'}`.")
        options[key] = value
    year: int | None = None
    if "year" in options:
        raw = options["year"]
        if not _YEAR.match(raw) or not 1000 <= int(raw) <= 2999:
            return PapersRequest(
                error=f"`year:{_shown(raw)}` is not a year. Type four digits after `year:`, e.g. `year:2021`."
            )
        year = int(raw)
    kind: WorkType | None = None
    if "type" in options:
        raw = options["type"].casefold()
        if raw not in WORK_TYPES:
            return PapersRequest(
                error=f"`type:{_shown(options['type'])}` is not a type I can filter on. "
                "Type `type:preprint` or `type:article`."
            )
        kind = cast(WorkType, raw)
    sort: PaperSort = "newest"
    if "sort" in options:
        if options["sort"].casefold() != "cited":
            return PapersRequest(
                error=f"`sort:{_shown(options['sort'])}` is not an order I know. "
                "Type `sort:cited` for the most cited first (without it, the newest come first)."
            )
        sort = "cited"
    return PapersRequest(query=" ".join(words), filters=PaperFilters(year=year, type=kind, sort=sort))


def handle_papers_command(services: Services, parsed: ParsedCommand, ctx: CommandContext) -> Reply:
    """`/peer papers QUERY [year:YYYY] [type:…] [sort:cited]`: the first page, or why there is none."""
    request = parse_papers_request(parsed.query)
    if request.error:
        return bad_filter(ctx.command, request.error)
    if not request.query:
        return messages.empty_query(ctx.command, "papers")
    found = services.papers.find(request.query, request.filters)
    if found.result is None:
        filters = request.filters
        return unresolved(
            ctx.command,
            found.lookup,
            action=Action.PAPERS,
            value=lambda rid: papers_value(rid, filters),
        )
    return papers_message(found.result)


def _page_reply(services: Services, body: dict[str, Any]) -> Reply:
    value = PapersValue.load(pressed_value(body))
    if value is None:
        return messages.stale_button()
    filters = PaperFilters(year=value.year, type=value.type, sort=value.sort or "newest")
    page = services.papers.page(value.researcher_id, filters, value.page)
    return papers_message(page) if page else messages.researcher_gone()


def register(app: App, services: Services) -> None:
    """Attach the papers buttons: open the list (card, pick list), page, remove a filter."""

    @after_ack(app.action(Action.PAPERS))
    def handle_papers_button(body: dict[str, Any], respond: Respond) -> None:
        # From a card or pick list: the list comes as a new message below it.
        reply = _page_reply(services, body)
        tell_presser(respond, reply)

    @after_ack(app.action(re.compile(f"^(?:{Action.PAPERS_PAGE}|{Action.PAPERS_CLEAR_FILTER})(?::|$)")))
    def handle_papers_page(body: dict[str, Any], respond: Respond) -> None:
        # Previous / Next / remove a filter: the same message shows the new page.
        reply = _page_reply(services, body)
        respond(replace_original=True, **reply.payload())
