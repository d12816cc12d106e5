"""OpenAlex topics for tests: the T10017 fixture, more topics in its shape, and a store link
between demo works and a topic; a new work in the /works stand-in, and `bzpeer refresh` then
`bzpeer digest --now` run as processes that find it."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_server import LocalSlack
from services.store.models import Topic, Work, WorkTopic
from tests.fake_openalex import FakeOpenAlex, fixture
from tests.openalex_works import WorksStandIn, work_json
from tests.test_cli import _env, bzpeer

T10017 = "T10017"
T10017_NAME = "Interpretability and Influence of Training Data in Machine Learning"


def topic_body(openalex_id: str, name: str, *, description: str | None = None) -> dict[str, Any]:
    """A /topics/T… body in the shape of the T10017 fixture."""
    body = copy.deepcopy(fixture("topic_T10017.json"))
    body.update(id=f"https://openalex.org/{openalex_id}", display_name=name)
    body["ids"] = {"openalex": body["id"]}
    if description is not None:
        body["description"] = description
    return body


def serve_topics(openalex: FakeOpenAlex) -> None:
    """T10017 and two more topics about machine-learning explanations, with autocomplete."""
    openalex.add_topics(
        fixture("topic_T10017.json"),
        topic_body(
            "T12026",
            "Explainable Artificial Intelligence (XAI)",
            description="Methods that make the decisions of machine learning systems understandable.",
        ),
        topic_body(
            "T11689",
            "Adversarial Robustness in Machine Learning",
            description="Attacks on machine learning models and defences against them.",
        ),
    )


def link_works_to_topic(engine: Engine, openalex_id: str, titles: list[str]) -> None:
    """Put stored works (by title prefix) on a stored topic."""
    with Session(engine) as session:
        topic = session.exec(select(Topic).where(col(Topic.openalex_id) == openalex_id)).one()
        for title in titles:
            work = session.exec(select(Work).where(col(Work.title).startswith(title))).one()
            session.add(WorkTopic(work_id=work.id or 0, topic_id=topic.id or 0))
        session.commit()


def serve_new_work(
    openalex: FakeOpenAlex,
    openalex_id: str,
    title: str,
    authors: Sequence[tuple[str, str]],
    *,
    topic: tuple[str, str] | None = None,
) -> WorksStandIn:
    """A /works stand-in on `openalex` serving one work published today."""
    works = WorksStandIn()
    openalex.add_callable("/works", works)
    works.add(work_json(openalex_id, title, authors, published=datetime.now(UTC).date(), topic=topic))
    return works


Ran = subprocess.CompletedProcess[str]


@dataclass(frozen=True)
class BzpeerProcesses:
    """`bzpeer` run as processes against the served OpenAlex stand-in and the local Slack."""

    env: dict[str, str]
    cwd: Path

    def run(self, *args: str) -> Ran:
        """`bzpeer ARGS`."""
        return bzpeer(*args, env=self.env, cwd=self.cwd)

    def refresh_then_digest(self) -> tuple[Ran, Ran]:
        """`bzpeer refresh`, then `bzpeer digest --now`."""
        return self.run("refresh"), self.run("digest", "--now")


@contextmanager
def bzpeer_processes(
    openalex: FakeOpenAlex, local_slack: LocalSlack, database_url: str, cwd: Path
) -> Iterator[BzpeerProcesses]:
    """While `openalex` is served over HTTP: processes that use it, the local Slack and the store."""
    with openalex.serve() as openalex_url:
        env = _env(
            database_url,
            OPENALEX_URL=openalex_url,
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_API_URL=local_slack.url,
        )
        yield BzpeerProcesses(env, cwd)
