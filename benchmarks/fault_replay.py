"""The fault replay's world: one scratch store, the local Slack, the OpenAlex stand-in, a real
`bzpeer serve` and `bzpeer …` subprocesses, and the state each finding starts from, seeded
through the product's own requests (claims, approvals, the profile modal) where it can be.

Seeded in the store instead, with the tests' helpers (tests/store_support.py,
tests/digest_support.py): members following many researchers (150 for two refresh batches, 30
for an overfull digest), which would otherwise take hundreds of imports and follow commands.
New works then arrive the product's way: the OpenAlex stand-in serves them and `bzpeer refresh`
queues them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from benchmarks.fault_support import (
    Answer,
    LogTail,
    SlackRequests,
    as_message,
    post,
    replies,
    wait_for,
)
from benchmarks.load_support import SECRET, Server, ServerConfig, running_server, server_env
from bot.local.signed_requests import Actor, SignedRequest
from bot.local.slack_objects import SlackUser
from bot.local.slack_server import LocalSlack, RecordedCall
from services.store.engine import make_engine
from services.store.models import utcnow
from tests.digest_support import add_member, follow
from tests.fake_openalex import FakeOpenAlex, OpenAlexServer
from tests.openalex_works import WorksStandIn, author_json, work_json
from tests.outage_support import TcpProxy
from tests.store_support import add_researcher

ROOT = Path(__file__).resolve().parent.parent
_RAISED = re.compile(r"^[\w.]+(?:Error|Exception): ")
TEAM, OTHER_TEAM, PARK_TEAM = "T0TEAM1", "T0TEAM2", "T0PARK"
SEED = "Samyadeep Basu"  # from the demo store; claimed and opened to invitations below

SAM = Actor(TEAM, "U0SAM", "C0GENERAL")
ADMIN = Actor(TEAM, "U0ADMIN", "C0GENERAL")
OTHER_ADMIN = Actor(OTHER_TEAM, "U0ADMIN2", "C0OTHER")
CLAIMER = Actor(TEAM, "U0POPE", "C0GENERAL")
PEOPLE = (
    SlackUser("U0SAM", TEAM, "sam", "Samyadeep Basu", email="sbasu@gmail.com"),
    SlackUser("U0ADMIN", TEAM, "admin", "Ada Admin", email="ada@lab.example.org", is_admin=True),
    SlackUser("U0ADMIN2", OTHER_TEAM, "admin2", "Otto Otheradmin", is_admin=True),
    SlackUser("U0POPE", TEAM, "pope", "Phillip Pope", email="ppope@gmail.com"),
)


def member(user_id: str, team_id: str = TEAM, channel: str = "C0GENERAL") -> Actor:
    """Someone in a workspace, known to the local Slack's users.info."""
    return Actor(team_id, user_id, channel)


