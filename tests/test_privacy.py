"""Data protection: `bzpeer forget-member` deletes one member's data and nothing else, and a
realistic flow logs no Slack token and no e-mail address.

Stored tokens are encrypted at rest: tests/test_secrets.py (ciphertext in the columns, key
rotation, fail-fast on a bad key) and tests/test_logs.py (redaction, `bzpeer serve` output).
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.app import InlineExecutor, build_bolt_app
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack
from bot.logs import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from handlers.ids import Action
from services.digests import queueing
from services.openalex.client import OpenAlexClient
from services.store.engine import session_scope
from services.store.models import (
    Claim,
    Delivery,
    Follow,
    Invitation,
    InvitationMute,
    Member,
    Researcher,
    Work,
    utcnow,
)
from services.workspaces.members import Viewer
from services.workspaces.privacy import PrivacyService
from tests.collab_support import (
    ADMIN,
    ALICE,
    BOB,
    SAM,
    SEED,
    add_people,
    claim_and_approve,
    invite_via_modal,
)
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.slack_support import SlackDriver, all_text, buttons, press

ALICE_ELSEWHERE = Viewer("T0TEAM2", "U0ALICE")  # the same user id in another workspace


def _member_id(engine: Engine, who: Viewer) -> int | None:
    with Session(engine) as session:
        return session.exec(
            select(Member.id).where(col(Member.team_id) == who.team_id, col(Member.user_id) == who.user_id)
        ).first()


def _rows_of(engine: Engine, member_id: int | None) -> dict[str, int]:
    """How many rows of each kind mention this member."""
    if member_id is None:
        return {}
    with Session(engine) as session:

        def count(model: type, *conditions: object) -> int:
            return int(session.exec(select(func.count()).select_from(model).where(*conditions)).one())  # type: ignore[call-overload]

        return {
            "follows": count(Follow, col(Follow.member_id) == member_id),
            "digest_items": count(Delivery, col(Delivery.member_id) == member_id),
            "invitations": count(
                Invitation,
                (col(Invitation.inviter_member_id) == member_id)
                | (col(Invitation.invitee_member_id) == member_id),
            ),
            "mutes": count(
                InvitationMute,
                (col(InvitationMute.member_id) == member_id)
                | (col(InvitationMute.muted_member_id) == member_id),
            ),
            "claims": count(Claim, col(Claim.member_id) == member_id),
        }


def _queue_items(engine: Engine, member_id: int, count: int, *, sent: int = 0) -> None:
    """Digest ledger rows for the member's followed researcher: `sent` delivered, the rest pending."""
    with session_scope(engine) as session:
        follow = session.exec(select(Follow).where(col(Follow.member_id) == member_id)).first()
        assert follow is not None
        works = [
            Work(title=f"Paper {member_id}-{n}", title_norm=f"paper {member_id} {n}") for n in range(count)
        ]
        session.add_all(works)
        session.flush()
        queueing.insert_ignoring_duplicates(
            session=session,
            rows=[
                {
                    "member_id": member_id,
                    "work_id": work.id,
                    "researcher_id": follow.researcher_id,
                    "status": "sent" if n < sent else "pending",
                    "kind": "new",
                    "attempts": 0,
                    "created_at": utcnow(),
                }
                for n, work in enumerate(works)
            ],
        )


@pytest.fixture
def people(driver: SlackDriver) -> SlackDriver:
    add_people(driver)
    driver.local.add_user(SlackUser("U0ALICE", "T0TEAM2", "alice2", "Alice Elsewhere"))
    return driver


def _everyone_uses_the_bot(people: SlackDriver, runtime: Runtime) -> dict[str, int]:
    """Sam claims his profile (an admin approves), Alice, Bob and Alice-elsewhere follow him,
    Alice invites Sam and Sam declines and mutes her; everyone has digest items."""
    engine = runtime.services.engine
    claim_and_approve(people)
    for who in (ALICE, BOB, ALICE_ELSEWHERE):
        people.command(f"follow {SEED}", user_id=who.user_id, team_id=who.team_id)
        assert "You now follow" in all_text(people.last_reply())
    people.command("follow Tom Goldstein")
    invite_via_modal(people, ALICE, message="Shall we write the survey together?")
    with Session(engine) as session:
        [invitation] = session.exec(select(Invitation)).all()
    assert (
        runtime.services.invitations.answer(invitation.id or 0, SAM, "mute_person").status == "muted_person"
    )
    ids = {name: _member_id(engine, who) or 0 for name, who in (("alice", ALICE), ("bob", BOB), ("sam", SAM))}
    ids["alice_elsewhere"] = _member_id(engine, ALICE_ELSEWHERE) or 0
    _queue_items(engine, ids["alice"], 3, sent=1)
    _queue_items(engine, ids["bob"], 2)
    _queue_items(engine, ids["alice_elsewhere"], 2)
    return ids


