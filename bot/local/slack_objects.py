"""The workspace objects the local Slack keeps: members (as `users.info` returns them) and the
files announced for upload."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass
class SlackUser:
    """A workspace member that `users.info` knows about."""

    id: str
    team_id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "Europe/London"
    is_admin: bool = False
    is_owner: bool = False
    deleted: bool = False
    is_bot: bool = False
    display_name: str | None = None
    # An Enterprise Grid member: users.info adds `enterprise_user`, with their org-level rights.
    enterprise_id: str | None = None
    is_org_admin: bool = False

    def to_slack(self) -> dict[str, Any]:
        """The user object as `users.info` returns it."""
        now = datetime.now(ZoneInfo(self.tz))
        offset = now.utcoffset()
        display = self.display_name if self.display_name is not None else self.name
        grid = {
            "enterprise_user": {
                "id": self.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Local Org",
                "is_admin": self.is_org_admin,
                "is_owner": False,
                "teams": [self.team_id],
            }
        }
        return {
            **(grid if self.enterprise_id else {}),
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_app_user": False,
            "tz": self.tz,
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": display,
                "display_name_normalized": display,
                "email": self.email,
                "team": self.team_id,
            },
        }


@dataclass
class UploadedFile:
    """A file announced by files.getUploadURLExternal and, once posted, its bytes."""

    id: str
    filename: str
    length: int
    title: str = ""
    content: bytes | None = None
    channel: str | None = None
    completed: bool = False


@dataclass
class LocalChannel:
    """A public or private channel of the local workspace, as conversations.info and
    conversations.members tell it; the bot may or may not be in it."""

    id: str
    name: str
    is_private: bool = False
    members: list[str] = field(default_factory=list)
    bot_is_member: bool = True
    is_archived: bool = False

    def info(self) -> dict[str, Any] | None:
        """conversations.info's channel object; None when the bot cannot see it (a private
        channel it is not in: Slack answers channel_not_found)."""
        if self.is_private and not self.bot_is_member:
            return None
        return {
            "id": self.id,
            "name": self.name,
            "created": 1_700_000_000,
            "is_channel": True,
            "is_private": self.is_private,
            "is_member": self.bot_is_member,
            "is_archived": self.is_archived,
        }

    def members_page(self, limit: int, cursor: str) -> tuple[list[str], str]:
        """One page of conversations.members and the next cursor ("" after the last)."""
        start = int(cursor) if cursor.isdecimal() else 0
        end = start + max(1, limit)
        return self.members[start:end], str(end) if end < len(self.members) else ""

    def refuses_history(self) -> str | None:
        """Slack's error for conversations.history here: only members read a channel."""
        return None if self.bot_is_member else "not_in_channel"

    def join(self) -> str | None:
        """conversations.join by the bot: Slack's error, or None once the bot is in."""
        if self.is_archived:
            return "is_archived"
        if self.is_private and not self.bot_is_member:
            return "channel_not_found"
        self.bot_is_member = True
        return None

    def refuses_post(self) -> str | None:
        """Slack's error for chat.postMessage here, if it refuses one."""
        if self.is_archived:
            return "is_archived"
        if not self.bot_is_member:
            # chat:write.public lets the bot post in public channels it has not joined.
            return "not_in_channel" if self.is_private else None
        return None
