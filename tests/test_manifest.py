import re

import yaml

from bot.manifest import build_manifest, manifest_yaml
from handlers.parsing import OTHER_SUBCOMMANDS, QUERY_SUBCOMMANDS


def test_http_manifest_points_every_url_at_the_base() -> None:
    manifest = yaml.safe_load(manifest_yaml("/peer", "https://bzpeer.example.org/"))
    command = manifest["features"]["slash_commands"][0]
    assert command["command"] == "/peer" and command["usage_hint"]
    assert command["url"] == "https://bzpeer.example.org/slack/events"
    assert command["should_escape"] is True
    assert manifest["settings"]["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://bzpeer.example.org/slack/events",
    }
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["redirect_urls"] == ["https://bzpeer.example.org/slack/oauth_redirect"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


def test_socket_manifest_has_no_urls_and_respects_the_command_name() -> None:
    manifest = build_manifest("/scholar")
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["slash_commands"][0]["command"] == "/scholar"
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert len(manifest["display_information"]["long_description"]) >= 175


def test_the_bot_may_read_back_its_own_dms_and_group_dms() -> None:
    # Exactly-once delivery looks a message Slack never confirmed up by its metadata key in the
    # history of the bot's own DMs and group DMs.
    scopes = build_manifest("/peer")["oauth_config"]["scopes"]["bot"]
    assert {"im:history", "mpim:history"} <= set(scopes)


def test_members_can_type_to_the_bot_in_its_messages_tab() -> None:
    for manifest in (build_manifest("/peer"), build_manifest("/peer", "https://bzpeer.example.org")):
        home = manifest["features"]["app_home"]
        assert home["messages_tab_enabled"] is True and home["messages_tab_read_only_enabled"] is False
        assert "message.im" in manifest["settings"]["event_subscriptions"]["bot_events"]
        assert "im:history" in manifest["oauth_config"]["scopes"]["bot"]


def test_the_slash_command_hint_names_every_subcommand_within_slacks_limits() -> None:
    manifest = build_manifest("/" + "x" * 31)
    command = manifest["features"]["slash_commands"][0]
    hint = command["usage_hint"]
    for word in (*QUERY_SUBCOMMANDS, *OTHER_SUBCOMMANDS):
        assert re.search(rf"\b{word}\b", hint), word
    for grammar in ("who WORDS", "topic TOPIC", "follow|unfollow topic TOPIC", "follow members", "channel ["):
        assert grammar in hint
    assert "channel" in command["description"] and "topics" in command["description"]
    # Slack's manifest schema: usage hint ≤ 1,000, description ≤ 2,000, the app's ≤ 140.
    assert len(hint) <= 1000 and len(command["description"]) <= 2000
    assert len(manifest["display_information"]["description"]) <= 140
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
