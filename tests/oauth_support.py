"""Multi-workspace tests: OAuth settings, the install flow through the WSGI app, signed events."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from bot.settings import Settings
from tests.conftest import SIGNING_SECRET

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-9f8e7d"
STATE_COOKIE = "slack-app-oauth-state"

WsgiApp = Callable[..., Any]


def oauth_settings(database_url: str, local: LocalSlack, secret_key: str) -> Settings:
    """OAuth mode: client id and secret, signing secret, no bot token."""
    return Settings(
        DATABASE_URL=database_url,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=local.url,
        OPENALEX_URL="https://openalex.test",
        BZPEER_SECRET_KEY=secret_key,
    )


def call(
    app: WsgiApp,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    """One request through a WSGI app in-process: (status, headers, body text)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.input": BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = {name.lower(): value for name, value in response_headers}

    text = b"".join(app(environ, start_response)).decode()
    return seen["status"], seen["headers"], text


def grant(
    team_id: str, token: str, *, refresh_token: str | None = None, expires_in: int | None = None
) -> dict[str, Any]:
    """What LocalSlack's oauth.v2.access answers for one workspace's code."""
    answer: dict[str, Any] = {"access_token": token, "team": {"id": team_id, "name": f"Lab {team_id}"}}
    if refresh_token:
        answer.update(refresh_token=refresh_token, expires_in=expires_in or 43200)
    return answer


def install(
    app: WsgiApp,
    local: LocalSlack,
    *,
    code: str,
    team_id: str,
    token: str,
    refresh_token: str | None = None,
    expires_in: int | None = None,
) -> str:
    """The browser's side of "Add to Slack": the install page, then Slack's redirect back."""
    local.oauth_grants[code] = grant(team_id, token, refresh_token=refresh_token, expires_in=expires_in)
    status, headers, page = call(app, "GET", "/slack/install")
    assert status == 200, page
    cookie = SimpleCookie(headers["set-cookie"])[STATE_COOKIE].value
    authorize_url = next(part for part in page.split('"') if part.startswith("https://slack.com/oauth/v2/"))
    state = parse_qs(urlsplit(authorize_url.replace("&amp;", "&")).query)["state"][0]
    assert state == cookie
    status, _, page = call(
        app,
        "GET",
        "/slack/oauth_redirect",
        query=urlencode({"code": code, "state": state}),
        headers={"Cookie": f"{STATE_COOKIE}={cookie}"},
    )
    assert status == 200 and "Thank you!" in page, page
    return page


def event_headers(body: str, *, retry: int | None = None) -> dict[str, str]:
    """Signed headers for an Events API delivery; with `retry`, Slack's retry headers too."""
    headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
    if retry is not None:
        headers["x-slack-retry-num"] = str(retry)
        headers["x-slack-retry-reason"] = "http_timeout"
    return headers


def install_over_http(base: str, local: LocalSlack, *, code: str, team_id: str, token: str) -> None:
    """The same browser round trip against a running `bzpeer serve`."""
    import httpx

    local.oauth_grants[code] = grant(team_id, token)
    page = httpx.get(f"{base}/slack/install", timeout=10)
    assert page.status_code == 200, page.text
    state = SimpleCookie(page.headers["set-cookie"])[STATE_COOKIE].value
    done = httpx.get(
        f"{base}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"{STATE_COOKIE}={state}"},
        timeout=10,
    )
    assert done.status_code == 200 and "Thank you!" in done.text, done.text
