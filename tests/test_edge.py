"""What reaches the app from the edge (issue 14): bodies Slack would not send are refused with a
401 or 400 and one log line, never a 500; text people type is stored clean on both databases;
Slack's entities are decoded once; only http(s) URLs become links."""

from __future__ import annotations

import json
import logging
import signal
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from slack_bolt.request import BoltRequest
from sqlmodel import Session, select

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import Actor, signed_headers, view_submission
from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from handlers.digests.follow_blocks import newest_work_line
from handlers.ids import ProfileInput
from handlers.research.profile_blocks import work_line
from services.digests.follow_views import FollowedResearcher
from services.research.profiles import WorkSummary
from services.store.engine import session_scope
from services.store.models import Delivery, Member, Researcher, Work
from tests.collab_support import (
    ALICE,
    SAM,
    SEED,
    ack_body,
    add_people,
    claim_and_approve,
    invitations,
    invite_via_modal,
    last_view,
)
from tests.conftest import SIGNING_SECRET
from tests.fuzz_support import fuzz_examples
from tests.process_support import bot_env, start_serve
from tests.slack_support import SlackDriver, all_text, buttons, press, submit_view

# The three bodies of finding 7: an event that is a string, a team that is a number, and JSON
# nested 100,000 levels deep (200 kB).
FINDING_7_BODIES = {
    "event is a string": '{"type":"event_callback","event":"x"}',
    "team is a number": '{"team":5}',
    "nested 100,000 deep": '{"a":' + "[" * 100_000 + "]" * 100_000 + "}",
}


@pytest.mark.slow
def test_bodies_slack_would_not_send_get_401_or_400_and_one_log_line_from_bzpeer_serve(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    env = bot_env(database_url, local_slack.url, SIGNING_SECRET)
    server, base = start_serve(env, tmp_path)
    answers: list[tuple[int, str]] = []
    try:
        for body in FINDING_7_BODIES.values():
            unsigned = {"content-type": "application/json"}
            signed = signed_headers(SIGNING_SECRET, body, content_type="application/json")
            for headers in (unsigned, signed):
                response = httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=10)
                answers.append((response.status_code, response.text))
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=40)[0]
    assert [status for status, _ in answers] == [401, 400] * 3
    assert answers[1][1] == '{"error": "\'event\' is not an object"}'
    assert answers[3][1] == '{"error": "\'team\' is not an id or an object"}'
    assert answers[5][1] == '{"error": "nested too deeply"}'
    assert "Traceback" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "bzpeer.request"]
    assert [line["status"] for line in requests] == [401, 400] * 3
    assert {line["kind"] for line in requests} == {"malformed body"}


# Signed, and still not what Slack sends: each stops at the signature check with a 400.
MALFORMED_SIGNED = [
    ("application/json", '{"type":"block_actions","actions":"x"}', "'actions' is not a list of objects"),
    (
        "application/json",
        '{"type":"event_callback","team_id":5,"event":{"type":"app_mention"}}',
        "'team_id' is not text",
    ),
    (
        "application/json",
        '{"type":"view_submission","view":{"callback_id":["x"]}}',
        "view: 'callback_id' is not text",
    ),
    ("application/json", '{"type":"block_actions","user":{"id":7}}', "user: 'id' is not text"),
    ("application/json", "[1, 2]", "not a JSON object"),
    ("application/json", "command=%2Fpeer&text=help", "not JSON"),
    ("application/x-www-form-urlencoded", "payload=%5B1%5D", "not a JSON object"),
    (
        "application/x-www-form-urlencoded",
        "payload=%7B%22a%22%3A" + "%5B" * 80 + "%5D" * 80 + "%7D",
        "nested too deeply",
    ),
    ("application/x-www-form-urlencoded", "", "empty body"),
]


@pytest.mark.parametrize(("content_type", "body", "problem"), MALFORMED_SIGNED)
def test_signed_bodies_of_the_wrong_shape_get_400_with_one_log_line(
    driver: SlackDriver, caplog: pytest.LogCaptureFixture, content_type: str, body: str, problem: str
) -> None:
    headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
    with caplog.at_level(logging.INFO, logger="bzpeer.request"):
        response = driver.app.dispatch(BoltRequest(body=body, headers=headers))
        unsigned = driver.app.dispatch(BoltRequest(body=body, headers={"content-type": content_type}))
    assert (response.status, json.loads(response.body)) == (400, {"error": problem})
    assert unsigned.status == 401
    lines = [r.bzpeer for r in caplog.records if r.name == "bzpeer.request"]  # type: ignore[attr-defined]
    assert [(line["status"], line["kind"], line["problem"]) for line in lines] == [
        (400, "malformed body", problem),
        (401, "malformed body", problem),
    ]
    assert not driver.local.calls  # nothing reached Slack: no reply, no error message


