"""Every action_id and callback_id the bot uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    VIEW_PROFILE = "profile_view"
    WHY_SCORE = "profile_why_score"
    SHARE_PROFILE = "profile_share"
    OPENALEX_LOOKUP = "openalex_lookup"
    OPENALEX_IMPORT = "openalex_import"
    # URL buttons still send block_actions; they only need an acknowledgement.
    OPEN_LINK = "open_link"
