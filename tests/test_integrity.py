"""Request integrity: only signed, fresh requests act; a replayed request acts once; a forged
interactive payload (wrong user, other workspace, tampered value, unknown action) changes nothing.

Also proven elsewhere (not repeated here): bad/stale/future signatures on slash commands
(test_profile_command), replayed events, commands and a read-only button (test_retries), each
refusal's wording for claims, invitations and follows (test_claims, test_invitations, test_follows).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from sqlmodel import Session, select

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import event_callback, signed_headers
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from bot.web import WebApp
from handlers.ids import Action, ProfileInput
from services.store.models import Claim, Follow, Invitation
from services.workspaces.members import Viewer
from tests.collab_support import (
    ADMIN,
    ALICE,
    BOB,
    OTHER_ADMIN,
    SAM,
    SAM_ELSEWHERE,
    SEED,
    add_people,
    claim,
    claim_and_approve,
    invite_via_modal,
    posted_with,
    researcher_id,
    review_request,
)
from tests.conftest import SIGNING_SECRET
from tests.fuzz_support import StoreState, changed_tables
from tests.oauth_support import call
from tests.slack_support import SlackDriver, all_text, buttons, press, submit_view

FORM = "application/x-www-form-urlencoded"
MALLORY = Viewer("T0TEAM1", "U0MALLORY")


# ---------------------------------------------------------------------------------------------
# Signatures: commands, interactions and events alike


def _follow_press_body(driver: SlackDriver, researcher: int) -> str:
    return driver.action_body(Action.FOLLOW, json.dumps({"r": researcher}))


def _bodies(driver: SlackDriver, researcher: int) -> dict[str, tuple[str, str]]:
    """One request of each kind that would change the store if it were accepted."""
    home_event = event_callback("T0TEAM1", {"type": "app_uninstalled"}, event_id="Ev0FORGED")
    return {
        "command": (driver.command_body(f"follow {SEED}"), FORM),
        "interaction": (_follow_press_body(driver, researcher), FORM),
        "event": (home_event, "application/json"),
    }


def _headers_for(fault: str, body: str, content_type: str) -> dict[str, str]:
    now = int(time.time())
    if fault == "missing":
        return {"content-type": content_type}
    if fault == "timestamp only":
        return {"content-type": content_type, "x-slack-request-timestamp": str(now)}
    if fault == "signature only":
        signed = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        return {"content-type": content_type, "x-slack-signature": signed["x-slack-signature"]}
    if fault == "wrong secret":
        return signed_headers("not-the-signing-secret", body, content_type=content_type)
    if fault == "stale (301 s)":
        return signed_headers(SIGNING_SECRET, body, content_type=content_type, timestamp=now - 301)
    if fault == "future (301 s)":
        return signed_headers(SIGNING_SECRET, body, content_type=content_type, timestamp=now + 301)
    if fault == "another body":
        return signed_headers(SIGNING_SECRET, body + "&x=1", content_type=content_type)
    if fault == "v1 scheme":
        signed = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        return {**signed, "x-slack-signature": signed["x-slack-signature"].replace("v0=", "v1=")}
    if fault == "timestamp not a number":
        signed = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        return {**signed, "x-slack-request-timestamp": "soon"}
    raise AssertionError(fault)


FAULTS = (
    "missing",
    "timestamp only",
    "signature only",
    "wrong secret",
    "stale (301 s)",
    "future (301 s)",
    "another body",
    "v1 scheme",
    "timestamp not a number",
)


@pytest.mark.parametrize("fault", FAULTS)
def test_unsigned_or_badly_signed_requests_get_401_and_change_nothing(
    driver: SlackDriver, runtime: Runtime, fault: str
) -> None:
    state = StoreState(runtime.services.engine)
    before = state.snapshot()
    seed = researcher_id(runtime.services.engine)
    for kind, (body, content_type) in _bodies(driver, seed).items():
        response = driver.app.dispatch(
            BoltRequest(body=body, headers=_headers_for(fault, body, content_type))
        )
        assert response.status == 401, (kind, response.status, response.body)
    assert changed_tables(before, state.snapshot()) == []
    assert driver.local.calls == []  # no reply, no DM, no users.info: nothing ran


def test_the_http_endpoint_refuses_them_too_and_a_fresh_signature_is_accepted(
    driver: SlackDriver, runtime: Runtime
) -> None:
    web = WebApp(build_bolt_app(runtime.settings, runtime.services), runtime.services.engine)
    body = driver.command_body(SEED)
    for fault in ("missing", "wrong secret", "stale (301 s)", "future (301 s)"):
        status, _, _ = call(
            web, "POST", "/slack/events", body=body.encode(), headers=_headers_for(fault, body, FORM)
        )
        assert status == 401, fault
    almost_stale = signed_headers(SIGNING_SECRET, body, content_type=FORM, timestamp=int(time.time()) - 290)
    status, _, ack = call(web, "POST", "/slack/events", body=body.encode(), headers=almost_stale)
    assert status == 200
    assert "Samyadeep Basu" in all_text(json.loads(ack))  # the card comes in the ack


def test_a_malformed_timestamp_never_reaches_the_error_handler(driver: SlackDriver) -> None:
    # Before the fix: slack_sdk raised on int("soon"), the error handler answered 200 and POSTed
    # an error message to the (unverified) response_url of the body: a forger's URL.
    body = driver.command_body(SEED)
    for stamp in ("soon", "", "1e9", "0x10", " 1"):
        headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
        headers["x-slack-request-timestamp"] = stamp
        assert driver.app.dispatch(BoltRequest(body=body, headers=headers)).status == 401, stamp
    assert driver.local.calls == []


MALFORMED = {
    "broken payload JSON": b"payload=%7Bbad",
    "broken JSON": b"{bad",
    "payload is a list": b"payload=%5B1%5D",
    "JSON list": b"[1,2]",
    "payload is a string": b"payload=%22x%22",
    "bad percent escapes": b"a=%ZZ&b",
    "not UTF-8": b"\xff\xfe\x00token=x",
    "two megabytes": b"text=" + b"x" * 2_000_000,
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_body_slack_never_sends_is_refused_without_a_5xx(
    driver: SlackDriver, runtime: Runtime, name: str
) -> None:
    web = WebApp(build_bolt_app(runtime.settings, runtime.services), runtime.services.engine)
    raw = MALFORMED[name]
    text = raw.decode("utf-8", "replace")
    for content_type in (FORM, "application/json"):
        unsigned = {"content-type": content_type}
        signed = signed_headers(SIGNING_SECRET, text, content_type=content_type)  # as if Slack sent it
        for headers in (unsigned, signed):
            status, _, _ = call(web, "POST", "/slack/events", body=raw, headers=headers)
            assert status < 500 and status != 200, (name, content_type, status)
    assert driver.local.calls_to("response_url") == []


# ---------------------------------------------------------------------------------------------
# Replays


def _follows(runtime: Runtime) -> list[tuple[int, int]]:
    with Session(runtime.services.engine) as session:
        return [(f.member_id, f.researcher_id) for f in session.exec(select(Follow))]


def _send(driver: SlackDriver, body: str, *, retry: str | None = None) -> int:
    headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
    if retry:
        headers["x-slack-retry-num"] = retry
    return driver.app.dispatch(BoltRequest(body=body, headers=headers)).status


def test_a_replayed_follow_press_follows_once_and_answers_once(driver: SlackDriver, runtime: Runtime) -> None:
    body = _follow_press_body(driver, researcher_id(runtime.services.engine))
    assert [_send(driver, body), _send(driver, body), _send(driver, body, retry="1")] == [200, 200, 200]
    assert len(_follows(runtime)) == 1
    [reply] = driver.replies()
    assert "You now follow *Samyadeep Basu*" in all_text(reply)
    # Unfollow, then the old Follow press replayed once more: still nothing.
    driver.command(f"unfollow {SEED}")
    assert _send(driver, body) == 200
    assert _follows(runtime) == []


def test_a_replayed_follow_command_acts_once_even_on_another_web_process(
    driver: SlackDriver, runtime: Runtime, settings: Settings
) -> None:
    body = driver.command_body(f"follow {SEED}")
    other = build_runtime(settings, migrate=False)
    try:
        other_app = build_bolt_app(settings, other.services, listener_executor=InlineExecutor())
        assert _send(driver, body) == 200
        headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
        headers["x-slack-retry-num"] = "1"
        assert other_app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    finally:
        other.close()
    assert len(_follows(runtime)) == 1 and len(driver.replies()) == 1


def test_a_replayed_press_older_than_five_minutes_is_refused(driver: SlackDriver, runtime: Runtime) -> None:
    body = _follow_press_body(driver, researcher_id(runtime.services.engine))
    old = signed_headers(SIGNING_SECRET, body, content_type=FORM, timestamp=int(time.time()) - 600)
    assert driver.app.dispatch(BoltRequest(body=body, headers=old)).status == 401
    assert _follows(runtime) == [] and driver.replies() == []


# ---------------------------------------------------------------------------------------------
# Forged interactive payloads: properly signed, but pressed by the wrong person, from another
# workspace, with a tampered value, or naming an action nobody handles


@pytest.fixture
def scene(driver: SlackDriver, runtime: Runtime) -> dict[str, Any]:
    """Sam's approved claim, Bob's pending claim on another profile, Alice's open invitation to
    Sam, and Alice following Samyadeep Basu."""
    add_people(driver)
    claim_and_approve(driver, SAM)
    claim(driver, BOB, "Tom Goldstein")
    invite_via_modal(driver, ALICE, message="Shall we talk?")
    driver.command(f"follow {SEED}")
    engine = runtime.services.engine
    with Session(engine) as session:
        claims = {c.status: c.id for c in session.exec(select(Claim))}
        [invitation] = session.exec(select(Invitation)).all()
    return {
        "intro": posted_with(driver, Action.INVITE_ACCEPT)[-1],
        "review": review_request(driver),
        "approved_claim": claims["approved"],
        "pending_claim": claims["pending"],
        "invitation": invitation.id,
        "seed": researcher_id(engine),
        "tom": researcher_id(engine, "Tom Goldstein"),
    }


Forgery = Callable[[SlackDriver, dict[str, Any]], Any]


def _press(
    action: str, value: Callable[[dict[str, Any]], str], who: Viewer, *, ephemeral: bool = False
) -> Forgery:
    def forge(driver: SlackDriver, scene: dict[str, Any]) -> Any:
        button = {"action_id": action, "value": value(scene), "text": {"type": "plain_text", "text": "x"}}
        return press(driver, button, user_id=who.user_id, team_id=who.team_id, ephemeral=ephemeral)

    return forge


def _edit_submission(who: Viewer) -> Forgery:
    def forge(driver: SlackDriver, scene: dict[str, Any]) -> Any:
        view = {
            "id": "V0FORGED",
            "type": "modal",
            "callback_id": "profile_edit",
            "private_metadata": json.dumps({"r": scene["seed"], "h": False}),
            "blocks": [],
        }
        values = {
            ProfileInput.HEADLINE: {ProfileInput.HEADLINE: {"type": "plain_text_input", "value": "Hijacked"}},
            ProfileInput.OPEN: {ProfileInput.OPEN: {"type": "checkboxes", "selected_options": []}},
        }
        return submit_view(driver, view, values, user_id=who.user_id, team_id=who.team_id)

    return forge


def _claim_id(key: str, delta: int = 0) -> Callable[[dict[str, Any]], str]:
    return lambda scene: json.dumps({"c": scene[key] + delta})


def _invitation(delta: int = 0) -> Callable[[dict[str, Any]], str]:
    return lambda scene: json.dumps({"i": scene["invitation"] + delta})


FORGERIES: dict[str, Forgery] = {
    "accept pressed by the inviter": _press(Action.INVITE_ACCEPT, _invitation(), ALICE),
    "accept pressed by a bystander": _press(Action.INVITE_ACCEPT, _invitation(), BOB),
    "accept by the invitee's namesake in another workspace": _press(
        Action.INVITE_ACCEPT, _invitation(), SAM_ELSEWHERE
    ),
    "mute-all pressed by a bystander": _press(Action.INVITE_MUTE_ALL, _invitation(), MALLORY),
    "accept naming an invitation that does not exist": _press(Action.INVITE_ACCEPT, _invitation(1), SAM),
    "approve pressed by a non-admin": _press(Action.CLAIM_APPROVE, _claim_id("pending_claim"), ALICE),
    "approve pressed by the claimant": _press(Action.CLAIM_APPROVE, _claim_id("pending_claim"), BOB),
    "approve by another workspace's admin": _press(
        Action.CLAIM_APPROVE, _claim_id("pending_claim"), OTHER_ADMIN
    ),
    "revoke by another workspace's admin": _press(
        Action.CLAIM_REVOKE, _claim_id("approved_claim"), OTHER_ADMIN
    ),
    "approve naming a claim that does not exist": _press(
        Action.CLAIM_APPROVE, _claim_id("pending_claim", 7), ADMIN
    ),
    "reject with a negative claim id": _press(Action.CLAIM_REJECT, lambda _: '{"c": -1}', ADMIN),
    "follow with a user id added to the value": _press(
        Action.FOLLOW, lambda s: json.dumps({"r": s["tom"], "u": "U0BOB"}), ALICE, ephemeral=True
    ),
    "unfollow with another workspace's team in the value": _press(
        Action.UNFOLLOW, lambda s: json.dumps({"r": s["seed"], "team": "T0TEAM2"}), ALICE, ephemeral=True
    ),
    "a claim id where a researcher id belongs": _press(
        Action.FOLLOW, _claim_id("approved_claim"), BOB, ephemeral=True
    ),
    "a researcher id where a claim id belongs": _press(
        Action.CLAIM_APPROVE, lambda s: json.dumps({"r": s["tom"]}), ADMIN
    ),
    "claim someone else's profile by its value": _press(
        Action.CLAIM, lambda s: json.dumps({"r": s["seed"]}), MALLORY, ephemeral=True
    ),
    "edit modal submitted by someone who is not the claimant": _edit_submission(ALICE),
    "edit modal submitted from another workspace": _edit_submission(SAM_ELSEWHERE),
    "an action id nobody handles": _press("admin_delete_everything", _claim_id("pending_claim"), ADMIN),
    "an action id with a known prefix": _press("follow_all", lambda s: json.dumps({"r": s["tom"]}), ALICE),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_interactive_payload_changes_nothing(
    driver: SlackDriver, runtime: Runtime, scene: dict[str, Any], forgery: str
) -> None:
    state = StoreState(runtime.services.engine)
    before, sent = state.snapshot(), len(driver.local.calls)
    response = FORGERIES[forgery](driver, scene)
    assert response.status == 200, response.body
    after = state.snapshot()
    if changed_tables(before, after) == ["member"]:
        # First use of the bot registers the presser (their own row, default settings): no more.
        [added] = set(after["member"]) - set(before["member"])
        assert len(after["member"]) == len(before["member"]) + 1 and added[1:3] == ("T0TEAM1", "U0MALLORY")
    else:
        assert changed_tables(before, after) == []
    # Whatever it was told, the presser alone heard it: no DM, no message edit, no post.
    calls = driver.local.calls[sent:]
    assert not [
        c.method for c in calls if c.method in ("chat.postMessage", "chat.update", "conversations.open")
    ]
    replies = [c.params for c in calls if c.method == "response_url"]
    assert all(r.get("response_type", "ephemeral") == "ephemeral" for r in replies)
    if response.body:
        assert json.loads(response.body).get("response_action") == "errors"  # the modal says why
    else:
        assert replies and "error id" not in all_text(replies[-1])


def test_an_unknown_action_id_is_told_the_button_is_out_of_date(driver: SlackDriver) -> None:
    assert driver.press("renamed_in_an_older_version", '{"r": 1}').status == 200
    assert "That button is out of date" in all_text(driver.last_reply())
    assert buttons(driver.last_reply()) == {}