# Keys Bolt and the listeners read, at any depth, and values of every JSON type around them.
_KEYS = st.sampled_from(
    [
        "type",
        "team",
        "user",
        "channel",
        "enterprise",
        "event",
        "actions",
        "view",
        "container",
        "message",
        "authorizations",
        "response_urls",
        "callback_id",
        "action_id",
        "value",
        "id",
        "team_id",
        "user_id",
        "command",
        "text",
        "trigger_id",
        "response_url",
        "state",
        "values",
        "private_metadata",
        "is_enterprise_install",
        "is_ext_shared_channel",
        "tab",
        "subtype",
        "selected_option",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=4),
    st.sampled_from(
        [
            "T0TEAM1",
            "U0ALICE",
            "block_actions",
            "event_callback",
            "view_submission",
            "/peer",
            "app_home_opened",
            "message",
            "profile_edit",
            "invite",
            "follow",
        ]
    ),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=20,
)


def test_any_signed_json_envelope_gets_an_answer_never_an_exception(driver: SlackDriver) -> None:
    @settings(max_examples=fuzz_examples(150), deadline=None, suppress_health_check=list(HealthCheck))
    @given(envelope=st.dictionaries(_KEYS, _JSON, max_size=7))
    @example(envelope={"response_urls": [{}, {}]})  # Bolt 1.30 raises on two
    @example(envelope={"type": "event_callback", "event": None})
    def run(envelope: dict[str, Any]) -> None:
        body = json.dumps(envelope)
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
        assert driver.app.dispatch(BoltRequest(body=body, headers=headers)).status in (200, 400, 404)

    run()


# ---------------------------------------------------------------------------------------------
# Text typed in Slack is stored clean (finding 1, Slack half)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POISON = "Poison\u0000headline\ud800 \u0007on call"
CLEAN = "Poisonheadline\ufffd on call"


@pytest.fixture
def people(driver: SlackDriver) -> SlackDriver:
    add_people(driver)
    return driver


def test_a_headline_with_a_nul_byte_and_a_lone_surrogate_is_saved_clean(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people)
    people.command(SEED, user_id=SAM.user_id, team_id=SAM.team_id)
    press(people, buttons(people.last_reply())["Edit profile"], user_id=SAM.user_id)
    values = {
        ProfileInput.HEADLINE: {ProfileInput.HEADLINE: {"type": "plain_text_input", "value": POISON}},
        ProfileInput.OPEN: {ProfileInput.OPEN: {"type": "checkboxes", "selected_options": []}},
    }
    saved = submit_view(people, last_view(people), values, user_id=SAM.user_id)
    assert ack_body(saved)["response_action"] == "update"
    with Session(runtime.services.engine) as session:
        headline = session.exec(select(Researcher.headline).where(Researcher.name == SEED)).one()
    assert headline == CLEAN
    people.command(SEED)
    assert CLEAN in all_text(people.last_reply())


def test_an_invitation_message_with_a_nul_byte_and_a_lone_surrogate_is_sent_and_kept_clean(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people, SAM)
    response = invite_via_modal(people, ALICE, message=POISON)
    assert ack_body(response)["response_action"] == "update"
    assert "Invitation sent to *Samyadeep Basu*" in all_text(last_view(people, "views.update"))
    assert [invitation.message for invitation in invitations(runtime.services.engine)] == [CLEAN]
    intro = people.local.calls_to("chat.postMessage")[-1].params
    assert f"> {CLEAN}" in all_text(intro)


def test_over_socket_mode_an_invitation_message_is_kept_clean_too(
    people: SlackDriver, runtime: Runtime
) -> None:
    claim_and_approve(people, SAM)
    people.command(f"invite {SEED}")
    socket_app = build_bolt_app(
        runtime.settings, runtime.services, listener_executor=InlineExecutor(), socket_mode=True
    )
    view = {
        **last_view(people),
        "state": {"values": {"invite_message": {"invite_message": {"value": POISON}}}},
    }
    payload = view_submission(Actor(ALICE.team_id, ALICE.user_id, "C0GENERAL"), view)
    response = socket_app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    assert ack_body(response)["response_action"] == "update"
    assert [invitation.message for invitation in invitations(runtime.services.engine)] == [CLEAN]


