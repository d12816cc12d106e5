"""The Slack app manifest: what an admin pastes into api.slack.com to create the app."""

from __future__ import annotations

from typing import Any

import yaml

# Only scopes the bot actually calls: slash commands and response_url replies need `commands`;
# the research graph upload needs `files:write` and `chat:write` (the file is shared as a bot
# message), and `im:write` to open the asker's DM, where it goes first; `users:read` for
# users.info (each member's time zone, so digests arrive at their own local time). Digest DMs
# use `im:write` (conversations.open) and `chat:write` (chat.postMessage), and `im:history` to
# look a digest up by its metadata key when Slack never answered its post (never sending twice);
# `im:history` is also what the `message.im` event needs: text typed in the bot's DM (the
# Messages tab) works like the slash command (handlers/direct_messages.py).
# Claims read the claimant's Slack e-mail (`users:read.email`, for the institutional domain
# match) and find admins (`users:read`, users.list); invitations open a group DM of inviter,
# invitee and bot (`mpim:write`) and read only that conversation, for the check-back and to
# look an unconfirmed intro up by key (`mpim:history`; across workspaces the intro is a DM).
# Channel feeds (`/peer channel …`) ask what the channel is (`channels:read`, `groups:read`:
# conversations.info, and conversations.members for `follow members`), post the digest into it
# (`chat:write` where the bot is a member, `chat:write.public` in public channels it has not
# joined) and look an unconfirmed post up in the channel's history (`channels:history`,
# `groups:history` for private channels the bot was invited to). Slack shows a channel's history
# only to members, so a look-up in a public channel posted to without joining joins it first
# (`channels:join`).
BOT_SCOPES = [
    "commands",
    "files:write",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "users:read.email",
    "mpim:write",
    "mpim:history",
    "chat:write.public",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "channels:join",
]
# Every subcommand, as `/peer help` and handlers/parsing.py know them (Slack: ≤ 1,000 characters).
USAGE_HINT = (
    "NAME | profile|papers|collaborators|graph|follow|unfollow|claim|invite QUERY | who WORDS | "
    "topic TOPIC | follow|unfollow topic TOPIC | following | digest [daily|weekly|instant|off|preview] | "
    "channel [follow|unfollow QUERY | follow|unfollow topic TOPIC | follow members | digest …] | "
    "unclaim | help"
)
# The Home tab (follows, digest schedule) is published when a member opens it; an uninstall
# or revoked tokens park the workspace's follows and digests (handlers/events.py); `message.im`
# brings what a member types to the bot in its DM.
BOT_EVENTS: list[str] = ["app_home_opened", "app_uninstalled", "tokens_revoked", "message.im"]


def build_manifest(command: str, url: str | None = None, *, token_rotation: bool = False) -> dict[str, Any]:
    """A complete v1 manifest; with `url`, HTTP mode on that base URL, else Socket Mode.

    `token_rotation` is for the multi-workspace install (/slack/install, `bzpeer manifest --oauth`):
    stored tokens then expire after 12 h and the app refreshes them. It stays off otherwise,
    because a fixed SLACK_BOT_TOKEN cannot be refreshed, and Slack never lets it be turned off.
    """
    base = url.rstrip("/") if url else None
    slash: dict[str, Any] = {
        "command": command,
        "description": (
            "Look up researchers and who works on what; follow people and topics in your digest "
            "or a channel's feed"
        ),
        "usage_hint": USAGE_HINT,
        "should_escape": True,
    }
    settings: dict[str, Any] = {
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": base is None,
        "token_rotation_enabled": token_rotation,
    }
    if base:
        slash["url"] = f"{base}/slack/events"
        settings["interactivity"]["request_url"] = f"{base}/slack/events"
    if BOT_EVENTS:
        settings["event_subscriptions"] = {"bot_events": BOT_EVENTS}
        if base:
            settings["event_subscriptions"]["request_url"] = f"{base}/slack/events"
    oauth: dict[str, Any] = {"scopes": {"bot": BOT_SCOPES}}
    if base:
        oauth["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "BZPEER",
            "description": "Research discovery in Slack: profiles, trust, papers, collaborators, topics, "
            "lab feeds.",
            "long_description": (
                f"BZPEER for Slack answers {command} with researcher profile cards built from public "
                "scholarly records (OpenAlex), with BZPEER's trust snapshot and verification level, "
                "publication lists and suggested collaborators, so a research group can find out who "
                "works on what and who they should be talking to without leaving Slack. "
                f"{command} who finds the colleagues who work on a subject; following researchers and "
                f"OpenAlex topics brings their new papers in a digest DM, and {command} channel gives a "
                "lab channel its own feed, mentioning members who authored a paper."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "bzpeer", "always_online": True},
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                # Members type commands to the bot there, not only read their digests.
                "messages_tab_read_only_enabled": False,
            },
            "slash_commands": [slash],
        },
        "oauth_config": oauth,
        "settings": settings,
    }


def manifest_yaml(command: str, url: str | None = None, *, token_rotation: bool = False) -> str:
    """The manifest as YAML."""
    manifest = build_manifest(command, url, token_rotation=token_rotation)
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
