"""Multi-workspace install: Bolt's OAuth flow on our own tables, each workspace answered with its
own token, rotation and the code exchange on SLACK_API_URL, and uninstall parking."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from cryptography.fernet import Fernet
from slack_bolt import Ack, App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import text

from bot.app import InlineExecutor, build_bolt_app, web_client
from bot.installations import InstallationTokens, PurgingOAuthStateStore, build_installation_store
from bot.local.signed_requests import event_callback, signed_headers
from bot.local.slack_server import LocalSlack
from bot.manifest import BOT_SCOPES, build_manifest
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web import WebApp
from services.openalex.client import OpenAlexClient
from tests.conftest import SIGNING_SECRET
from tests.digest_support import follow_and_ledger_state, member_with_ledger
from tests.fake_openalex import FakeOpenAlex
from tests.oauth_support import CLIENT_ID, call, event_headers, install, oauth_settings
from tests.slack_support import SlackDriver, all_text

CARD = "Samyadeep Basu: Trust"


@pytest.fixture
def settings(database_url: str, local_slack: LocalSlack) -> Settings:
    return oauth_settings(database_url, local_slack, Fernet.generate_key().decode())


@pytest.fixture
def runtime(settings: Settings, openalex: FakeOpenAlex) -> Iterator[Runtime]:
    client = OpenAlexClient(settings.openalex_url, transport=openalex.transport(), sleep=lambda _: None)
    runtime = build_runtime(settings, openalex=client)
    runtime.services.demo.load()
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime: Runtime) -> App:
    app = build_bolt_app(runtime.settings, runtime.services, listener_executor=InlineExecutor())

    @app.command("/whoami")
    def whoami(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        # Stands in for any listener that calls the Web API with the request's client.
        ack()
        client.chat_postMessage(channel=body["user_id"], text="hello")

    return app


@pytest.fixture
def web(app: App, runtime: Runtime) -> WebApp:
    return WebApp(app, runtime.services.engine)


@pytest.fixture
def driver(app: App, local_slack: LocalSlack) -> SlackDriver:
    return SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)


def _two_workspaces(web: WebApp, local: LocalSlack) -> None:
    install(web, local, code="code-one", team_id="T0LAB1", token="xoxb-lab1-secret")
    install(web, local, code="code-two", team_id="T0LAB2", token="xoxb-lab2-secret")


def test_install_page_sets_a_state_cookie_and_asks_for_the_manifest_scopes(web: WebApp) -> None:
    status, headers, page = call(web, "GET", "/slack/install")
    assert status == 200
    assert "slack-app-oauth-state=" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]
    url = next(part for part in page.split('"') if part.startswith("https://slack.com/oauth/v2/authorize"))
    query = parse_qs(urlsplit(url.replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == BOT_SCOPES


def test_redirect_without_the_browser_cookie_or_with_an_unknown_state_is_refused(
    web: WebApp, local_slack: LocalSlack, runtime: Runtime
) -> None:
    _, headers, _ = call(web, "GET", "/slack/install")
    state = headers["set-cookie"].split(";")[0].split("=", 1)[1]
    status, _, _ = call(web, "GET", "/slack/oauth_redirect", query=f"code=c1&state={state}")
    assert status == 400  # invalid_browser: the state is not this browser's
    forged = {"Cookie": "slack-app-oauth-state=forged"}
    status, _, _ = call(web, "GET", "/slack/oauth_redirect", query="code=c1&state=forged", headers=forged)
    assert status == 401  # invalid_state: never issued (or already used)
    assert local_slack.calls_to("oauth.v2.access") == []
    store = build_installation_store(runtime.settings, runtime.services.engine)
    assert store.find_installation(enterprise_id=None, team_id="T0LOCAL") is None


def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    web: WebApp, driver: SlackDriver, local_slack: LocalSlack
) -> None:
    _two_workspaces(web, local_slack)
    exchanges = local_slack.calls_to("oauth.v2.access")
    assert [call.params["code"] for call in exchanges] == ["code-one", "code-two"]
    local_slack.clear()

    for team in ("T0LAB1", "T0LAB2"):
        # The same user id in both workspaces: two different people.
        assert driver.command("Samyadeep Basu", team_id=team, user_id="U0SAME").status == 200
        assert CARD in all_text(driver.last_reply())
        body = driver.command_body("", team_id=team, user_id="U0SAME").replace("%2Fpeer", "%2Fwhoami")
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
        headers["Content-Type"] = headers.pop("content-type")
        status, _, _ = call(web, "POST", "/slack/events", body=body.encode(), headers=headers)
        assert status == 200

    posts = local_slack.calls_to("chat.postMessage")
    assert [post.token for post in posts] == ["xoxb-lab1-secret", "xoxb-lab2-secret"]
    # auth.test once per workspace token, then the cached answer.
    assert sorted(c.token or "" for c in local_slack.calls_to("auth.test")) == [
        "xoxb-lab1-secret",
        "xoxb-lab2-secret",
    ]


def test_unknown_workspace_is_told_to_reinstall(driver: SlackDriver) -> None:
    assert driver.command("Samyadeep Basu", team_id="T0NEVER").status == 200
    assert CARD not in all_text(driver.last_reply())
    assert "installation" in all_text(driver.last_reply())


def test_code_exchange_and_token_rotation_use_slack_api_url(
    web: WebApp, driver: SlackDriver, local_slack: LocalSlack, runtime: Runtime
) -> None:
    # A rotating token that expires within the refresh window (120 min): the next request rotates.
    install(
        web,
        local_slack,
        code="code-rot",
        team_id="T0ROT",
        token="xoxe.xoxb-rot-first",
        refresh_token="xoxe-1-rot-refresh",
        expires_in=600,
    )
    assert [c.path for c in local_slack.calls_to("oauth.v2.access")] == ["/api/oauth.v2.access"]
    local_slack.clear()
    driver.command("Samyadeep Basu", team_id="T0ROT")
    assert CARD in all_text(driver.last_reply())
    refresh = local_slack.calls_to("oauth.v2.access")
    assert len(refresh) == 1 and refresh[0].params["grant_type"] == "refresh_token"
    assert refresh[0].params["refresh_token"] == "xoxe-1-rot-refresh"
    new_token = refresh[0].response["access_token"]
    assert [c.token for c in local_slack.calls_to("auth.test")] == [new_token]

    store = build_installation_store(runtime.settings, runtime.services.engine)
    saved = store.find_installation(enterprise_id=None, team_id="T0ROT")
    assert saved is not None and saved.bot_token == new_token
    assert saved.bot_refresh_token == refresh[0].response["refresh_token"]


def test_scheduler_token_lookup_rotates_on_slack_api_url_too(
    web: WebApp, local_slack: LocalSlack, runtime: Runtime
) -> None:
    install(
        web,
        local_slack,
        code="code-sched",
        team_id="T0SCHED",
        token="xoxe.xoxb-sched-first",
        refresh_token="xoxe-1-sched-refresh",
        expires_in=600,
    )
    local_slack.clear()
    tokens = InstallationTokens(runtime.settings, runtime.services.engine, web_client(runtime.settings))
    token = tokens.bot_token("T0SCHED")
    refresh = local_slack.calls_to("oauth.v2.access")
    assert len(refresh) == 1 and token == refresh[0].response["access_token"]
    assert tokens.bot_token("T0SCHED") == token  # now fresh for 12 h: no second refresh
    assert len(local_slack.calls_to("oauth.v2.access")) == 1
    assert tokens.bot_token("T0NOWHERE") is None


def _dispatch_event(app: App, team_id: str, event: dict[str, Any], event_id: str) -> int:
    body = event_callback(team_id, event, event_id=event_id)
    return app.dispatch(BoltRequest(body=body, headers=event_headers(body))).status


def test_uninstall_removes_that_workspaces_tokens_and_parks_then_reinstall_restores(
    web: WebApp, app: App, driver: SlackDriver, local_slack: LocalSlack, runtime: Runtime
) -> None:
    engine = runtime.services.engine
    _two_workspaces(web, local_slack)
    lab1 = member_with_ledger(engine, "T0LAB1", "U0SAME", ("pending", "sent"))
    lab2 = member_with_ledger(engine, "T0LAB2", "U0SAME", ("pending", "sent"))

    assert _dispatch_event(app, "T0LAB1", {"type": "app_uninstalled"}, "Ev0UNINSTALL1") == 200

    store = build_installation_store(runtime.settings, engine)
    assert store.find_installation(enterprise_id=None, team_id="T0LAB1") is None
    assert store.find_bot(enterprise_id=None, team_id="T0LAB1") is None
    kept = store.find_installation(enterprise_id=None, team_id="T0LAB2")
    assert kept is not None and kept.bot_token == "xoxb-lab2-secret"
    assert follow_and_ledger_state(engine, lab1) == ([True], ["parked", "sent"])
    assert follow_and_ledger_state(engine, lab2) == ([False], ["pending", "sent"])

    # The other workspace carries on; the uninstalled one gets no card.
    driver.command("Samyadeep Basu", team_id="T0LAB2")
    assert CARD in all_text(driver.last_reply())
    driver.command("Samyadeep Basu", team_id="T0LAB1")
    assert CARD not in all_text(driver.last_reply())

    install(web, local_slack, code="code-again", team_id="T0LAB1", token="xoxb-lab1-again")
    assert follow_and_ledger_state(engine, lab1) == ([False], ["pending", "sent"])
    local_slack.clear()
    driver.command("Samyadeep Basu", team_id="T0LAB1")
    assert CARD in all_text(driver.last_reply())
    assert [c.token for c in local_slack.calls_to("auth.test")] == ["xoxb-lab1-again"]


def test_revoked_bot_token_parks_the_workspace_like_an_uninstall(
    web: WebApp, app: App, local_slack: LocalSlack, runtime: Runtime
) -> None:
    engine = runtime.services.engine
    _two_workspaces(web, local_slack)
    lab1 = member_with_ledger(engine, "T0LAB1", "U0SAME", ("pending", "sent"))
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}
    assert _dispatch_event(app, "T0LAB1", event, "Ev0REVOKE1") == 200
    store = build_installation_store(runtime.settings, engine)
    assert store.find_bot(enterprise_id=None, team_id="T0LAB1") is None
    assert store.find_bot(enterprise_id=None, team_id="T0LAB2") is not None
    assert follow_and_ledger_state(engine, lab1) == ([True], ["parked", "sent"])


def test_revoked_user_tokens_alone_leave_the_workspace_running(
    web: WebApp, app: App, local_slack: LocalSlack, runtime: Runtime, driver: SlackDriver
) -> None:
    engine = runtime.services.engine
    _two_workspaces(web, local_slack)
    lab1 = member_with_ledger(engine, "T0LAB1", "U0SAME", ("pending", "sent"))
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE"], "bot": []}}
    assert _dispatch_event(app, "T0LAB1", event, "Ev0REVOKE2") == 200
    assert follow_and_ledger_state(engine, lab1) == ([False], ["pending", "sent"])
    driver.command("Samyadeep Basu", team_id="T0LAB1")
    assert CARD in all_text(driver.last_reply())


def test_oauth_settings_ignore_a_leftover_bot_token(runtime: Runtime, local_slack: LocalSlack) -> None:
    settings = runtime.settings.model_copy(update={"slack_bot_token": "xoxb-left-over"})
    app = build_bolt_app(settings, runtime.services, listener_executor=InlineExecutor())
    assert app.oauth_flow is not None and app.installation_store is not None
    assert app.client.base_url == local_slack.url and app.client.token is None


def test_expired_install_states_are_purged(runtime: Runtime) -> None:
    engine = runtime.services.engine
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO slack_oauth_states (state, expire_at) VALUES ('stale', :at)"),
            {"at": datetime(2020, 1, 1)},
        )
    store = PurgingOAuthStateStore(expiration_seconds=600, engine=engine)
    fresh = store.issue()
    with engine.connect() as conn:
        states = conn.execute(text("SELECT state FROM slack_oauth_states")).scalars().all()
    assert states == [fresh]
    assert store.consume(fresh) and not store.consume(fresh)  # single use


def test_manifest_subscribes_to_uninstall_events_and_rotates_only_for_oauth() -> None:
    oauth = build_manifest("/peer", "https://bzpeer.example.org", token_rotation=True)
    single = build_manifest("/peer", "https://bzpeer.example.org")
    assert oauth["settings"]["token_rotation_enabled"] is True
    assert single["settings"]["token_rotation_enabled"] is False
    for manifest in (oauth, single, build_manifest("/peer")):
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        assert {"app_uninstalled", "tokens_revoked"} <= set(events)
    assert oauth["oauth_config"]["redirect_urls"] == ["https://bzpeer.example.org/slack/oauth_redirect"]


def test_manifest_command_oauth_flag(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    run = [sys.executable, "-m", "bot", "manifest"]
    done = subprocess.run(
        [*run, "--url", "https://b.example.org", "--oauth"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and yaml.safe_load(done.stdout)["settings"]["token_rotation_enabled"] is True
    refused = subprocess.run(
        [*run, "--oauth"], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2 and "--oauth needs --url" in refused.stderr