@dataclass(frozen=True)
class Ran:
    """A finished `bzpeer …` subprocess."""

    returncode: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback" in self.stderr

    def last_error(self) -> str:
        """The exception a traceback ended with (else stderr's last line), shortened."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        raised = [line for line in lines if _RAISED.match(line)]
        return (raised or lines or [""])[-1][:110]


@dataclass
class Replay:
    """Everything one database's replay runs against."""

    backend: str  # "sqlite" | "postgresql"
    database_url: str  # direct: the CLI subprocesses and the harness's own checks
    served_url: str  # what `bzpeer serve` gets (through the proxy on PostgreSQL)
    slack: LocalSlack
    openalex: OpenAlexServer  # answers from `routes`: /works from `works`, /authors/{id} as added
    routes: FakeOpenAlex
    works: WorksStandIn
    proxy: TcpProxy | None
    workdir: Path
    stack: ExitStack
    engine: Engine = field(init=False)
    requests: SlackRequests = field(init=False)
    _server: Server | None = None
    _done: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.database_url)
        self.stack.callback(self.engine.dispose)
        self.requests = SlackRequests(self.slack, SECRET)
        for person in PEOPLE:
            self.slack.add_user(person)
        # The demo store (and with it the schema) before anything else.
        loaded = self.cli("demo")
        if loaded.returncode:
            raise RuntimeError(f"bzpeer demo failed: {loaded.stderr[-500:]}")

    # processes -------------------------------------------------------------------------------

    def env(self, database_url: str | None = None) -> dict[str, str]:
        return server_env(database_url or self.database_url, self.slack, self.openalex.url)

    def cli(self, *args: str, timeout: float = 180) -> Ran:
        """Run `bzpeer ARGS` (as `python -m bot`) to the end."""
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=self.env(),
            cwd=self.workdir,  # no stray .env
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Ran(done.returncode, time.perf_counter() - started, done.stdout, done.stderr)

    def server(self) -> Server:
        """The shared `bzpeer serve` (2 workers × 8 threads, the defaults), started on first use."""
        if self._server is None:
            self._server = self.stack.enter_context(self.start_server())
        return self._server

    def start_server(self) -> Any:
        """A fresh `bzpeer serve` as a context manager (SIGTERM at exit)."""
        return running_server(ServerConfig("gunicorn", workers=2, threads=8), self.env(self.served_url))

    def log(self) -> LogTail:
        return LogTail(self.server().log).mark()

    def send(self, request: SignedRequest, *, timeout: float = 40, server: Server | None = None) -> Answer:
        """POST a signed request to the server; the answer is the acknowledgement, and a message
        in it (a command answered inside its ack) reaches the local Slack as Slack would show it."""
        answer = post((server or self.server()).base, request, timeout=timeout)
        if request.response_url and answer.status == 200:
            self.slack.show_ack(request.response_url, answer.body)
        return answer

    # reading back --------------------------------------------------------------------------------

    def reply(self, request: SignedRequest, timeout: float = 15, after: int = 0) -> RecordedCall | None:
        """The (after+1)-th post to the request's response_url, waiting up to `timeout` s."""
        found = wait_for(lambda: len(replies(self.slack, request.response_url)) > after, timeout)
        return replies(self.slack, request.response_url)[after] if found else None

    def command(
        self, actor: Actor, text_: str, timeout: float = 15, server: Server | None = None
    ) -> dict[str, Any]:
        """`/peer TEXT` and the reply it got (as a message dict; {} when none came)."""
        request = self.requests.slash(actor, text_)
        self.send(request, server=server)
        call = self.reply(request, timeout)
        return as_message(call) if call else {}

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def posts_with(self, action_id: str, *, after: int = 0) -> list[RecordedCall]:
        """Successful chat.postMessage calls (from index `after`) with a button `action_id`."""
        calls = self.slack.calls_to("chat.postMessage")[after:]
        return [c for c in calls if c.error is None and action_id in str(c.params.get("blocks"))]

    # seeding -----------------------------------------------------------------------------------

    def seed_once(self, name: str, seed: Callable[[], Any]) -> Any:
        """Run a seeding step once per replay; later callers get its result."""
        if name not in self._done:
            self._done[name] = seed()
        return self._done[name]

    def claimed_open(self) -> dict[str, Any]:
        """Samyadeep Basu claimed by U0SAM (an admin approves) and open to collaborate; returns
        the profile edit modal as the app opened it (to submit again with other headlines)."""
        return self.seed_once("claimed_open", self._claim_and_open)

    def _claim_and_open(self) -> dict[str, Any]:
        before = len(self.slack.calls_to("chat.postMessage"))
        self.command(SAM, f"claim {SEED}")
        review = wait_for(lambda: self.posts_with("claim_approve", after=before), 10)
        if not review:
            raise RuntimeError("set-up: no claim review reached the admin")
        call = review[-1]
        self.send(self.requests.press(ADMIN, as_message(call), "Approve", ephemeral=False))
        card = self.command(SAM, SEED)
        opened = len(self.slack.calls_to("views.open"))
        self.send(self.requests.press(SAM, card, "Edit profile"))
        view = self.opened_view(after=opened)
        answer = self.send(self.requests.submit(SAM, view, profile_values("Interpretability")))
        if answer.json().get("response_action") != "update":
            raise RuntimeError(f"set-up: the profile was not saved ({answer}, {answer.body[:200]})")
        return view

    def opened_view(self, *, after: int, timeout: float = 10) -> dict[str, Any]:
        """The modal of the next views.open call (with the id Slack gave it)."""
        if not wait_for(lambda: len(self.slack.calls_to("views.open")) > after, timeout):
            raise RuntimeError("the app opened no modal")
        call = self.slack.calls_to("views.open")[after]
        view = call.params["view"]
        return {**view, "id": (call.response.get("view") or {}).get("id", "V0")}

    def invite_modal(self, inviter: Actor) -> dict[str, Any]:
        """`/peer invite Samyadeep Basu` as `inviter`: the invitation modal it opened."""
        self.claimed_open()
        opened = len(self.slack.calls_to("views.open"))
        self.command(inviter, f"invite {SEED}", timeout=3)
        return self.opened_view(after=opened)

    def followers(self, prefix: str, authors: int, *, frequency: str, team_id: str = TEAM) -> list[str]:
        """One member (`U0F{prefix}`) following `authors` new researchers A{prefix}000000001…
        since a month ago; returns their OpenAlex ids."""
        ids = [f"A{prefix}{n:09d}" for n in range(1, authors + 1)]
        since = utcnow() - timedelta(days=30)
        follower = add_member(self.engine, f"U0F{prefix}", team_id=team_id, frequency=frequency)
        for n, openalex_id in enumerate(ids, 1):
            researcher = add_researcher(
                self.engine, f"Fault Researcher {prefix}-{n}", openalex_id=openalex_id
            )
            follow(self.engine, follower, researcher, at=since)
        self.slack.add_user(SlackUser(f"U0F{prefix}", team_id, f"f{prefix}", f"Follower {prefix}"))
        return ids

    def serve_works(self, works: list[dict[str, Any]]) -> None:
        """The stand-in serves exactly these works from now on."""
        self.works.clear()
        for work in works:
            self.works.add(work)

    def add_author(self, openalex_id: str, name: str, works: int) -> None:
        self.routes.add(f"/authors/{openalex_id}", author_json(openalex_id, name, works_count=works))


