"""The Slack app manifest: what an admin pastes into api.slack.com to create the app."""

from __future__ import annotations

from typing import Any

import yaml

# Only scopes the bot actually calls: slash commands and response_url replies need `commands`.
BOT_SCOPES = ["commands"]
BOT_EVENTS: list[str] = []


def build_manifest(command: str, url: str | None = None) -> dict[str, Any]:
    """A complete v1 manifest; with `url`, HTTP mode on that base URL, else Socket Mode."""
    base = url.rstrip("/") if url else None
    slash: dict[str, Any] = {
        "command": command,
        "description": "Look up researchers: profiles, trust, papers and collaborators",
        "usage_hint": "NAME | profile QUERY | help",
        "should_escape": True,
    }
    settings: dict[str, Any] = {
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": base is None,
        "token_rotation_enabled": False,
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
            "description": "Research discovery in Slack: profiles, trust, papers, collaborators.",
            "long_description": (
                "BZPEER for Slack answers /peer with researcher profile cards built from public "
                "scholarly records (OpenAlex), with BZPEER's trust snapshot and verification level, "
                "publication lists and suggested collaborators, so a research group can find out who "
                "works on what and who they should be talking to without leaving Slack."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "bzpeer", "always_online": True},
            "slash_commands": [slash],
        },
        "oauth_config": oauth,
        "settings": settings,
    }


def manifest_yaml(command: str, url: str | None = None) -> str:
    """The manifest as YAML."""
    return yaml.safe_dump(build_manifest(command, url), sort_keys=False, allow_unicode=True)
