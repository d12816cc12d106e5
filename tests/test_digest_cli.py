"""Issue 4's "done when", through the processes: follow, a new work appears, refresh, digest --now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.local.slack_server import LocalSlack
from services.digests.follows import FollowService
from services.store.models import Researcher
from services.workspaces.members import Viewer
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.openalex_works import WorksStandIn, work_json
from tests.test_cli import MEARMAN, _env, bzpeer
from tests.topic_support import bzpeer_processes

pytestmark = pytest.mark.slow

NEW_TITLE = "Digests that arrive exactly once: a field study"


def test_follow_new_work_refresh_then_digest_now_sends_one_dm_and_then_nothing(
    database_url: str, engine: Engine, local_slack: LocalSlack, tmp_path: Path
) -> None:
    openalex = FakeOpenAlex()
    openalex.add(f"/authors/{MEARMAN}", fixture("author_A5017898742.json"))
    works = WorksStandIn(works=list(fixture("works_list_by_author_A5017898742_per_page50.json")["results"]))
    openalex.add_callable("/works", works)
    with bzpeer_processes(openalex, local_slack, database_url, tmp_path) as bot:
        imported = bot.run("import", MEARMAN)  # the back catalogue
        assert imported.returncode == 0, imported.stderr
        with Session(engine) as session:
            researcher = session.exec(select(Researcher).where(Researcher.openalex_id == MEARMAN)).one()
        assert researcher.id is not None
        FollowService(engine).follow(Viewer(team_id="T0TEAM1", user_id="U0ALICE"), researcher.id)
        today = datetime.now(UTC).date()
        works.add(work_json("W4999999999", NEW_TITLE, [(MEARMAN, "Joseph Mearman")], published=today))

        refreshed, sent = bot.refresh_then_digest()
        assert refreshed.returncode == 0 and sent.returncode == 0, refreshed.stderr + sent.stderr
        assert "1 work seen, 1 new" in refreshed.stdout and "1 digest item queued" in refreshed.stdout
        assert "Digest: 1 message sent (1 item)" in sent.stdout

        [dm] = local_slack.calls_to("chat.postMessage")
        [opened] = local_slack.calls_to("conversations.open")
        assert (
            opened.params["users"] == "U0ALICE" and dm.params["channel"] == opened.response["channel"]["id"]
        )
        blocks = str(dm.params["blocks"])
        assert NEW_TITLE in dm.params["text"] and NEW_TITLE in blocks
        assert "Heritage" not in blocks  # nothing from the back catalogue

        again_refresh, again_digest = bot.refresh_then_digest()
    assert "0 digest items queued" in again_refresh.stdout
    assert "Digest: 0 messages sent" in again_digest.stdout
    assert len(local_slack.calls_to("chat.postMessage")) == 1


def test_digest_without_a_bot_token_says_so(database_url: str, tmp_path: Path) -> None:
    result = bzpeer("digest", "--now", env=_env(database_url), cwd=tmp_path)
    assert result.returncode == 2
    assert "needs SLACK_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
