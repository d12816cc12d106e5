"""Plumbing for `benchmarks.bench_load`: a timed local Slack, a slow OpenAlex stand-in, signed
requests, the two web servers under test as subprocesses, and CPU accounting from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx

from bot.local.signed_requests import (
    Actor,
    SignedRequest,
    SourceMessage,
    block_actions,
    interactive_body,
    sign,
    slash_command_body,
)
from bot.local.slack_server import LocalSlack
from bot.local.slack_wire import Reply
from tests.fake_openalex import FakeOpenAlex, OpenAlexServer
from tests.process_support import bot_env, free_port, stop

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-load-signing-secret"

# ---------------------------------------------------------------------------------------------
# The local Slack, with a clock on every response_url post


@dataclass
class ReplyWaiter:
    """Waits for `count` posts to one response_url; `times` are their perf_counter arrivals."""

    count: int
    times: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float) -> float | None:
        """The arrival of the `count`-th post, or None if it did not come in time."""
        return self.times[self.count - 1] if self.done.wait(timeout) else None


class TimedSlack(LocalSlack):
    """LocalSlack that also notes when each response_url post arrives, for waiting clients."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._waiters: dict[str, ReplyWaiter] = {}
        self._waiters_lock = threading.Lock()

    def __enter__(self) -> TimedSlack:
        self.start()
        return self

    def expect(self, response_url: str, count: int = 1) -> ReplyWaiter:
        """Register interest in the posts to `response_url` (before the request is sent)."""
        waiter = ReplyWaiter(count)
        with self._waiters_lock:
            self._waiters[response_url.rsplit("/", 1)[-1]] = waiter
        return waiter

    def forget(self) -> None:
        """Drop waiters and recorded calls (between phases, to keep memory flat)."""
        with self._waiters_lock:
            self._waiters.clear()
        self.clear()

    def _answer(self, target: str, headers: Message, raw: bytes) -> Reply:
        at = time.perf_counter()
        reply = super()._answer(target, headers, raw)
        if target.startswith("/response/"):
            with self._waiters_lock:
                waiter = self._waiters.get(target.split("?")[0].rsplit("/", 1)[-1])
            if waiter is not None:
                try:
                    text = str(json.loads(raw or b"{}").get("text", ""))
                except (ValueError, AttributeError):
                    text = "<unreadable>"
                waiter.times.append(at)
                waiter.texts.append(text)
                if len(waiter.times) >= waiter.count:
                    waiter.done.set()
        return reply


# ---------------------------------------------------------------------------------------------
# Signed request bodies (bot/local/signed_requests.py builds and signs them)

# Who sends the load: one workspace, one channel, one person unless a press names another.
ACTOR = Actor(team_id="T0TEAM1", user_id="U0BENCH", channel_id="C0GENERAL")


def slash_post(slack: LocalSlack, text: str) -> SignedRequest:
    """`/peer TEXT` with a fresh trigger_id and response_url."""
    response_url = slack.response_url()
    return sign(SECRET, slash_command_body(ACTOR, "/peer", text, response_url), response_url=response_url)


def button_post(slack: LocalSlack, action_id: str, value: str, *, user_id: str = "U0BENCH") -> SignedRequest:
    """A press of one button on an ephemeral message."""
    response_url = slack.response_url()
    actor = Actor(ACTOR.team_id, user_id, ACTOR.channel_id)
    button = {"type": "button", "action_id": action_id, "value": value}
    message = SourceMessage(ACTOR.channel_id, "1.2", "", [], ephemeral=True)
    payload = block_actions(actor, button, message=message, response_url=response_url)
    return sign(SECRET, interactive_body(payload), response_url=response_url)


# ---------------------------------------------------------------------------------------------
# A slow OpenAlex


def slow_openalex(delay: float = 1.0) -> OpenAlexServer:
    """An OpenAlex on 127.0.0.1 that takes `delay` s over every request and finds nobody; it
    counts the requests and the most it was serving at once."""
    routes = FakeOpenAlex()
    routes.add("/autocomplete/authors", {"meta": {"count": 0}, "results": []})
    server = OpenAlexServer(routes.handle)
    server.delay("", delay)
    return server


