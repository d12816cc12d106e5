"""A web process told to stop tells whoever still waits to try again, and logs it, instead of
leaving them on "Looking up … on OpenAlex…" (issue 14, finding 8)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import httpx
import pytest

from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from handlers.ids import Action
from handlers.values import LookupValue
from tests.conftest import SIGNING_SECRET
from tests.fake_openalex import FakeOpenAlex
from tests.process_support import bot_env, start_serve, wait_until
from tests.slack_support import SlackDriver, all_text

FORM = "application/x-www-form-urlencoded"
TRY_AGAIN = "BZPEER restarted before your request finished — please try again."
# Short, so the test need not wait out the 30 s a deployment gives.
GRACE_SECONDS = 4


@pytest.mark.slow
def test_work_the_grace_period_cannot_finish_tells_its_user_to_try_again(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    openalex, answer = FakeOpenAlex(), threading.Event()

    def never(_: httpx.Request) -> httpx.Response:  # until the test is over
        answer.wait(timeout=120)
        return httpx.Response(503, text="<html>gone</html>")

    openalex.add_callable("/autocomplete/authors", never)
    with openalex.serve() as openalex_url:
        env = bot_env(
            database_url,
            local_slack.url,
            SIGNING_SECRET,
            OPENALEX_URL=openalex_url,
            BZPEER_GRACEFUL_TIMEOUT=str(GRACE_SECONDS),
        )
        server, base = start_serve(env, tmp_path)
        try:
            driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
            body = driver.action_body(Action.OPENALEX_LOOKUP, LookupValue(query="Joseph Mearman").dump())
            headers = signed_headers(SIGNING_SECRET, body, content_type=FORM)
            assert (
                httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=5).status_code
                == 200
            )
            assert wait_until(lambda: bool(openalex.requests), timeout=10)  # the look-up is under way
            assert "Looking up “Joseph Mearman” on OpenAlex" in all_text(driver.last_reply())
            server.send_signal(signal.SIGTERM)
            output, _ = server.communicate(timeout=GRACE_SECONDS + 30)
        finally:
            answer.set()
            if server.poll() is None:
                server.kill()
                server.wait()
    assert server.returncode == 0, output
    assert TRY_AGAIN in all_text(driver.last_reply()), output
    dropped = [json.loads(line) for line in output.splitlines() if "work dropped at shutdown" in line]
    assert len(dropped) == 1, output
    assert dropped[0]["work"] == f"action {Action.OPENALEX_LOOKUP}"
    assert (dropped[0]["team_id"], dropped[0]["user_id"], dropped[0]["told"]) == ("T0TEAM1", "U0ALICE", True)
