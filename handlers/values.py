"""Button values: small JSON documents validated on the way back in (never trusted blindly)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.collaboration.invitation_types import PostedMessage

Value = TypeVar("Value", bound="ButtonValue")

# Row ids are 32-bit integer columns; a larger number in an edited value would make the
# database driver raise (SQLite: OverflowError) instead of finding nothing.
MAX_ROW_ID = 2**31 - 1


class ButtonValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def dump(self) -> str:
        """The compact JSON that goes into a button's `value` (≤ 2000 characters)."""
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def load(cls: type[Value], raw: str | None) -> Value | None:
        """Parse a value from Slack; None when it was edited or comes from an older version."""
        try:
            return cls.model_validate_json(raw or "")
        except ValidationError:
            return None


class ResearcherValue(ButtonValue):
    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


class LookupValue(ButtonValue):
    query: str = Field(alias="q", min_length=1, max_length=200)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


class AuthorIdValue(ButtonValue):
    openalex_id: str = Field(alias="a", pattern=r"^A\d{4,12}$")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)


# Far past any real list; the papers service clamps to the last page anyway.
MAX_PAGE = 100_000


class PapersValue(ButtonValue):
    """A place in a papers list: researcher, page and filters. A card's `{"r": id}` loads as page 1."""

    researcher_id: int = Field(alias="r", gt=0, le=MAX_ROW_ID)
    page: int = Field(default=1, alias="p")
    year: int | None = Field(default=None, alias="y", ge=1000, le=2999)
    type: Literal["preprint", "article"] | None = Field(default=None, alias="t")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("page")
    @classmethod
    def _clamp_page(cls, page: int) -> int:
        # An edited page number is clamped, not refused: the list still opens.
        return min(max(page, 1), MAX_PAGE)

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


def pressed_value(body: dict[str, Any]) -> str | None:
    """The `value` of the button pressed in a block_actions payload."""
    actions = body.get("actions") or [{}]
    value = actions[0].get("value")
    return value if isinstance(value, str) else None


def pressed_message(body: dict[str, Any]) -> PostedMessage | None:
    """The message a button was pressed in (channel and ts), when it is one the app posted:
    Slack signs the payload, so a press proves the message exists. None for ephemeral ones."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or container.get("is_ephemeral") or not (channel and ts):
        return None
    return PostedMessage(channel=str(channel), ts=str(ts))
