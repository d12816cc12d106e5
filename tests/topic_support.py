"""OpenAlex topics for tests: the T10017 fixture, more topics in its shape, and a store link
between demo works and a topic."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from services.store.models import Topic, Work, WorkTopic
from tests.fake_openalex import FakeOpenAlex, fixture

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
