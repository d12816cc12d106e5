"""The Web API methods of LocalSlack's public and private channels (conversations.members,
conversations.join), apart from the DMs and group DMs the app opens itself."""

from __future__ import annotations

from typing import Any

from bot.local.slack_objects import LocalChannel


class ChannelMethods:
    """Mixed into SlackApi, which holds the channels and the DMs' members."""

    channels: dict[str, LocalChannel]
    _members: dict[str, list[str]]
    _users: dict[str, Any]

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if channel in self.channels:
            limit, cursor = int(params.get("limit") or 100), str(params.get("cursor") or "")
            page, after = self.channels[channel].members_page(limit, cursor)
            return ok_answer(members=page, response_metadata={"next_cursor": after})
        members = self._members.get(channel) or list(self._users)
        return ok_answer(members=members, response_metadata={"next_cursor": ""})

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        local = self.channels.get(str(params.get("channel") or ""))
        refused = local.join() if local else "channel_not_found"
        return error_answer(refused) if refused else ok_answer(channel=local.info() if local else None)


def ok_answer(**fields: Any) -> dict[str, Any]:
    """A Web API answer (shared with slack_methods.py)."""
    return {"ok": True, **fields}


def error_answer(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}
