"""Topic news end to end: `/peer follow topic T10017` through a signed request, a new work on the
topic appears in the OpenAlex stand-in, `bzpeer refresh` then `bzpeer digest --now` → the member's
digest names it under the topic; a digest's topic shows its five best cited works and "and M
more", and none of them comes back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.local.slack_server import LocalSlack
from bot.runtime import Runtime
from bot.slack_sender import SlackDigestSender
from handlers.blocks import within_limits
from handlers.ids import Action
from services.digests.delivery import DigestService
from services.digests.refresh import RefreshService
from services.openalex.client import OpenAlexClient
from services.store.engine import alembic_config
from services.store.models import Delivery, Topic, TopicFollow, Work, WorkTopic
from services.workspaces.members import Viewer
from tests.digest_support import add_member
from tests.fake_openalex import FakeOpenAlex
from tests.openalex_works import WorksStandIn, work_json
from tests.slack_support import SlackDriver, all_text, button, press
from tests.store_support import add_researcher
from tests.topic_support import T10017, T10017_NAME, bzpeer_processes, serve_new_work, serve_topics

NEW_TITLE = "Tracing diffusion model outputs back to their training images"
TOPIC = (T10017, T10017_NAME)


def _posts(local: LocalSlack) -> list[dict]:
    messages = []
    for call in local.calls_to("chat.postMessage"):
        blocks = call.params["blocks"]
        messages.append(
            {"text": call.params["text"], "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks}
        )
    return messages


def _rows(engine: Engine) -> list[tuple[int | None, int | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
    return [(r.researcher_id, r.topic_id, r.status) for r in rows]


@pytest.mark.slow
def test_follow_topic_new_work_refresh_then_digest_now_names_it_under_the_topic(
    driver: SlackDriver, openalex: FakeOpenAlex, local_slack: LocalSlack, database_url: str, tmp_path: Path
) -> None:
    serve_topics(openalex)
    driver.command(f"follow topic {T10017}")
    assert "You now follow the topic" in all_text(driver.last_reply())
    works = serve_new_work(openalex, "W4999999001", NEW_TITLE, [("A5999999001", "Ada Byron")], topic=TOPIC)
    with bzpeer_processes(openalex, local_slack, database_url, tmp_path) as bot:
        refreshed, sent = bot.refresh_then_digest()
        assert refreshed.returncode == 0 and sent.returncode == 0, refreshed.stderr + sent.stderr
        assert "0 followed researchers and 1 followed topic in 1 batch" in refreshed.stdout
        assert "1 digest item queued" in refreshed.stdout
        assert "Digest: 1 message sent (1 item)" in sent.stdout
        again_refresh, again_digest = bot.refresh_then_digest()
    [dm] = _posts(local_slack)
    assert NEW_TITLE in dm["text"]
    [topic_section] = [
        b["text"]["text"] for b in dm["blocks"] if T10017_NAME in b.get("text", {}).get("text", "")
    ]
    assert topic_section.startswith(f":label: *{T10017_NAME}* (topic) · 1 new work\n")
    assert NEW_TITLE in topic_section
    assert "1 new work* from 1 topic you follow" in all_text(dm)
    assert button(dm, Action.TOPIC_UNFOLLOW)["accessibility_label"].startswith(
        "Unfollow topic Interpretability"
    )
    assert (
        "0 digest items queued" in again_refresh.stdout and "Digest: 0 messages sent" in again_digest.stdout
    )
    assert len(_posts(local_slack)) == 1
    # The stand-in was asked by topic, 100 a page, for only the fields the store keeps.
    assert works.asked[0] == [T10017] and set(works.per_page_seen) == {100}


def _topic_works(count: int, *, start: int, published: datetime) -> list[dict]:
    return [
        work_json(
            f"W48{start + n:08d}",
            f"Topic work {start + n}: influence of training data, part {n}",
            [(f"A58{start + n:08d}", f"Author {start + n}")],
            published=published.date(),
            topic=TOPIC,
            cited_by_count=n * 10,
        )
        for n in range(count)
    ]


def test_a_topic_shows_its_five_best_cited_and_the_rest_never_comes_back(
    driver: SlackDriver, runtime: Runtime, openalex: FakeOpenAlex, local_slack: LocalSlack
) -> None:
    serve_topics(openalex)
    works = WorksStandIn(_topic_works(12, start=0, published=datetime.now(UTC)))
    openalex.add_callable("/works", works)
    driver.command(f"follow topic {T10017}")
    services = runtime.services
    now = datetime.now(UTC) + timedelta(minutes=1)
    assert services.refresh.refresh(now=now).items_queued == 12
    digests = DigestService(services.engine, SlackDigestSender(runtime.settings), pause=lambda _: None)
    assert digests.deliver_due(now=now, force=True).items_sent == 12
    [dm] = _posts(local_slack)
    text = all_text(dm)
    shown = [line for line in text.splitlines() if line.startswith("• *")]
    assert [line.split("Topic work ")[1].split(":")[0] for line in shown] == ["11", "10", "9", "8", "7"]
    since = datetime.now(UTC).date().isoformat()
    assert (
        "…and 7 more new works: <https://openalex.org/works?filter=topics.id:T10017,"
        f"from_publication_date:{since}|see them on OpenAlex>" in text
    )
    assert "*12 new works* from 1 topic you follow" in text
    assert {status for _, _, status in _rows(services.engine)} == {"sent"}
    # One more work: the next digest holds it alone.
    works.add(_topic_works(1, start=50, published=datetime.now(UTC))[0])
    later = now + timedelta(hours=1)
    assert services.refresh.refresh(now=later).items_queued == 1
    assert digests.deliver_due(now=later, force=True).items_sent == 1
    second = _posts(local_slack)[1]
    assert "Topic work 50" in all_text(second) and "Topic work 11" not in all_text(second)
    assert "more new work" not in all_text(second)


def test_unfollowed_or_muted_topic_items_are_skipped(
    driver: SlackDriver, runtime: Runtime, openalex: FakeOpenAlex, local_slack: LocalSlack
) -> None:
    serve_topics(openalex)
    works = WorksStandIn(_topic_works(2, start=0, published=datetime.now(UTC)))
    openalex.add_callable("/works", works)
    driver.command(f"follow topic {T10017}")
    services = runtime.services
    now = datetime.now(UTC) + timedelta(minutes=1)
    services.refresh.refresh(now=now)
    member_id = services.follows.member_id(Viewer(team_id=driver.team_id, user_id=driver.user_id))
    assert services.digests.preview(member_id, now=now).item_count == 2
    press(driver, button(driver.last_reply(), Action.TOPIC_MUTE))
    assert services.digests.preview(member_id, now=now).item_count == 0
    digests = DigestService(services.engine, SlackDigestSender(runtime.settings), pause=lambda _: None)
    assert digests.deliver_due(now=now, force=True).messages_sent == 0
    assert [status for _, _, status in _rows(services.engine)] == ["skipped", "skipped"]
    assert _posts(local_slack) == []


def test_a_work_by_a_followed_researcher_on_a_followed_topic_is_one_row_under_the_researcher(
    driver: SlackDriver, runtime: Runtime, openalex: FakeOpenAlex
) -> None:
    serve_topics(openalex)
    author = ("A5017898742", "Joseph Mearman")
    work = work_json(
        "W4899999999", "Both followed", [author], published=datetime.now(UTC).date(), topic=TOPIC
    )
    openalex.add_callable("/works", WorksStandIn([work]))
    services = runtime.services
    researcher_id = add_researcher(services.engine, author[1], openalex_id=author[0])
    services.follows.follow(Viewer(team_id=driver.team_id, user_id=driver.user_id), researcher_id)
    driver.command(f"follow topic {T10017}")
    now = datetime.now(UTC) + timedelta(minutes=1)
    report = services.refresh.refresh(now=now)  # the work comes from both batches
    assert report.batches == 2 and report.items_queued == 1
    assert _rows(services.engine) == [(researcher_id, None, "pending")]


def test_refresh_asks_once_per_hundred_topics_and_skips_only_a_failing_batch(engine: Engine) -> None:
    member = add_member(engine, "U0MANY")
    with Session(engine) as session:
        for n in range(250):
            topic = Topic(openalex_id=f"T{20000 + n}", name=f"Topic {n}")
            session.add(topic)
            session.flush()
            session.add(TopicFollow(member_id=member, topic_id=topic.id or 0))
        session.commit()
    works = WorksStandIn()
    client = OpenAlexClient("https://openalex.test", transport=works.transport(), sleep=lambda _: None)
    service = RefreshService(engine, client)
    report = service.refresh(now=datetime.now(UTC))
    assert works.counts.list_requests == 3 and report.batches == 3 and report.topics == 250
    assert sorted(len(ids) for ids in works.asked) == [50, 100, 100]
    works.fail_when(lambda ids: "T20100" in ids, 503)
    report = service.refresh(now=datetime.now(UTC))
    assert (report.batches_done, report.batches_skipped) == (2, 1)
    works.faults.clear()
    works.fail_when(lambda ids: "T20100" in ids, 429)
    report = service.refresh(now=datetime.now(UTC))
    assert report.rate_limited and report.batches_done == 1
    works.faults.clear()
    works.asked.clear()
    service.refresh(now=datetime.now(UTC))
    assert works.asked[0][0] == "T20100"  # the next cycle starts where the budget ran out


def test_ten_topics_of_two_hundred_works_stay_inside_slacks_limits(
    runtime: Runtime, local_slack: LocalSlack
) -> None:
    engine = runtime.services.engine
    member = add_member(engine, "U0BIG")
    today = datetime.now(UTC).date()
    with Session(engine) as session:
        for t in range(10):
            topic = Topic(openalex_id=f"T3{t:04d}", name=f"A long topic name number {t} " + "x" * 180)
            session.add(topic)
            session.flush()
            session.add(TopicFollow(member_id=member, topic_id=topic.id or 0))
            for n in range(200):
                title = f"Work {t}-{n} " + "with a very long title about <data> & attribution " * 6
                work = Work(
                    title=title,
                    title_norm=f"work {t} {n}",
                    venue="Proceedings of a Very Long Venue Name " * 4,
                    publication_date=today,
                    landing_url=f"https://example.org/{t}/{n}/" + "p" * 420,
                    cited_by_count=n,
                )
                session.add(work)
                session.flush()
                session.add(WorkTopic(work_id=work.id or 0, topic_id=topic.id or 0))
                session.add(Delivery(member_id=member, work_id=work.id or 0, topic_id=topic.id))
        session.commit()
    digests = DigestService(engine, SlackDigestSender(runtime.settings), pause=lambda _: None)
    now = datetime.now(UTC)
    first = digests.deliver_due(now=now, force=True)
    posts = _posts(local_slack)
    assert first.messages_sent == len(posts) == 3
    for post in posts:
        assert within_limits(post["blocks"]) and len(post["text"]) <= 3000
    shown = sum(all_text(post).count("(topic) · 200 new works") for post in posts)
    assert shown >= 3  # at least a topic a message
    statuses = [status for _, _, status in _rows(engine)]
    # Every topic a message showed went out whole (its best works shown, the rest summarised).
    assert statuses.count("sent") == shown * 200 and statuses.count("pending") == (10 - shown) * 200
    assert "with your next digest" in all_text(posts[-1])
    second = digests.deliver_due(now=now + timedelta(days=1), force=True)
    assert second.items_sent == (10 - shown) * 200
    assert {status for _, _, status in _rows(engine)} == {"sent"}


def test_uninstall_parks_topic_follows_and_forgetting_a_member_deletes_them(runtime: Runtime) -> None:
    services = runtime.services
    engine = services.engine
    member = add_member(engine, "U0TOPIC")
    with Session(engine) as session:
        topic_row = session.exec(select(Topic).where(col(Topic.openalex_id) == T10017)).one()
    services.topic_follows.follow(member, topic_row.id or 0)
    assert services.refresh.followed_topic_ids() == [T10017]
    parked = services.workspaces.park("T0TEAM1")
    assert parked is not None and parked.follows == 1
    assert services.refresh.followed_topic_ids() == []
    assert services.topic_follows.followed(member) == []
    services.workspaces.restore("T0TEAM1")
    assert [t.openalex_id for t in services.topic_follows.followed(member)] == [T10017]
    report = services.privacy.forget_member("T0TEAM1", "U0TOPIC")
    assert report.follows == 1 and services.refresh.followed_topic_ids() == []


def test_migration_0011_downgrade_drops_topic_rows_and_upgrade_restores(engine: Engine) -> None:
    member = add_member(engine, "U0MIGRATE")
    with Session(engine) as session:
        topic = Topic(openalex_id=T10017, name=T10017_NAME)
        work = Work(title="On a topic", title_norm="on a topic")
        session.add_all([topic, work])
        session.flush()
        session.add(Delivery(member_id=member, work_id=work.id or 0, topic_id=topic.id))
        # Works point at the topic: the downgrade must not copy the topic table (SQLite).
        session.add(WorkTopic(work_id=work.id or 0, topic_id=topic.id or 0))
        session.commit()
    config = alembic_config(engine)
    command.downgrade(config, "0009")
    tables = inspect(engine)
    assert "topic_follow" not in tables.get_table_names()
    assert not next(c for c in tables.get_columns("delivery") if c["name"] == "researcher_id")["nullable"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM delivery").scalar() == 0
    command.upgrade(config, "head")
    assert "topic_follow" in inspect(engine).get_table_names()
