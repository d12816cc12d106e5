"""Button values: small JSON documents validated on the way back in (never trusted blindly)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Value = TypeVar("Value", bound="ButtonValue")


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
    researcher_id: int = Field(alias="r", gt=0)

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
