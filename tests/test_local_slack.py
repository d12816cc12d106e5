"""LocalSlack answers the real slack_sdk clients as Slack does, and records what they sent."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
from slack_sdk.webhook import WebhookClient

from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack

ALICE = SlackUser(
    "U0ALICE", "T0LOCAL", "alice", "Alice Liddell", email="alice@uni.example", tz="America/New_York"
)
BOB = SlackUser("U0BOB", "T0LOCAL", "bob", "Bob Ross", is_admin=True)


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    with LocalSlack(users=[ALICE, BOB]) as server:
        yield server


@pytest.fixture
def client(local: LocalSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=local.url)


def post_form(url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> dict:
    request = urllib.request.Request(url, data=urlencode(fields).encode(), headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.loads(response.read()))


def test_binds_loopback_on_a_free_port(local: LocalSlack) -> None:
    assert local.url.startswith("http://127.0.0.1:")
    assert local.url.endswith("/api/")
    with LocalSlack() as other:
        assert other.url != local.url


def test_auth_test_names_the_bot(client: WebClient) -> None:
    reply = client.auth_test()
    assert reply["team_id"] == "T0LOCAL"
    assert reply["user_id"] == "U0BOT"
    assert reply["bot_id"] == "B0BOT"
    assert reply["user"] == "bzpeer"


def test_post_message_returns_fresh_increasing_ts_and_records_blocks(
    local: LocalSlack, client: WebClient
) -> None:
    blocks = [
        SectionBlock(text="*Ada* Lovelace"),
        ActionsBlock(elements=[ButtonElement(text="Follow", action_id="follow", value="A1")]),
    ]
    first = client.chat_postMessage(channel="C0GENERAL", text="Ada Lovelace", blocks=blocks)
    second = client.chat_postMessage(channel="C0GENERAL", text="again")

    assert first["ok"] and first["channel"] == "C0GENERAL"
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["blocks"][0]["text"]["text"] == "*Ada* Lovelace"
    call = local.calls_to("chat.postMessage")[0]
    assert call.token == "xoxb-test"
    assert call.params["blocks"][1]["elements"][0]["action_id"] == "follow"
    assert [c.params["text"] for c in local.messages()] == ["Ada Lovelace", "again"]


def test_post_message_to_a_user_id_lands_in_their_dm(client: WebClient) -> None:
    dm = client.conversations_open(users="U0ALICE")["channel"]["id"]
    reply = client.chat_postMessage(channel="U0ALICE", text="your digest")
    assert reply["channel"] == dm


def test_post_message_without_text_or_channel_fails_like_slack(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as no_text:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert no_text.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as no_channel:
        client.api_call("chat.postMessage", json={"text": "hi"})
    assert no_channel.value.response["error"] == "channel_not_found"


def test_ephemeral_update_and_delete(local: LocalSlack, client: WebClient) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U0ALICE", text="just you")
    assert ephemeral["message_ts"]
    posted = client.chat_postMessage(channel="C1", text="v1")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert (updated["ts"], updated["text"]) == (posted["ts"], "v2")
    assert client.chat_delete(channel="C1", ts=posted["ts"])["ok"]
    assert [c.method for c in local.messages()] == [
        "chat.postEphemeral",
        "chat.postMessage",
        "chat.update",
    ]


def test_conversations_open_ids_are_stable_per_set_of_users(client: WebClient) -> None:
    dm = client.conversations_open(users="U0ALICE")
    again = client.conversations_open(users=["U0ALICE"], return_im=True)
    group = client.conversations_open(users="U0ALICE,U0BOB")
    group_again = client.conversations_open(users="U0BOB,U0ALICE")

    assert dm["channel"]["id"].startswith("D")
    assert again["channel"]["id"] == dm["channel"]["id"]
    assert again["already_open"] is True
    assert again["channel"]["is_im"] is True and again["channel"]["user"] == "U0ALICE"
    assert group["channel"]["id"].startswith("G")
    assert group_again["channel"]["id"] == group["channel"]["id"]
    members = client.conversations_members(channel=group["channel"]["id"])["members"]
    assert set(members) == {"U0ALICE", "U0BOB", "U0BOT"}


def test_conversations_open_refuses_more_than_eight_users(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.conversations_open(users=[f"U{i}" for i in range(9)])
    assert error.value.response["error"] == "too_many_users"


def test_conversations_info(client: WebClient) -> None:
    dm = client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert client.conversations_info(channel=dm)["channel"]["is_im"] is True
    assert client.conversations_info(channel="C0GENERAL")["channel"]["is_channel"] is True


def test_users_info_has_tz_email_and_roles(local: LocalSlack, client: WebClient) -> None:
    user = client.users_info(user="U0ALICE")["user"]
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-18000, -14400)  # EST or EDT, whatever today is
    assert user["profile"]["email"] == "alice@uni.example"
    assert user["profile"]["real_name"] == "Alice Liddell"
    assert user["profile"]["display_name"] == "alice"
    assert client.users_info(user="U0BOB")["user"]["is_admin"] is True

    with pytest.raises(SlackApiError) as error:
        client.users_info(user="U0NOBODY")
    assert error.value.response["error"] == "user_not_found"

    local.add_user(SlackUser("U0NOBODY", "T0LOCAL", "nobody", "No Body", tz="Asia/Tokyo"))
    assert client.users_info(user="U0NOBODY")["user"]["tz_offset"] == 9 * 3600
    assert client.users_lookupByEmail(email="ALICE@uni.example")["user"]["id"] == "U0ALICE"


def test_views_open_update_push_publish(local: LocalSlack, client: WebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "invite",
        "title": {"type": "plain_text", "text": "Invite"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    opened = client.views_open(trigger_id="1.2.3", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "invite"
    updated = client.views_update(view_id=opened["id"], view={**modal, "callback_id": "v2"})
    assert updated["view"]["id"] == opened["id"]
    assert client.views_push(trigger_id="1.2.4", view=modal)["view"]["id"] != opened["id"]
    home = {"type": "home", "blocks": modal["blocks"]}
    first = client.views_publish(user_id="U0ALICE", view=home)["view"]["id"]
    assert client.views_publish(user_id="U0ALICE", view=home)["view"]["id"] == first
    assert local.calls_to("views.open")[0].params["view"]["title"]["text"] == "Invite"


def test_files_upload_v2_runs_all_three_steps(local: LocalSlack, client: WebClient) -> None:
    reply = client.files_upload_v2(
        content=b"\x89PNG fake graph", filename="graph.png", title="Graph", channel="C0GENERAL"
    )
    assert reply["file"]["title"] == "Graph"
    assert reply["file"]["channels"] == ["C0GENERAL"]
    assert local.uploads == [b"\x89PNG fake graph"]
    assert [c.method for c in local.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    stored = local.files[reply["file"]["id"]]
    assert (stored.filename, stored.content, stored.channel) == (
        "graph.png",
        b"\x89PNG fake graph",
        "C0GENERAL",
    )


def test_complete_upload_of_an_unknown_file_fails(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}])
    assert error.value.response["error"] == "file_not_found"


def test_response_url_accepts_webhook_posts_five_times(local: LocalSlack) -> None:
    url = local.response_url()
    webhook = WebhookClient(url)
    first = webhook.send(text="hello", response_type="in_channel", replace_original=False)
    assert (first.status_code, first.body) == (200, "ok")
    for _ in range(4):
        assert webhook.send(text="again").status_code == 200
    assert webhook.send(text="sixth").status_code == 404

    calls = local.calls_to("response_url")
    assert calls[0].params == {
        "text": "hello",
        "response_type": "in_channel",
        "replace_original": False,
    }
    assert calls[0].path == url.removeprefix(local.root)
    assert calls[-1].error == "used_url"
    assert len(local.messages()) == 5


def test_unknown_response_url_is_404(local: LocalSlack) -> None:
    assert WebhookClient(local.root + "/response/nope").send(text="x").status_code == 404


def test_form_bodies_with_json_fields_and_token_in_the_form(local: LocalSlack) -> None:
    blocks = [{"type": "divider"}]
    reply = post_form(
        local.url + "chat.postMessage",
        {"token": "xoxb-form", "channel": "C1", "text": "t", "blocks": json.dumps(blocks)},
    )
    assert reply["ok"] is True
    call = local.calls_to("chat.postMessage")[0]
    assert call.token == "xoxb-form"
    assert call.params["blocks"] == blocks


def test_calls_without_a_token_are_not_authed(local: LocalSlack) -> None:
    reply = post_form(local.url + "chat.postMessage", {"channel": "C1", "text": "t"})
    assert reply == {"ok": False, "error": "not_authed"}
    assert local.messages() == []


def test_unknown_methods_answer_ok(client: WebClient) -> None:
    assert client.api_call("reactions.add", params={"name": "tada"})["ok"] is True


def test_oauth_v2_access_canned_and_per_code(local: LocalSlack) -> None:
    oauth = WebClient(base_url=local.url)
    canned = oauth.oauth_v2_access(client_id="c", client_secret="s", code="abc")
    assert canned["access_token"] == "xoxb-local-abc"
    assert canned["bot_user_id"] == "U0BOT"
    assert canned["team"]["id"] == "T0LOCAL"
    assert canned["authed_user"]["id"]

    local.oauth_grants["team2"] = {"team": {"id": "T0TWO", "name": "Two"}, "access_token": "xoxb-2"}
    other = oauth.oauth_v2_access(client_id="c", client_secret="s", code="team2")
    assert (other["team"]["id"], other["access_token"]) == ("T0TWO", "xoxb-2")

    rotated = oauth.oauth_v2_access(
        client_id="c", client_secret="s", grant_type="refresh_token", refresh_token="xoxe-1-old"
    )
    assert rotated["access_token"].startswith("xoxe.xoxb-") and rotated["expires_in"] == 43200


def test_fail_next_with_an_error_is_ok_false(local: LocalSlack, client: WebClient) -> None:
    local.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="x")
    assert error.value.response.status_code == 200
    assert error.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="x")["ok"]  # only once
    assert [c.error for c in local.calls_to("chat.postMessage")] == ["channel_not_found", None]
    assert len(local.messages()) == 1


def test_fail_next_http_500_and_times(local: LocalSlack, client: WebClient) -> None:
    local.fail_next("users.info", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as error:
            client.users_info(user="U0ALICE")
        assert error.value.response.status_code == 500
    assert client.users_info(user="U0ALICE")["ok"]


def test_fail_next_429_carries_retry_after(local: LocalSlack, client: WebClient) -> None:
    local.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as error:
        client.chat_postMessage(channel="C1", text="x")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"
    assert error.value.response["error"] == "ratelimited"


def test_rate_limit_retry_handler_retries_the_injected_429(local: LocalSlack, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    local.fail_next("chat.postMessage", retry_after=0)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert time.monotonic() - started < 2  # slept Retry-After (0) + jitter below 1 s
    assert [c.error for c in local.calls_to("chat.postMessage")] == ["ratelimited", None]


def test_failing_response_url_and_upload(local: LocalSlack, client: WebClient) -> None:
    local.fail_next("response_url", status=500)
    assert WebhookClient(local.response_url()).send(text="x").status_code == 500
    local.fail_next("upload", status=500)
    with pytest.raises(urllib.error.HTTPError, match="500"):  # urllib raises before slack_sdk looks
        client.files_upload_v2(content=b"x", filename="a.txt", channel="C1")
    assert local.uploads == []


def test_clear_forgets_calls_but_not_users(local: LocalSlack, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")
    local.fail_next("auth.test")
    local.clear()
    assert local.calls == []
    assert client.auth_test()["ok"]  # the pending fault went too
    assert client.users_info(user="U0ALICE")["ok"]


def test_stop_is_idempotent_and_unbinds() -> None:
    local = LocalSlack().start()
    url = local.url
    local.stop()
    local.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "auth.test", timeout=1)
    with pytest.raises(RuntimeError):
        _ = local.url


def test_a_slow_answer_comes_after_the_effect_and_history_keeps_metadata() -> None:
    with LocalSlack(team_id="T0HIST") as local:
        client = WebClient(token="xoxb-x", base_url=local.url, timeout=0.3)
        local.slow_next("chat.postMessage", 1.0)
        metadata = {"event_type": "bzpeer_digest", "event_payload": {"key": "d:1"}}
        with pytest.raises(TimeoutError):
            client.chat_postMessage(channel="U0ALICE", text="hi", metadata=metadata)
        channel = str(client.conversations_open(users="U0ALICE")["channel"]["id"])
        assert [m["text"] for m in local.history(channel)] == ["hi"]
        plain = client.conversations_history(channel=channel, limit=5)
        assert "metadata" not in plain["messages"][0]
        found = client.conversations_history(channel=channel, limit=5, include_all_metadata=True)
        assert found["messages"][0]["metadata"] == metadata
        later = client.conversations_history(channel=channel, oldest=found["messages"][0]["ts"])
        assert later["messages"] == []
