"""Every action_id, callback_id and block_id prefix the bot uses, in one place. They are part of
what Slack keeps: a message posted months ago still carries them, so they never change
(tests/test_slack_ids.py pins them)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    VIEW_PROFILE = "profile_view"
    WHY_SCORE = "profile_why_score"
    SHARE_PROFILE = "profile_share"
    # "More…" on a card: the secondary buttons (collaborators, graph, share, links) as a reply.
    CARD_MORE = "profile_more"
    OPENALEX_LOOKUP = "openalex_lookup"
    OPENALEX_IMPORT = "openalex_import"
    # URL buttons still send block_actions; they only need an acknowledgement.
    OPEN_LINK = "open_link"
    # Papers and collaborators (research graph).
    PAPERS = "papers_show"
    PAPERS_PAGE = "papers_page"
    PAPERS_CLEAR_FILTER = "papers_clear_filter"
    WHO_PAGE = "who_page"
    COLLABORATORS = "collaborators_show"
    GRAPH = "graph_show"
    # On the private answer to /peer graph: post the picture in the channel where it was asked.
    GRAPH_SHARE = "graph_share"
    # "View profile" on a suggestion: the card comes as a new message, the suggestions stay.
    VIEW_PROFILE_NEW_MESSAGE = "profile_view_new_message"
    # Following and digests.
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    MUTE_RESEARCHER = "mute_researcher"
    UNMUTE_RESEARCHER = "unmute_researcher"
    DIGEST_SCHEDULE = "digest_schedule_edit"
    # Topics: a pick-list choice (the card), and following a topic.
    TOPIC_VIEW = "topic_view"
    TOPIC_FOLLOW = "topic_follow"
    TOPIC_UNFOLLOW = "topic_unfollow"
    TOPIC_MUTE = "topic_mute"
    TOPIC_UNMUTE = "topic_unmute"
    # Channel feeds: a pick list's Follow, and Unfollow in `/peer channel`'s list.
    CHANNEL_FOLLOW = "channel_follow"
    CHANNEL_UNFOLLOW = "channel_unfollow"
    # A channel's topics: a pick list's Follow / Unfollow, and Unfollow in `/peer channel`'s list.
    CHANNEL_TOPIC_FOLLOW = "channel_topic_follow"
    CHANNEL_TOPIC_UNFOLLOW = "channel_topic_unfollow"
    # A channel's follow of someone not in the store: look up on OpenAlex, import one of several.
    CHANNEL_LOOKUP = "channel_lookup"
    CHANNEL_IMPORT = "channel_import"
    # Claims and invitations.
    CLAIM = "claim_profile"
    CLAIM_APPROVE = "claim_approve"
    CLAIM_REJECT = "claim_reject"
    CLAIM_REVOKE = "claim_revoke"
    PROFILE_EDIT = "profile_edit"
    INVITE = "invite_open"
    INVITE_ACCEPT = "invite_accept"
    INVITE_DECLINE = "invite_decline"
    INVITE_MUTE_PERSON = "invite_mute_person"
    INVITE_MUTE_ALL = "invite_mute_all"
    INVITE_UNMUTE = "invite_unmute"


class View(StrEnum):
    """callback_id of modals."""

    DIGEST_SCHEDULE = "digest_schedule"
    PROFILE_EDIT = "profile_edit"
    INVITE = "invite"


class ScheduleInput(StrEnum):
    """block_id (= action_id) of the inputs of the digest schedule modal."""

    FREQUENCY = "digest_frequency"
    TIME = "digest_time"
    WEEKDAY = "digest_weekday"


class ProfileInput(StrEnum):
    """block_id (= action_id) of the inputs of the profile edit modal."""

    HEADLINE = "profile_headline"
    OPEN = "profile_open"


class InviteInput(StrEnum):
    """block_id (= action_id) of the inputs of the invitation modal."""

    MESSAGE = "invite_message"
    ABOUT = "invite_about"


class BlockId(StrEnum):
    """block_id prefixes whose presses are answered by where they were (`PREFIX:…`)."""

    # The following list: a press there re-renders the list in place.
    FOLLOWING = "following"
    # A collaborator suggestion: the other suggestions stay on screen.
    SUGGESTION = "suggestion"
    # The Home tab.
    HOME = "home"
