"""`GET /metrics` from outside: Prometheus text over HTTP from the WSGI app (and from `bzpeer serve`
with two workers in multiprocess mode), after signed Slack requests and OpenAlex failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from bot.app import InlineExecutor, build_bolt_app
from bot.local.signed_requests import signed_headers
from bot.local.slack_server import LocalSlack
from bot.metrics import Metrics, request_labels
from bot.runtime import Runtime
from bot.web import WebApp
from services.openalex.client import OpenAlexClient
from services.openalex.records import OpenAlexUnavailable
from services.store.engine import session_scope
from services.store.models import Delivery, Member, Work
from tests.conftest import SIGNING_SECRET
from tests.process_support import bot_env, start_serve
from tests.slack_support import SlackDriver
from tests.store_support import add_researcher
from tests.test_web import _call


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict, metric: str, /, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


def _web_app(runtime: Runtime, metrics: Metrics) -> WebApp:
    bolt = build_bolt_app(
        runtime.settings, runtime.services, listener_executor=InlineExecutor(), metrics=metrics
    )
    return WebApp(
        bolt, runtime.services.engine, metrics=metrics, queue_depth=runtime.services.digests.queue_depth
    )


def _signed(driver: SlackDriver, text: str) -> tuple[bytes, dict[str, str]]:
    body = driver.command_body(text)
    headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
    headers["Content-Type"] = headers.pop("content-type")
    return body.encode(), headers


def _queue_two_items(runtime: Runtime) -> None:
    researcher = add_researcher(runtime.services.engine, "Queue Person")
    with session_scope(runtime.services.engine) as session:
        member = Member(team_id="T0TEAM1", user_id="U0ALICE")
        session.add(member)
        session.flush()
        for n in (1, 2, 3):
            work = Work(openalex_id=f"W90000000{n}", title=f"Work {n}", title_norm=f"work {n}")
            session.add(work)
            session.flush()
            assert member.id is not None and work.id is not None
            status = "sent" if n == 3 else "pending"
            session.add(
                Delivery(member_id=member.id, work_id=work.id, researcher_id=researcher, status=status)
            )


def test_metrics_count_commands_by_kind_and_outcome_and_show_the_queue(
    runtime: Runtime, driver: SlackDriver
) -> None:
    metrics = Metrics()
    app = _web_app(runtime, metrics)
    _queue_two_items(runtime)
    for text in ("Samyadeep Basu", "help", "help"):
        body, headers = _signed(driver, text)
        assert _call(app, "POST", "/slack/events", body, headers)[0].startswith("200")
    body, headers = _signed(driver, "help")
    headers["x-slack-signature"] = "v0=" + "0" * 64
    assert _call(app, "POST", "/slack/events", body, headers)[0].startswith("401")

    status, response_headers, text = _call(app, "GET", "/metrics")
    assert status.startswith("200") and response_headers["Content-Type"].startswith(
        "text/plain; version=0.0.4"
    )
    samples = _samples(text)
    requests = "bzpeer_slack_requests_total"
    assert _value(samples, requests, type="command", name="help", outcome="ok") == 2
    assert _value(samples, requests, type="command", name="profile", outcome="ok") == 1
    assert _value(samples, requests, type="command", name="-", outcome="refused") == 1
    assert _value(samples, "bzpeer_slack_request_seconds_count", type="command") == 4
    assert _value(samples, "bzpeer_digest_queue_depth") == 2
    assert "# TYPE bzpeer_slack_request_seconds histogram" in text.decode()


def test_openalex_errors_are_counted_by_kind(runtime: Runtime) -> None:
    metrics = Metrics()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "down"})

    client = OpenAlexClient(
        "https://openalex.test",
        transport=httpx.MockTransport(answer),
        max_retries=1,
        sleep=lambda _: None,
        observe=metrics.observe_openalex,
    )
    with pytest.raises(OpenAlexUnavailable):
        client.get_author("A5017898742")
    client.close()
    app = WebApp(build_bolt_app(runtime.settings, runtime.services), runtime.services.engine, metrics=metrics)
    samples = _samples(_call(app, "GET", "/metrics")[2])
    assert _value(samples, "bzpeer_openalex_errors_total", kind="server_error") == 2
    assert _value(samples, "bzpeer_openalex_request_seconds_count", outcome="error") == 2


@pytest.mark.parametrize(
    ("kind", "status", "labels"),
    [
        ("/peer papers", 200, ("command", "papers", "ok")),
        ("action claim_approve", 200, ("action", "claim_approve", "ok")),
        ("event app_home_opened", 503, ("event", "app_home_opened", "unavailable")),
        ("action made-up-by-a-forger", 401, ("action", "-", "refused")),
        ("something odd", 400, ("other", "other", "bad")),
    ],
)
def test_request_labels_stay_within_the_apps_own_names(
    kind: str, status: int, labels: tuple[str, str, str]
) -> None:
    assert request_labels(kind, status) == labels


@pytest.mark.slow
def test_two_workers_in_multiprocess_mode_report_together(
    database_url: str, tmp_path: Path, local_slack: LocalSlack
) -> None:
    env = bot_env(database_url, local_slack.url, SIGNING_SECRET)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_999999.db").write_bytes(b"stale")  # emptied at start
    server, base = start_serve(env, tmp_path, workers=2)
    try:
        driver = SlackDriver(app=None, local=local_slack, secret=SIGNING_SECRET)  # type: ignore[arg-type]
        for _ in range(6):
            body = driver.command_body("help")
            headers = signed_headers(SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded")
            assert (
                httpx.post(f"{base}/slack/events", content=body, headers=headers, timeout=10).status_code
                == 200
            )
        for _ in range(3):  # whichever worker answers the scrape, it reports both
            samples = _samples(httpx.get(f"{base}/metrics", timeout=10).content)
            assert (
                _value(samples, "bzpeer_slack_requests_total", type="command", name="help", outcome="ok") == 6
            )
            assert _value(samples, "bzpeer_digest_queue_depth") == 0
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_queue_depth_counts_only_pending_rows(runtime: Runtime) -> None:
    _queue_two_items(runtime)
    assert runtime.services.digests.queue_depth() == 2
    with Session(runtime.services.engine) as session:
        assert len(session.exec(select(Delivery)).all()) == 3


_WORKER = """
from bot.metrics import Metrics
Metrics().observe_request("/peer help", 200, 0.01)
"""
_SCRAPE = """
import sys
from bot.metrics import Metrics
sys.stdout.write(Metrics().scrape(None)[0].decode())
"""


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two workers, two pids, each with its own counts
        subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, timeout=60)
    scraped = subprocess.run(
        [sys.executable, "-c", _SCRAPE], env=env, check=True, timeout=60, capture_output=True
    ).stdout
    samples = _samples(scraped)
    assert _value(samples, "bzpeer_slack_requests_total", type="command", name="help", outcome="ok") == 2
    assert _value(samples, "bzpeer_slack_request_seconds_count", type="command") == 2