# ---------------------------------------------------------------------------------------------
# The servers under test


def server_env(database_url: str, slack: LocalSlack, openalex_url: str) -> dict[str, str]:
    """The process environment of a server under test: our store, our Slack, our OpenAlex."""
    env = bot_env(database_url, slack.url, SECRET, OPENALEX_URL=openalex_url, PYTHONPATH=str(ROOT))
    env.pop("WEB_CONCURRENCY", None)
    return env


@dataclass
class Server:
    """A running web server under test (gunicorn master or Bolt's dev server)."""

    label: str
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def pids(self) -> list[int]:
        """The processes that serve requests: gunicorn's workers, else the process itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            workers = [int(pid) for pid in children.read_text().split()]
        except OSError:
            workers = []
        return workers or [self.process.pid]


@dataclass(frozen=True)
class ServerConfig:
    """A server under test: `bzpeer serve` (gunicorn) or Bolt's dev server ("dev"), optionally
    with `listener_threads` (BZPEER_LISTENER_THREADS) and `pool_size` (DATABASE_POOL_SIZE)."""

    kind: str  # "gunicorn" | "dev"
    workers: int = 1
    threads: int = 1
    listener_threads: int = 0  # BZPEER_LISTENER_THREADS; 0 leaves the default (32)
    pool_size: int = 0  # DATABASE_POOL_SIZE; 0 leaves the default (16)

    @classmethod
    def parse(cls, value: str) -> ServerConfig:
        """Read "2x8", "2x8:32" (32 listener threads per worker), "2x8:32@24" (and a pool of 24
        connections per process), "dev" or "dev:32"."""
        rest, _, pool = value.strip().lower().partition("@")
        shape, _, listeners = rest.partition(":")
        widen, size = int(listeners or 0), int(pool or 0)
        if shape == "dev":
            return cls("dev", listener_threads=widen, pool_size=size)
        workers, _, threads = shape.partition("x")
        return cls("gunicorn", int(workers), int(threads), widen, size)

    @property
    def label(self) -> str:
        """How the tables name it."""
        base = "Bolt dev server" if self.kind == "dev" else f"bzpeer serve {self.workers}×{self.threads}"
        if self.listener_threads:
            base += f", {self.listener_threads} listener threads"
        return base + (f", pool {self.pool_size}" if self.pool_size else "")

    def command(self, port: int) -> list[str]:
        """The server's command line."""
        if self.kind == "dev":
            return ["-m", "benchmarks.bolt_devserver", "--port", str(port)]
        shape = ["--port", str(port), "--workers", str(self.workers), "--threads", str(self.threads)]
        return ["-m", "bot", "serve", *shape]

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """`env` with this configuration's settings."""
        if self.listener_threads:
            env = {**env, "BZPEER_LISTENER_THREADS": str(self.listener_threads)}
        return {**env, "DATABASE_POOL_SIZE": str(self.pool_size)} if self.pool_size else env


@contextmanager
def running_server(config: ServerConfig, env: dict[str, str], *, timeout: float = 90) -> Iterator[Server]:
    """Start the server and wait until it answers; SIGTERM it (SIGKILL after 30 s) at the end."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix=f"bzpeer-benchload-{config.kind}-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *config.command(port)],
            env=config.environment(env),
            cwd=tempfile.gettempdir(),  # no stray .env
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(config.label, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_up(server, config, timeout)
        yield server
    finally:
        stop(process, timeout=30)


def _wait_until_up(server: Server, config: ServerConfig, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            # The dev server has no /healthz; any HTTP answer (its 404) means it is listening.
            response = httpx.get(f"{server.base}/healthz", timeout=2)
            if config.kind == "dev" or (response.status_code == 200 and len(server.pids()) >= config.workers):
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise SystemExit(f"{server.label} did not come up; see {server.log}")
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def machine_busy() -> float:
    """CPU seconds every core has spent not idle since boot (iowait counts as idle)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / _TICK


