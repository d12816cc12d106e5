"""What to answer when a QUERY names nobody, several people, or nothing valid."""

from __future__ import annotations

from collections.abc import Callable

from handlers.blocks import messages
from handlers.blocks.common import Reply
from handlers.blocks.profile import pick_list
from handlers.ids import Action
from services.research.profiles import Lookup


def unresolved(
    command: str,
    lookup: Lookup,
    *,
    suggestion: str | None = None,
    action: str = Action.VIEW_PROFILE,
    value: Callable[[int], str] | None = None,
) -> Reply:
    """A pick list whose buttons carry on with `action`, an invalid-input hint, or "nobody"."""
    if lookup.status == "choices":
        return pick_list(lookup.query, lookup.candidates, action=action, value=value)
    if lookup.status == "invalid":
        return messages.invalid_query(command, lookup.message or "That query is not valid.")
    return messages.not_found(command, lookup.query, lookup.openalex_ref or lookup.query, suggestion)
