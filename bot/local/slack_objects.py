"""The workspace objects the local Slack keeps: members (as `users.info` returns them) and the
files announced for upload."""

from __future__ import annotations

from dataclasses import dataclass
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