def test_slash_text_with_a_nul_byte_is_searched_and_echoed_without_it(people: SlackDriver) -> None:
    people.command("Samyadeep\u0000 Basu")
    assert "Samyadeep Basu: Trust 13" in all_text(people.last_reply())
    people.command("Nobody\u0000 Known\u0007")
    assert "No researcher matching “Nobody Known”" in all_text(people.last_reply())


# ---------------------------------------------------------------------------------------------
# Slack's entities are decoded once (finding 10a)


def test_typed_brackets_are_echoed_with_one_level_of_escaping(people: SlackDriver) -> None:
    # Typed `<b> & co`; Slack sends it escaped.
    people.command("&lt;b&gt; &amp; co")
    text = all_text(people.last_reply())
    assert "No researcher matching “&lt;b&gt; &amp; co”" in text
    assert "&amp;lt;" not in text and "&amp;amp;" not in text


def test_a_typed_mention_is_a_name_and_a_real_mention_is_refused(people: SlackDriver) -> None:
    people.command("&lt;@U0ALICE&gt;")  # typed as text: searched for, shown inert
    assert "No researcher matching “&lt;@U0ALICE&gt;”" in all_text(people.last_reply())
    people.command("<@U0ALICE>")  # picked from Slack's menu: a person, not a researcher
    reply = all_text(people.last_reply())
    assert "No researcher matching" not in reply and "<@U0ALICE>" not in reply


def test_the_invitation_modal_is_prefilled_with_what_was_typed(people: SlackDriver) -> None:
    claim_and_approve(people, SAM)
    # Typed `Influence & robustness <3 (&lt; is how HTML writes <)`.
    people.command(f"invite {SEED} | Influence &amp; robustness &lt;3 (&amp;lt; is how HTML writes &lt;)")
    message = next(b for b in last_view(people)["blocks"] if b.get("block_id") == "invite_message")
    assert message["element"]["initial_value"] == "Influence & robustness <3 (&lt; is how HTML writes <)"


# ---------------------------------------------------------------------------------------------
# Only http(s) URLs become links (finding 10b)

HOSTILE_URLS = [
    "javascript:alert(1)",
    "JavaScript://x/%0aalert(1)",
    "data:text/html,hi",
    "slack://open",
    "https://",
]


def _summary(url: str | None) -> WorkSummary:
    return WorkSummary(
        id=1, title="A Title", type="article", year=2026, venue=None, url=url, abstract=None, also=None
    )


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_work_with_a_non_web_url_is_shown_without_a_link(url: str) -> None:
    assert "*A Title*" in work_line(_summary(url))
    assert "Open access" not in work_line(replace(_summary(None), oa_url=url))
    followed = FollowedResearcher(
        researcher_id=1, name="R", newest_work=_summary(url), muted=False, since=NOW
    )
    assert newest_work_line(followed) == "Newest: 2026 · A Title"


def test_web_urls_still_become_links() -> None:
    assert "*<https://doi.org/10.1/x|A Title>*" in work_line(_summary("https://doi.org/10.1/x"))
    assert "*<http://example.org/a?b=1|A Title>*" in work_line(_summary("http://example.org/a?b=1"))


def test_a_digest_item_whose_landing_page_is_javascript_is_not_a_link(
    people: SlackDriver, runtime: Runtime
) -> None:
    people.command(f"follow {SEED}")
    profile = runtime.services.profiles.lookup(SEED).profile
    assert profile is not None
    with session_scope(runtime.services.engine) as session:
        member = session.exec(select(Member).where(Member.user_id == people.user_id)).one()
        work = Work(
            title="Fragile Influence",
            title_norm="fragile influence",
            year=2026,
            publication_date=date(2026, 11, 1),
            openalex_id="W9999999901",
            landing_url="javascript:alert(document.cookie)",
        )
        session.add(work)
        session.flush()
        assert work.id is not None and member.id is not None
        session.add(Delivery(member_id=member.id, work_id=work.id, researcher_id=profile.id))
    people.command("digest preview")
    text = all_text(people.last_reply())
    assert "*Fragile Influence*" in text and "javascript:" not in text
