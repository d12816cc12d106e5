"""`GET /metrics`: what the web process did, in Prometheus text format (prometheus-client).

- `bzpeer_slack_requests_total{type, name, outcome}`: commands, actions, views and events by kind
  (the subcommand, action id, callback id or event type) and outcome of the ack.
- `bzpeer_slack_request_seconds{type}`: time from the request to Slack's answer (the ack).
- `bzpeer_openalex_requests_seconds{outcome}`: each HTTP request to OpenAlex, retries included.
- `bzpeer_openalex_errors_total{kind}`: failed OpenAlex requests (timeout, unreachable, 5xx, 429…).
- `bzpeer_digest_queue_depth`: pending digest ledger rows, counted by one indexed query per scrape.

Counters live per process. With several gunicorn workers, set PROMETHEUS_MULTIPROC_DIR (an empty
directory of its own per `bzpeer serve`; it is emptied at start) and every scrape sums all the
workers (prometheus-client's multiprocess mode); without it, a scrape reports the one worker
that answered it (README, *Metrics*).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

log = logging.getLogger("bzpeer.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus (and most other scrapers) reads; our names need no more.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Acks aim at tens of milliseconds and must stay under Slack's 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
OPENALEX_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REQUEST_TYPES = frozenset({"command", "action", "view", "event", "options", "shortcut"})
OTHER_KINDS = frozenset(
    {"ssl_check", "url_verification", "malformed body", "unreadable body", "oauth install", "oauth redirect"}
)
MAX_NAME = 64


def multiprocess_dir() -> str | None:
    """The directory of prometheus-client's multiprocess mode, when the operator set one."""
    return os.environ.get(MULTIPROC_ENV) or None


def reset_multiprocess_dir() -> None:
    """Empty the multiprocess directory before the workers start: files of an earlier run would
    add their counts to this one's."""
    directory = multiprocess_dir()
    if directory is None:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink(missing_ok=True)


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges stop counting (counters stay)."""
    if multiprocess_dir() is not None:
        mark_process_dead(pid)


def request_labels(kind: str, status: int) -> tuple[str, str, str]:
    """(type, name, outcome) of a request from its logged kind (bot/logs.py) and HTTP status.

    Names come from signed requests only, so they are the app's own ids and Slack's event types;
    a refused request is counted without one, so forged bodies cannot mint new label values.
    """
    head, _, rest = kind.partition(" ")
    if head.startswith("/"):
        kind_type, name = "command", rest or "profile"
    elif head in REQUEST_TYPES:
        kind_type, name = head, rest
    else:
        kind_type, name = "other", kind if kind in OTHER_KINDS else "other"
    if status in (401, 403):
        return kind_type, "-", "refused"
    outcome = (
        "ok" if status < 400 else "unavailable" if status == 503 else "error" if status >= 500 else "bad"
    )
    return kind_type, (name or "-")[:MAX_NAME], outcome


class DigestQueueCollector(Collector):
    """The digest queue's depth, counted at scrape time (nothing to keep in step)."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self._depth = depth

    def collect(self) -> Iterable[Metric]:
        try:
            value = self._depth()
        except Exception as error:  # a store that is down leaves the gauge out, not the scrape
            log.warning("digest queue depth unavailable: %s", type(error).__name__)
            return []
        gauge = GaugeMetricFamily("bzpeer_digest_queue_depth", "Pending digest ledger rows (not yet sent).")
        gauge.add_metric([], value)
        return [gauge]


class Metrics:
    """One process's metrics; the scrape adds the digest queue and, in multiprocess mode, every
    worker's counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.slack_requests = Counter(
            "bzpeer_slack_requests",
            "Slack requests (commands, actions, views, events) by kind and outcome of the ack.",
            ["type", "name", "outcome"],
            registry=self.registry,
        )
        self.slack_latency = Histogram(
            "bzpeer_slack_request_seconds",
            "Time from a Slack request to its answer (the ack), by request type.",
            ["type"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.openalex_latency = Histogram(
            "bzpeer_openalex_request_seconds",
            "Each HTTP request to OpenAlex (retries included), by outcome.",
            ["outcome"],
            buckets=OPENALEX_BUCKETS,
            registry=self.registry,
        )
        self.openalex_errors = Counter(
            "bzpeer_openalex_errors",
            "Failed OpenAlex requests (retries included) by kind.",
            ["kind"],
            registry=self.registry,
        )

    def observe_request(self, kind: str, status: int, seconds: float) -> None:
        """One Slack request answered (bot/logs.py LoggingApp, or the OAuth pages)."""
        kind_type, name, outcome = request_labels(kind, status)
        self.slack_requests.labels(kind_type, name, outcome).inc()
        self.slack_latency.labels(kind_type).observe(seconds)

    def observe_openalex(self, seconds: float, problem: str | None) -> None:
        """One HTTP request to OpenAlex: `problem` is None when it answered usefully."""
        self.openalex_latency.labels("ok" if problem is None else "error").observe(seconds)
        if problem is not None:
            self.openalex_errors.labels(problem).inc()

    def scrape(self, queue_depth: Callable[[], int] | None) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        registry = CollectorRegistry()
        if multiprocess_dir() is not None:
            MultiProcessCollector(registry)
        else:
            registry.register(_Forward(self.registry))
        if queue_depth is not None:
            registry.register(DigestQueueCollector(queue_depth))
        return generate_latest(registry), CONTENT_TYPE


class _Forward(Collector):
    """This process's own metrics, inside a scrape's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