def test_forget_member_deletes_that_members_data_only_and_is_idempotent(
    people: SlackDriver, runtime: Runtime
) -> None:
    engine = runtime.services.engine
    ids = _everyone_uses_the_bot(people, runtime)
    with Session(engine) as session:
        researchers_before = session.exec(select(func.count()).select_from(Researcher)).one()
    bob_before = _rows_of(engine, ids["bob"])
    elsewhere_before = _rows_of(engine, ids["alice_elsewhere"])

    report = PrivacyService(engine).forget_member("T0TEAM1", "U0ALICE")

    assert (report.follows, report.digest_items, report.invitations_sent, report.invitations_received) == (
        2,
        3,
        1,
        0,
    )
    assert (report.invitation_mutes, report.claims, report.member) == (1, 0, 1)
    assert _member_id(engine, ALICE) is None
    assert _rows_of(engine, ids["alice"]) == dict.fromkeys(bob_before, 0)
    # Bob, Sam's claim, and the same user id in another workspace are untouched.
    assert _rows_of(engine, ids["bob"]) == bob_before
    assert _rows_of(engine, ids["alice_elsewhere"]) == elsewhere_before
    assert _rows_of(engine, ids["sam"])["claims"] == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Researcher)).one() == researchers_before
    assert "Claimed" in all_text(_card(people, BOB))

    again = PrivacyService(engine).forget_member("T0TEAM1", "U0ALICE")
    assert again.total == 0
    assert again.lines() == ["Nothing stored for T0TEAM1/U0ALICE: nothing to delete."]


def test_forgetting_a_claimant_and_an_admin(people: SlackDriver, runtime: Runtime) -> None:
    engine = runtime.services.engine
    ids = _everyone_uses_the_bot(people, runtime)

    sam = PrivacyService(engine).forget_member("T0TEAM1", "U0SAM")
    assert (sam.claims, sam.invitations_received, sam.invitation_mutes, sam.member) == (1, 1, 1, 1)
    assert "Unclaimed author" in all_text(_card(people, BOB))  # the public record stays, unclaimed
    assert _rows_of(engine, ids["alice"])["invitations"] == 0

    # The admin who approved: the decision is kept without the admin's user id.
    claim_and_approve(people, who=BOB)
    admin = PrivacyService(engine).forget_member("T0TEAM1", "U0ADMIN")
    assert admin.claim_decisions_anonymised == 1
    with Session(engine) as session:
        assert [c.decided_by for c in session.exec(select(Claim))] == [None]


def _card(driver: SlackDriver, who: Viewer) -> dict[str, object]:
    driver.command(SEED, user_id=who.user_id, team_id=who.team_id)
    return driver.last_reply()