def listen_overflows() -> int:
    """Connections the kernel dropped because a listen backlog was full (whole machine)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for head, values in zip(lines[::2], lines[1::2], strict=False):
        if head.startswith("TcpExt:"):
            return int(dict(zip(head.split(), values.split(), strict=True)).get("ListenOverflows", 0))
    return 0


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def backend_pids(database: str) -> dict[int, float]:
    """PostgreSQL backends serving `database` (from their process titles), with their CPU seconds."""
    title = f" {database} ".encode()
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"postgres: ") and title in cmdline:
            found[int(entry.name)] = process_cpu(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU seconds over a window: the server's processes, the PostgreSQL backends of `database`
    (sampled every 0.2 s, so short-lived pooled connections are counted too), this process, and
    the whole machine; plus the load average, sampled once a second."""

    server_pids: list[int]
    database: str
    loads: list[float] = field(default_factory=list)
    _start: dict[str, Any] = field(default_factory=dict)
    _pg_base: dict[int, float] = field(default_factory=dict)
    _pg_last: dict[int, float] = field(default_factory=dict)
    _pg_new: set[int] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> CpuMeter:
        self._pg_base = backend_pids(self.database)
        self._pg_last = dict(self._pg_base)
        self._start = {
            "server": {pid: process_cpu(pid) for pid in self.server_pids},
            "own": time.process_time(),
            "machine": machine_busy(),
            "overflows": listen_overflows(),
            "wall": time.perf_counter(),
        }
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample_backends(self) -> None:
        for pid, cpu in backend_pids(self.database).items():
            if pid not in self._pg_base:  # connected during the window
                self._pg_base[pid] = 0.0
                self._pg_new.add(pid)
            self._pg_last[pid] = max(cpu, self._pg_last.get(pid, 0.0))

    def _sample(self) -> None:
        ticks = 0
        while not self._stop.wait(0.2):
            self._sample_backends()
            ticks += 1
            if ticks % 5 == 0:
                self.loads.append(load_average())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample_backends()
        wall = time.perf_counter() - self._start["wall"]
        server = sum(process_cpu(pid) - self._start["server"].get(pid, 0.0) for pid in self.server_pids)
        pg = sum(last - self._pg_base.get(pid, 0.0) for pid, last in self._pg_last.items())
        opened = len(self._pg_new)
        own = time.process_time() - self._start["own"]
        machine = machine_busy() - self._start["machine"]
        overflows = listen_overflows() - self._start["overflows"]
        loads = self.loads or [load_average()]
        self.result = CpuUse(wall, server, pg, own, machine, max(loads), overflows, opened)


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds spent in one window, by whom (`other` is everything else on the machine)."""

    wall: float
    server: float
    postgres: float
    client: float
    machine: float
    load_max: float
    listen_overflows: int
    pg_connections_opened: int

    @property
    def other(self) -> float:
        """CPU seconds of processes that are not ours (other engineers' tests, the kernel)."""
        return max(0.0, self.machine - self.server - self.postgres - self.client)


# ---------------------------------------------------------------------------------------------
# Sampling profiles (py-spy)

# Where a sample's innermost frame lives, first match wins (py-spy prints paths relative to
# sys.path, e.g. "sqlalchemy/engine/base.py" or "bot/logs.py").
AREAS = (
    ("psycopg", "psycopg (driver)"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("slack_bolt/", "slack_bolt"),
    ("slack_sdk/", "slack_sdk"),
    ("gunicorn/", "gunicorn"),
    ("pydantic", "pydantic"),
    ("rapidfuzz", "rapidfuzz"),
    ("handlers/", "handlers/ (our code)"),
    ("services/", "services/ (our code)"),
    ("bot/", "bot/ (our code)"),
    ("logging/", "logging"),
    ("json/", "json"),
    ("http/", "http.client"),
    ("urllib/", "urllib"),
    ("email/", "email (header parsing)"),
    ("socket.py", "socket"),
    ("selectors.py", "selectors"),
    ("threading.py", "threading"),
    ("concurrent/", "concurrent.futures"),
    ("uuid.py", "uuid"),
)


@dataclass(frozen=True)
class Profiles:
    """py-spy raw files: samples of threads holding the GIL (Python on the CPU), and samples of
    every thread py-spy does not see as idle (which includes waits inside C calls: the PG socket,
    `time.sleep`)."""

    gil: list[Path]
    active: list[Path]


@contextmanager
def py_spy(pids: list[int], seconds: float, prefix: str) -> Iterator[Profiles]:
    """Sample each process twice with py-spy (100 Hz, not pausing it) while the block runs."""
    binary = Path(sys.executable).parent / "py-spy"
    tmp = Path(tempfile.gettempdir())
    profiles = Profiles(
        [tmp / f"{prefix}-{pid}-gil.txt" for pid in pids],
        [tmp / f"{prefix}-{pid}-active.txt" for pid in pids],
    )
    options = ["-d", str(max(1, int(seconds))), "-r", "100", "-f", "raw", "--nonblocking"]
    jobs = [(pid, path, ["--gil"]) for pid, path in zip(pids, profiles.gil, strict=True)]
    jobs += [(pid, path, []) for pid, path in zip(pids, profiles.active, strict=True)]
    spies = [
        subprocess.Popen(
            [str(binary), "record", "-p", str(pid), *options, *extra, "-o", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid, path, extra in jobs
    ]
    try:
        yield profiles
    finally:
        for spy in spies:
            try:
                spy.wait(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(timeout=10)


def read_stacks(paths: list[Path]) -> list[tuple[list[str], int]]:
    """Collapsed stacks (root first) and their sample counts, from py-spy's raw files."""
    stacks: list[tuple[list[str], int]] = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def area_of(frame: str) -> str:
    """The library or package a frame belongs to (see AREAS)."""
    where = frame.rpartition("(")[2]
    return next((label for needle, label in AREAS if needle in where), "other stdlib / builtins")


def profile_tables(stacks: list[tuple[list[str], int]], top: int = 15) -> str:
    """Markdown: GIL samples by area of the innermost frame, and our functions inclusive."""
    total = sum(count for _, count in stacks) or 1
    by_area: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    for frames, count in stacks:
        area = area_of(frames[-1])
        by_area[area] = by_area.get(area, 0) + count
        ours = {f.rsplit(":", 1)[0] + ")" for f in frames if area_of(f).endswith("(our code)")}
        for frame in ours:
            inclusive[frame] = inclusive.get(frame, 0) + count
    lines = [
        f"{total:,} samples holding the GIL (100 Hz).",
        "",
        "| innermost frame in | share |",
        "|---|---:|",
    ]
    lines += [f"| {a} | {n / total:.1%} |" for a, n in sorted(by_area.items(), key=lambda kv: -kv[1])]
    lines += ["", "| our function (inclusive: it or anything it calls) | share |", "|---|---:|"]
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    lines += [f"| `{frame}` | {n / total:.1%} |" for frame, n in ranked]
    return "\n".join(lines)


def leaf_table(stacks: list[tuple[list[str], int]], top: int = 10) -> str:
    """Markdown: the innermost frames (with line) that most samples were in."""
    total = sum(count for _, count in stacks) or 1
    leaves: dict[str, int] = {}
    for frames, count in stacks:
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + count
    lines = [f"{total:,} samples of threads py-spy did not see as idle.", ""]
    lines += ["| innermost frame | share |", "|---|---:|"]
    ranked = sorted(leaves.items(), key=lambda kv: -kv[1])[:top]
    lines += [f"| `{frame}` | {n / total:.1%} |" for frame, n in ranked]
    return "\n".join(lines)
