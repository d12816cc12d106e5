"""What a command costs the web process, held where benchmarks/cpu_profile.py left it: the card's
reads (a statement each is SQLAlchemy work in Python, whatever the database takes), and the one
copy of a request a lazy listener gets. Counts, never times."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.app import build_bolt_app
from bot.local.signed_requests import Actor, signed_headers, slash_command_body
from bot.runtime import Runtime
from tests.collab_support import SAM, SEED, add_people, claim_and_approve, researcher_id
from tests.conftest import SIGNING_SECRET
from tests.slack_support import SlackDriver


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` while open."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_card_is_read_in_four_statements_once_its_researcher_is_found(
    driver: SlackDriver, runtime: Runtime
) -> None:
    add_people(driver)
    claim_and_approve(driver, SAM)  # a claim and a member: every fact of the card is there
    driver.command(f"follow {SEED}", user_id=SAM.user_id)
    rid = researcher_id(runtime.services.engine)

    with statements(runtime.services.engine) as seen:
        card = runtime.services.profiles.profile(rid, viewer=SAM)

    assert card is not None and card.following and card.claimed_by_viewer
    assert card.works_count and card.recent_works and card.close_collaborators and card.topics
    # The researcher, then the head (counts, affiliation, claim, the viewer's follow), topics,
    # newest works and closest co-authors.
    assert len(seen) == 5, seen


def _request(mode: str) -> BoltRequest:
    body = slash_command_body(Actor("T0TEAM1", "U0ALICE", "C0GENERAL"), "/peer", SEED, "http://127.0.0.1/r")
    headers = dict(signed_headers(SIGNING_SECRET, body))
    if mode == "http":
        request = BoltRequest(body=body, headers=dict(headers))
    else:
        request = BoltRequest(body=dict(BoltRequest(body=body).body), headers=dict(headers), mode=mode)
    request.context["bzpeer_handover"] = {"decision": ["kept"]}
    request.context["client"] = WebClient(token="xoxb-test")
    return request


def test_a_lazy_listener_gets_its_own_request_copied_once(runtime: Runtime) -> None:
    app = build_bolt_app(runtime.settings, runtime.services)
    runner = app.listener_runner
    for mode in ("http", "socket_mode"):
        request = _request(mode)

        copied = runner._build_lazy_request(request, "work")

        assert copied.lazy_only and copied.lazy_function_name == "work"
        assert copied.context["listener_runner"] is runner
        # Nothing the request thread holds is shared: its own body and its own handed-over values.
        assert copied.body == request.body and copied.body is not request.body
        handover = copied.context["bzpeer_handover"]
        assert handover == request.context["bzpeer_handover"]
        assert handover is not request.context["bzpeer_handover"]
        # Over HTTP the Web API client is handed over as is, not deep-copied a second time.
        assert (copied.context["client"] is request.context["client"]) == (mode == "http")
