"""What the app's buttons and modals carry: small JSON documents (a button's `value`, a modal's
`private_metadata`) with one-letter keys, validated on the way back in and never trusted blindly.

Who acts is never in a value: it is the signed payload's user (`handlers.context.presser`)."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Value = TypeVar("Value", bound="ButtonValue")

# Row ids are 32-bit integer columns; a larger number in an edited value would make the
# database driver raise (SQLite: OverflowError) instead of finding nothing.
MAX_ROW_ID = 2**31 - 1
# A public or private channel, group DM or DM, as Slack spells conversation ids.
CHANNEL_ID = r"^[CGD][A-Z0-9]{2,20}$"
# Far past any real list; the papers service clamps to the last page anyway.
MAX_PAGE = 100_000


class ButtonValue(BaseModel):
    """A value that round-trips through Slack. Fields are named in code and aliased to one letter
    on the wire (Slack allows 2,000 characters a value); an unknown key makes it stale."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        """The compact JSON that goes into a button's `value` or a view's `private_metadata`."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def load(cls: type[Value], raw: str | None) -> Value | None:
        """Parse a value from Slack; None when it was edited or comes from an older version."""
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            return None


class ResearcherValue(ButtonValue):
    """Names one researcher: cards, pick lists, Follow / Mute, Claim, Invite, Edit profile."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)


class TopicValue(ButtonValue):
    """Names one stored topic: its card's Follow, Unfollow / Mute in digests and lists."""

    topic_id: int = Field(alias="t", gt=0, le=MAX_ROW_ID)


class TopicChoiceValue(ButtonValue):
    """An OpenAlex topic offered on a pick list, perhaps not in the store yet."""

    openalex_id: str = Field(alias="o", pattern=r"^T\d{1,9}$")


class GraphShareValue(ButtonValue):
    """Which research graph to share, and the channel where it was asked ("Share in channel").
    The press must come from that channel; who shares is the presser, never a value."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
    channel_id: str = Field(alias="c", pattern=CHANNEL_ID)


class ChannelResearcherValue(ButtonValue):
    """A researcher and the channel whose feed a button changes (`/peer channel`'s Unfollow, a
    pick list's Follow). The press must come from that channel: anyone in it may change it."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
    channel_id: str = Field(alias="c", pattern=CHANNEL_ID)


class ChannelTopicValue(ButtonValue):
    """A topic and the channel whose feed a button changes: a pick list's choice by its OpenAlex id
    (perhaps not stored yet), or a followed topic by its row id (`/peer channel`'s Unfollow). The
    press must come from that channel, as for ChannelResearcherValue."""

    topic_id: int | None = Field(default=None, alias="t", gt=0, le=MAX_ROW_ID)
    openalex_id: str | None = Field(default=None, alias="o", pattern=r"^T\d{1,9}$")
    channel_id: str = Field(alias="c", pattern=CHANNEL_ID)

    @model_validator(mode="after")
    def _one_topic(self) -> ChannelTopicValue:
        if (self.topic_id is None) == (self.openalex_id is None):
            raise ValueError("a channel topic value names its topic one way")
        return self


class LookupValue(ButtonValue):
    """A QUERY to look up on OpenAlex ("Look up on OpenAlex")."""

    query: str = Field(alias="q", min_length=1, max_length=200)


class AuthorIdValue(ButtonValue):
    """An OpenAlex author to import ("Add to BZPEER")."""

    openalex_id: str = Field(alias="a", pattern=r"^A\d{4,12}$")


class ChannelLookupValue(ButtonValue):
    """`/peer channel follow QUERY` named nobody in the store: QUERY to look up on OpenAlex and
    follow for the channel. The press must come from that channel, as for ChannelResearcherValue."""

    query: str = Field(alias="q", min_length=1, max_length=200)
    channel_id: str = Field(alias="c", pattern=CHANNEL_ID)


class ChannelAuthorValue(ButtonValue):
    """An OpenAlex author of a channel's look-up pick list: import them, and the channel follows."""

    openalex_id: str = Field(alias="a", pattern=r"^A\d{4,12}$")
    channel_id: str = Field(alias="c", pattern=CHANNEL_ID)


class PapersValue(ButtonValue):
    """A place in a papers list: researcher, page, filters and order. A card's `{"r": id}` loads
    as page 1, newest first."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
    page: int = Field(default=1, alias="p")
    year: int | None = Field(default=None, alias="y", ge=1000, le=2999)
    type: Literal["preprint", "article"] | None = Field(default=None, alias="t")
    # Absent on buttons made before sort:cited existed: newest first.
    sort: Literal["cited"] | None = Field(default=None, alias="s")

    @field_validator("page")
    @classmethod
    def _clamp_page(cls, page: int) -> int:
        # An edited page number is clamped, not refused: the list still opens.
        return min(max(page, 1), MAX_PAGE)


class ExpertsValue(ButtonValue):
    """A page of `/peer who WORDS`: the words and the page (clamped, never refused)."""

    query: str = Field(alias="q", min_length=1, max_length=200)
    page: int = Field(default=1, alias="p")

    @field_validator("page")
    @classmethod
    def _clamp_page(cls, page: int) -> int:
        return min(max(page, 1), MAX_PAGE)


class ClaimValue(ButtonValue):
    """Names one claim on the admin's buttons; who may decide is checked on every press."""

    claim_id: int = Field(alias="c", gt=0, le=MAX_ROW_ID)


class EditMetadata(ButtonValue):
    """The profile edit modal's private_metadata: which profile, and whether Home opened it."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
    from_home: bool = Field(default=False, alias="h")


class InvitationValue(ButtonValue):
    """Names one invitation on Accept / Decline / Mute; only its invitee may press them."""

    invitation_id: int = Field(alias="i", gt=0, le=MAX_ROW_ID)


class UnmuteValue(ButtonValue):
    """Which of the presser's own mutes to lift: a member id, or 0 for "all invitations"."""

    member_id: int = Field(alias="m", ge=0, le=MAX_ROW_ID)


class InviteMetadata(ButtonValue):
    """The invitation modal's private_metadata: whom it invites (the inviter is the submitter)."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
