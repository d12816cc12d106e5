"""What Slack keeps must not change: a message posted months ago still carries its action ids,
block ids and button values, and a modal opened before a deploy is submitted after it. This pins
them as they are on the wire, so a rename in the code cannot quietly break old messages."""

from __future__ import annotations

from handlers.ids import Action, BlockId, InviteInput, ProfileInput, ScheduleInput, View
from handlers.values import (
    AuthorIdValue,
    ButtonValue,
    ChannelAuthorValue,
    ChannelLookupValue,
    ChannelResearcherValue,
    ChannelTopicValue,
    ClaimValue,
    EditMetadata,
    ExpertsValue,
    GraphShareValue,
    InvitationValue,
    InviteMetadata,
    LookupValue,
    PapersValue,
    ResearcherValue,
    TopicChoiceValue,
    TopicValue,
    UnmuteValue,
)


def test_action_ids_are_pinned() -> None:
    assert {a.name: a.value for a in Action} == {
        "VIEW_PROFILE": "profile_view",
        "WHY_SCORE": "profile_why_score",
        "SHARE_PROFILE": "profile_share",
        "CARD_MORE": "profile_more",
        "OPENALEX_LOOKUP": "openalex_lookup",
        "OPENALEX_IMPORT": "openalex_import",
        "OPEN_LINK": "open_link",
        "PAPERS": "papers_show",
        "PAPERS_PAGE": "papers_page",
        "PAPERS_CLEAR_FILTER": "papers_clear_filter",
        "WHO_PAGE": "who_page",
        "COLLABORATORS": "collaborators_show",
        "GRAPH": "graph_show",
        "GRAPH_SHARE": "graph_share",
        "VIEW_PROFILE_NEW_MESSAGE": "profile_view_new_message",
        "FOLLOW": "follow",
        "UNFOLLOW": "unfollow",
        "MUTE_RESEARCHER": "mute_researcher",
        "UNMUTE_RESEARCHER": "unmute_researcher",
        "DIGEST_SCHEDULE": "digest_schedule_edit",
        "TOPIC_VIEW": "topic_view",
        "TOPIC_FOLLOW": "topic_follow",
        "TOPIC_UNFOLLOW": "topic_unfollow",
        "TOPIC_MUTE": "topic_mute",
        "TOPIC_UNMUTE": "topic_unmute",
        "CHANNEL_FOLLOW": "channel_follow",
        "CHANNEL_UNFOLLOW": "channel_unfollow",
        "CHANNEL_TOPIC_FOLLOW": "channel_topic_follow",
        "CHANNEL_TOPIC_UNFOLLOW": "channel_topic_unfollow",
        "CHANNEL_LOOKUP": "channel_lookup",
        "CHANNEL_IMPORT": "channel_import",
        "CLAIM": "claim_profile",
        "CLAIM_APPROVE": "claim_approve",
        "CLAIM_REJECT": "claim_reject",
        "CLAIM_REVOKE": "claim_revoke",
        "PROFILE_EDIT": "profile_edit",
        "INVITE": "invite_open",
        "INVITE_ACCEPT": "invite_accept",
        "INVITE_DECLINE": "invite_decline",
        "INVITE_MUTE_PERSON": "invite_mute_person",
        "INVITE_MUTE_ALL": "invite_mute_all",
        "INVITE_UNMUTE": "invite_unmute",
    }


def test_view_input_and_block_ids_are_pinned() -> None:
    assert [v.value for v in View] == ["digest_schedule", "profile_edit", "invite"]
    assert [i.value for i in ScheduleInput] == ["digest_frequency", "digest_time", "digest_weekday"]
    assert [i.value for i in ProfileInput] == ["profile_headline", "profile_open"]
    assert [i.value for i in InviteInput] == ["invite_message", "invite_about"]
    assert [b.value for b in BlockId] == ["following", "suggestion", "home"]


# Every value class, one instance each, and its JSON as Slack stores it.
WIRE: list[tuple[ButtonValue, str]] = [
    (ResearcherValue(researcher_id=7), '{"r":7}'),
    (LookupValue(query="Samyadeep Basu"), '{"q":"Samyadeep Basu"}'),
    (AuthorIdValue(openalex_id="A5012345678"), '{"a":"A5012345678"}'),
    (PapersValue(researcher_id=7), '{"r":7,"p":1}'),
    (
        PapersValue(researcher_id=7, page=3, year=2021, type="preprint"),
        '{"r":7,"p":3,"y":2021,"t":"preprint"}',
    ),
    (ExpertsValue(query="influence functions", page=2), '{"q":"influence functions","p":2}'),
    (ClaimValue(claim_id=4), '{"c":4}'),
    (GraphShareValue(researcher_id=7, channel_id="C0GENERAL"), '{"r":7,"c":"C0GENERAL"}'),
    (ChannelResearcherValue(researcher_id=7, channel_id="C0LABPAPERS"), '{"r":7,"c":"C0LABPAPERS"}'),
    (EditMetadata(researcher_id=7), '{"r":7,"h":false}'),
    (EditMetadata(researcher_id=7, from_home=True), '{"r":7,"h":true}'),
    (InvitationValue(invitation_id=9), '{"i":9}'),
    (UnmuteValue(member_id=0), '{"m":0}'),
    (InviteMetadata(researcher_id=7), '{"r":7}'),
    (TopicValue(topic_id=3), '{"t":3}'),
    (TopicChoiceValue(openalex_id="T10017"), '{"o":"T10017"}'),
    (ChannelTopicValue(openalex_id="T10017", channel_id="C0LAB"), '{"o":"T10017","c":"C0LAB"}'),
    (ChannelTopicValue(topic_id=3, channel_id="C0LAB"), '{"t":3,"c":"C0LAB"}'),
    (ChannelLookupValue(query="Joseph Mearman", channel_id="C0LAB"), '{"q":"Joseph Mearman","c":"C0LAB"}'),
    (ChannelAuthorValue(openalex_id="A5012345678", channel_id="C0LAB"), '{"a":"A5012345678","c":"C0LAB"}'),
]


def test_button_values_keep_their_wire_form() -> None:
    for value, wire in WIRE:
        assert value.dump() == wire
        assert type(value).load(wire) == value


def test_every_value_class_is_pinned() -> None:
    assert {type(value) for value, _ in WIRE} == set(ButtonValue.__subclasses__())


def test_a_channel_topic_value_names_its_topic_one_way() -> None:
    assert ChannelTopicValue.load('{"c":"C0LAB"}') is None
    assert ChannelTopicValue.load('{"t":3,"o":"T10017","c":"C0LAB"}') is None


def test_an_older_card_value_still_opens_page_one() -> None:
    # A card's Papers button carries {"r": id} only; it opens the first page.
    assert PapersValue.load('{"r":7}') == PapersValue(researcher_id=7, page=1)
    assert ResearcherValue.load('{"r":7,"x":1}') is None