def _bzpeer(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_forget_member_command_prints_what_it_deleted(
    people: SlackDriver, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    _everyone_uses_the_bot(people, runtime)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TEST_", "BZPEER_"))}
    env["DATABASE_URL"] = database_url
    first = _bzpeer("forget-member", "T0TEAM1", "U0ALICE", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "Forgot T0TEAM1/U0ALICE:",
        "  follows: 2",
        "  digest items (sent and pending): 3",
        "  invitations sent: 1",
        "  invitations received: 0",
        "  invitation mutes: 1",
        "  claims: 0",
        "  claim decisions anonymised: 0",
        "  member record: 1",
    ]
    again = _bzpeer("forget-member", "T0TEAM1", "U0ALICE", env=env, cwd=tmp_path)
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "Nothing stored for T0TEAM1/U0ALICE: nothing to delete.",
    )
    bad = _bzpeer("forget-member", "T0TEAM1", "alice@example.org", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "give a workspace id and a user id" in bad.stderr
    assert _member_id(runtime.services.engine, ALICE) is None


# ---------------------------------------------------------------------------------------------
# No secrets in logs

TOKEN = "xoxb-4242-4242-SeCrEtBoTtOkEn"
API_KEY = "openalex-key-0123456789"
_TOKEN_RE = re.compile(r"xox[a-z]?[.-]|xapp-")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """The process's own handler (JSON lines with its redaction filter) at DEBUG, into a buffer."""
    root = logging.getLogger()
    level, stream = root.level, io.StringIO()
    handler = configure_logging(
        json_lines=True, level=logging.DEBUG, secrets=[TOKEN, SIGNING_SECRET, API_KEY]
    )
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_realistic_flow_logs_no_token_and_no_email(
    database_url: str,
    local_slack: LocalSlack,
    caplog: pytest.LogCaptureFixture,
    production_log: io.StringIO,
) -> None:
    settings = Settings(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=local_slack.url,
        OPENALEX_URL="https://openalex.test",
        OPENALEX_API_KEY=API_KEY,
    )
    openalex = FakeOpenAlex()
    mearman = "A5017898742"
    flaky = iter([httpx.Response(503, text="busy")])
    openalex.add_callable(
        f"/authors/{mearman}",
        lambda _: next(flaky, httpx.Response(200, json=fixture("author_A5017898742.json"))),
    )
    openalex.add("/works", fixture("works_list_by_author_A5017898742_per_page50.json"))
    openalex.add("/autocomplete/authors", {"error": "Rate limit exceeded"}, status=429)
    client = OpenAlexClient(
        settings.openalex_url, API_KEY, transport=openalex.transport(), sleep=lambda _: None
    )
    runtime = build_runtime(settings, openalex=client)
    try:
        runtime.services.demo.load()
        app = build_bolt_app(settings, runtime.services, listener_executor=InlineExecutor())
        driver = SlackDriver(app=app, local=local_slack, secret=SIGNING_SECRET)
        add_people(driver)
        caplog.set_level(logging.INFO)
        with caplog.at_level(logging.DEBUG, logger="slack_sdk"):
            _flow(driver, runtime, mearman)
    finally:
        runtime.close()
    raw = "\n".join(
        [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        + [r.exc_text or "" for r in caplog.records]
    )
    assert "digest for member" in raw and "OpenAlex" in raw  # the flow did log
    # What our code hands to its loggers at INFO and above is clean even without a filter …
    assert not _TOKEN_RE.search(raw) and not _EMAIL_RE.search(raw), raw
    # … and what the process writes is clean at DEBUG too, where slack_sdk logs whole responses.
    written = production_log.getvalue()
    assert "users.info" in written and "[redacted]" in written
    for needle in (TOKEN, API_KEY, "lab.example.org", "sbasu@", "xoxb-"):
        assert needle not in written, needle
    assert not _EMAIL_RE.search(written)


def _flow(driver: SlackDriver, runtime: Runtime, mearman: str) -> None:
    """Commands, presses, claims with e-mail look-ups, an import with a retry, a failed look-up,
    and digest deliveries with Slack faults: the paths that log."""
    claim_and_approve(driver)
    driver.command(f"follow {SEED}", user_id=BOB.user_id)
    driver.command(f"claim {SEED}", user_id=ALICE.user_id)  # taken: a refusal
    driver.command("digest weekly on friday at 16:00")
    driver.command("alice@lab.example.org")  # someone pastes an address as the query
    press(driver, {"action_id": Action.OPENALEX_LOOKUP, "value": '{"q": "Joseph Mearman"}'})
    press(driver, {"action_id": Action.OPENALEX_IMPORT, "value": f'{{"a": "{mearman}"}}'})
    assert "8 works" in all_text(driver.last_reply())
    card = driver.last_reply()
    press(driver, buttons(card)["Follow"])
    # Digests: one member's DM refused, one member gone, one fine.
    engine = runtime.services.engine
    for who in (ALICE, BOB, ADMIN):
        driver.command(f"follow {SEED}", user_id=who.user_id)
    for who in (ALICE, BOB, ADMIN):
        _queue_items(engine, _member_id(engine, who) or 0, 1)
    driver.local.fail_next("conversations.open", status=500)
    driver.local.fail_next("conversations.open", error="user_not_found")
    digests = runtime.services.digests  # the real SlackDigestSender on SLACK_BOT_TOKEN
    report = digests.deliver_due(now=utcnow(), force=True)
    assert report.messages_sent + report.failures + report.members_parked == 3
    driver.local.fail_next("chat.postMessage", error="invalid_auth")
    _queue_items(engine, _member_id(engine, ADMIN) or 0, 1)
    digests.deliver_due(now=utcnow() + timedelta(minutes=5), force=True)
