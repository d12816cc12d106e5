"""What LocalSlack answers to each Web API method: a tiny in-memory workspace (users, DMs,
views, files) with response shapes taken from Slack's method docs."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from typing import Any

from bot.local.slack_channels import ChannelMethods
from bot.local.slack_channels import error_answer as _error
from bot.local.slack_channels import ok_answer as _ok
from bot.local.slack_objects import LocalChannel, SlackUser, UploadedFile

APP_ID = "A0LOCAL"
BOT_ID = "B0BOT"
_FIRST_TS = 1_700_000_000_000_100  # microseconds: the first ts is "1700000000.000100"


def _without_metadata(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key != "metadata"}


class SlackApi(ChannelMethods):
    """Slack's Web API semantics over an in-memory workspace; thread-safe."""

    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        users: Iterable[SlackUser],
        upload_root: Callable[[], str],
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.team_id = team_id
        # Message timestamps count up from 1700000000.000100, or follow `clock` (epoch seconds)
        # for callers that read history by time, as a message's ts is Slack's time of posting.
        self._clock = clock or (lambda: 0.0)
        self._last_ts = _FIRST_TS - 100
        self.bot_user_id = bot_user_id
        self.upload_root = upload_root
        self.oauth_grants: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._users: dict[str, SlackUser] = {}
        for user in users:
            self.add_user(user)
        self.add_user(SlackUser(self.bot_user_id, self.team_id, "bzpeer", "BZPEER", is_bot=True))
        self._ids = itertools.count(1)
        self._conversations: dict[frozenset[str], str] = {}
        self._members: dict[str, list[str]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self.files: dict[str, UploadedFile] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self.channels: dict[str, LocalChannel] = {}
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "chat.delete": lambda p: _ok(channel=p.get("channel"), ts=p.get("ts")),
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.history": self._conversations_history,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": lambda p: _ok(members=self._user_objects(), response_metadata={}),
            "views.open": self._view_new,
            "views.push": self._view_new,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "oauth.v2.access": self._oauth_access,
        }

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer one Web API method; unknown methods get {"ok": true}."""
        handler = self._methods.get(method)
        with self._lock:
            return handler(params) if handler else _ok()

    def add_channel(self, channel: LocalChannel) -> None:
        """Register (or replace) a channel: its privacy, members, and whether the bot is in it."""
        with self._lock:
            self.channels[channel.id] = channel

    def add_user(self, user: SlackUser) -> None:
        """Register (or replace) a workspace member."""
        with self._lock:
            self._users[user.id] = user

    def new_ts(self) -> str:
        """A fresh, increasing message timestamp."""
        with self._lock:
            micros = self._last_ts = max(int(self._clock() * 1e6), self._last_ts + 100)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):07d}"

    def _user_objects(self) -> list[dict[str, Any]]:
        return [user.to_slack() for user in self._users.values()]

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return _ok(
            url="https://local.slack.com/",
            team="Local",
            user="bzpeer",
            team_id=self.team_id,
            user_id=self.bot_user_id,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    # chat ---------------------------------------------------------------------------------

    def _resolve_channel(self, channel: str) -> str:
        # Slack accepts a user id as `channel` and posts to the app's DM with that user.
        if channel.startswith(("U", "W")):
            return self._open_conversation([channel])[0]
        return channel

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": params.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return message

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        known = self.channels.get(str(params["channel"]))
        if known is not None and known.refuses_post():
            return _error(str(known.refuses_post()))
        ts = self.new_ts()
        channel = self._resolve_channel(str(params["channel"]))
        message = self._message(params, ts)
        self._history.setdefault(channel, []).append(message)
        return _ok(channel=channel, ts=ts, message=message)

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return _error("no_text")
        return _ok(message_ts=self.new_ts())

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("ts"):
            return _error("message_not_found")
        ts = str(params["ts"])
        message = self._message(params, ts)
        posted = self._history.get(str(params.get("channel") or ""), [])
        for index, earlier in enumerate(posted):
            if earlier["ts"] == ts:
                posted[index] = {**message, "metadata": params.get("metadata") or earlier.get("metadata")}
        return _ok(channel=params.get("channel"), ts=ts, text=message["text"], message=message)

    # conversations ------------------------------------------------------------------------

    def _open_conversation(self, users: list[str]) -> tuple[str, bool]:
        key = frozenset(users)
        existing = self._conversations.get(key)
        if existing is not None:
            return existing, True
        channel = self._new_id("D" if len(users) == 1 else "G")
        self._conversations[key] = channel
        self._members[channel] = [*sorted(key), self.bot_user_id]
        return channel, False

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return _ok(no_op=True, already_open=True, channel={"id": params["channel"]})
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            return _error("not_enough_users")
        if len(users) > 8:
            return _error("too_many_users")
        channel, existed = self._open_conversation(users)
        info: dict[str, Any] = {"id": channel}
        if str(params.get("return_im", "")).lower() in ("1", "true"):
            info = self._channel_object(channel)
        extra = {"no_op": True, "already_open": True} if existed else {}
        return _ok(channel=info, **extra)

    def _channel_object(self, channel: str) -> dict[str, Any]:
        members = self._members.get(channel, [])
        info: dict[str, Any] = {"id": channel, "created": 1_700_000_000, "is_archived": False}
        if channel.startswith("D"):
            info.update(is_im=True, is_open=True, user=members[0] if members else None)
        elif channel.startswith("G") and channel in self._members:
            names = "--".join(self._users[m].name for m in members if m in self._users)
            info.update(is_mpim=True, is_private=True, name=f"mpdm-{names}-1")
        else:
            info.update(is_channel=True, is_private=False, name=channel.lower(), is_member=True)
        return info

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return _error("channel_not_found")
        if str(channel) in self.channels:
            info = self.channels[str(channel)].info()
            return _ok(channel=info) if info else _error("channel_not_found")
        return _ok(channel=self._channel_object(str(channel)))

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if channel not in self._history and channel not in self._members and channel not in self.channels:
            return _error("channel_not_found")
        if channel in self.channels and (refused := self.channels[channel].refuses_history()):
            return _error(refused)
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        limit = max(1, min(int(params.get("limit") or 100), 999))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        # Newest first, as Slack returns them, between the bounds (both exclusive, as Slack's
        # default); metadata only when asked for.
        found = [m for m in reversed(self._history.get(channel, [])) if oldest < float(m["ts"]) < latest]
        page = [m if with_metadata else _without_metadata(m) for m in found[:limit]]
        return _ok(messages=page, has_more=len(found) > limit, response_metadata={"next_cursor": ""})

    def members(self, channel: str) -> list[str]:
        """The members of a DM or group DM the app opened (the bot included); [] otherwise."""
        with self._lock:
            return list(self._members.get(channel, []))

    def conversations_of(self, user_id: str) -> list[str]:
        """The DMs and group DMs the app opened that `user_id` is in, oldest first."""
        with self._lock:
            return [c for c, members in self._members.items() if user_id in members]

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to `channel`, oldest first."""
        with self._lock:
            return [dict(m) for m in self._history.get(channel, [])]

    # users --------------------------------------------------------------------------------

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(params.get("user") or ""))
        return _ok(user=user.to_slack()) if user else _error("user_not_found")

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").lower()
        for user in self._users.values():
            if user.email and user.email.lower() == email:
                return _ok(user=user.to_slack())
        return _error("users_not_found")

    # views --------------------------------------------------------------------------------

    def _store_view(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        view_id = view_id or self._new_id("V")
        previous = self.views.get(view_id, {})
        stored = {
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "state": {"values": {}},
            "hash": f"{self.new_ts()}.local",
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
        }
        self.views[view_id] = stored
        return _ok(view=stored)

    def _view_new(self, params: dict[str, Any]) -> dict[str, Any]:
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            return _error("invalid_arguments")
        return self._store_view(params.get("view"))

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = params.get("view_id")
        if not view_id and params.get("external_id"):
            external = params["external_id"]
            view_id = next((k for k, v in self.views.items() if v["external_id"] == external), None)
            if view_id is None:
                return _error("not_found")
        return self._store_view(params.get("view"), view_id or None)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user_id") or "")
        if not user_id:
            return _error("invalid_arguments")
        view_id = self._home_views.setdefault(user_id, self._new_id("V"))
        return self._store_view(params.get("view"), view_id)

    # files --------------------------------------------------------------------------------

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length") or "").isdigit():
            return _error("invalid_arguments")
        file_id = self._new_id("F")
        self.files[file_id] = UploadedFile(file_id, str(params["filename"]), int(params["length"]))
        return _ok(upload_url=f"{self.upload_root()}/upload/{file_id}", file_id=file_id)

    def store_upload(self, file_id: str, data: bytes) -> bool:
        """Keep the bytes posted to an upload URL; False for an unknown file id."""
        with self._lock:
            announced = self.files.get(file_id)
            if announced is None:
                return False
            announced.content = data
            return True

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        channel = params.get("channel_id") or params.get("channels")
        completed = []
        for entry in entries:
            announced = self.files.get(str(entry.get("id")))
            if announced is None or announced.content is None:
                return _error("file_not_found")
            announced.title = entry.get("title") or announced.filename
            announced.channel = str(channel) if channel else None
            announced.completed = True
            channels = [announced.channel] if announced.channel else []
            completed.append(
                {
                    "id": announced.id,
                    "name": announced.filename,
                    "title": announced.title,
                    "size": len(announced.content),
                    "channels": channels,
                }
            )
        return _ok(files=completed)

    # oauth --------------------------------------------------------------------------------

    def _oauth_access(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("grant_type") == "refresh_token":
            # Token rotation (grant_type=refresh_token): a fresh expiring token, a new refresh token.
            suffix = next(self._ids)
            return self._grant(
                access_token=f"xoxe.xoxb-local-{suffix}",
                refresh_token=f"xoxe-1-local-{suffix}",
                expires_in=43200,
            )
        code = str(params.get("code") or "")
        if not code:
            return _error("invalid_code")
        canned = self._grant(
            access_token=f"xoxb-local-{code}",
            authed_user={"id": "U0LOCAL", "scope": "", "access_token": None, "token_type": None},
        )
        return {**canned, **self.oauth_grants.get(code, {})}

    def _grant(self, **fields: Any) -> dict[str, Any]:
        return _ok(
            app_id=APP_ID,
            scope="commands,chat:write,im:write,mpim:write,users:read,users:read.email,files:write",
            token_type="bot",
            bot_user_id=self.bot_user_id,
            team={"id": self.team_id, "name": "Local"},
            enterprise=None,
            is_enterprise_install=False,
            **fields,
        )
