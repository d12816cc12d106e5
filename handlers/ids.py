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
    # Papers and collaborators (research graph).
    PAPERS = "papers_show"
    PAPERS_PAGE = "papers_page"
    PAPERS_CLEAR_FILTER = "papers_clear_filter"
    COLLABORATORS = "collaborators_show"
    GRAPH = "graph_show"
    # Following and digests.
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    MUTE_RESEARCHER = "mute_researcher"
    UNMUTE_RESEARCHER = "unmute_researcher"
    DIGEST_SCHEDULE = "digest_schedule_edit"


class View(StrEnum):
    """callback_id of modals."""

    DIGEST_SCHEDULE = "digest_schedule"