def profile_values(headline: str) -> dict[str, Any]:
    """The profile edit modal's state: this headline, "Open to collaborate" ticked."""
    option = {"text": {"type": "plain_text", "text": "Open to collaborate"}, "value": "open"}
    return {
        "profile_headline": {"profile_headline": {"type": "plain_text_input", "value": headline}},
        "profile_open": {"profile_open": {"type": "checkboxes", "selected_options": [option]}},
    }


def invite_values(message: str) -> dict[str, Any]:
    """The invitation modal's state: this message."""
    return {"invite_message": {"invite_message": {"type": "plain_text_input", "value": message}}}


def new_work(openalex_id: str, author: str, title: str, **location: Any) -> dict[str, Any]:
    """A work published today by `author` (OpenAlex JSON), with `location` overriding the
    primary location's fields (e.g. landing_page_url)."""
    work = work_json(
        openalex_id,
        title,
        [(author, "R")],
        published=date.today(),
        venue="Journal of Faults",
        topic=("T10017", "Faults"),
    )
    if location:
        work["primary_location"] = {**work["primary_location"], **location}
        if "landing_page_url" in location:
            work["doi"] = None
    return work


def scratch_workdir() -> Path:
    """An empty directory for the subprocesses (no .env from the checkout)."""
    return Path(tempfile.mkdtemp(prefix="bzpeer-faults-"))
