"""Issue 17: every channel digest composed at once — 5,000 channels × 10 subscriptions.

    # build: researchers, 5,000 channels (member rows of kind "channel") × 10 follows, people
    # with approved claims on some followed researchers (the posts mention them), and a refresh
    # cycle against a local /works stand-in that queues the ledger (EMPTIES the store):
    python -m benchmarks.bench_channel_digests state --database-url URL --reset
    # then, in a fresh process (clean memory figures): what DigestService.deliver_due does to
    # compose and render every channel's post, without Slack
    python -m benchmarks.bench_channel_digests compose --database-url URL

Time is injected (digest_state.NOW); nothing sleeps.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from benchmarks.bench_digest import _spread, ledger_facts, refresh_table, run_refresh, vacuum_if_postgres
from benchmarks.compose_timing import compose_every_due
from benchmarks.digest_state import FOLLOWED_SINCE, choose_follows, followed_id, serve_new_works
from benchmarks.loader import open_loader
from benchmarks.naive import memory_mib
from benchmarks.synthetic import prepare_store
from handlers.blocks import within_limits
from handlers.digests.channel_post_blocks import channel_post, fit_channel_post
from services.store.engine import make_engine, normalize_database_url
from services.store.models import MEMBER_CHANNEL, MEMBER_USER
from tests.openalex_works import WorksStandIn

TEAM = "T0TEAM1"
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
TARGET_SECONDS = 10.0
TARGET_MB = 300.0


def load_channel_state(
    engine: Engine, *, researchers: int, channels: int, per_channel: int, claimed: int, seed: int
) -> str:
    """Researchers A5…, channels C… following `per_channel` each (Zipf-weighted), and `claimed`
    people U… with an approved claim on one followed researcher each (the store must be empty)."""
    rng = random.Random(seed)
    follows = choose_follows(researchers, channels, per_channel, 1.0, seed)
    loader = open_loader(engine)
    try:
        loader.prepare(("researcher", "member", "follow", "claim"))
        loader.load(
            "researcher",
            ("id", "slug", "openalex_id", "source", "name", "open_to_collaborate", "updated_at"),
            (
                (n, followed_id(n), followed_id(n), "openalex", f"Researcher {n}", True, FOLLOWED_SINCE)
                for n in range(1, researchers + 1)
            ),
        )
        columns = ("id", "team_id", "user_id", "kind", "tz", "digest_frequency", "digest_time")
        rows = [
            (c, TEAM, f"C{c:09d}", MEMBER_CHANNEL, rng.choice(ZONES), "daily", "09:00")
            for c in range(1, channels + 1)
        ]
        rows += [
            (channels + p, TEAM, f"U{p:09d}", MEMBER_USER, "UTC", "daily", "09:00")
            for p in range(1, claimed + 1)
        ]
        loader.load(
            "member",
            (*columns, "digest_weekday", "mute_all_invitations", "created_at"),
            ((*row, 0, False, FOLLOWED_SINCE) for row in rows),
        )
        loader.load(
            "follow",
            ("id", "member_id", "researcher_id", "muted", "parked", "created_at"),
            (
                (c * per_channel + k + 1, c + 1, int(r) + 1, False, False, FOLLOWED_SINCE)
                for c, row in enumerate(follows.tolist())
                for k, r in enumerate(row)
            ),
        )
        claimed_researchers = rng.sample(range(1, researchers + 1), claimed)
        loader.load(
            "claim",
            ("id", "researcher_id", "member_id", "status", "method", "orcid_authenticated", "created_at"),
            (
                (p, researcher, channels + p, "approved", "admin", False, FOLLOWED_SINCE)
                for p, researcher in enumerate(claimed_researchers, start=1)
            ),
        )
        loader.finish()
    finally:
        loader.close()
    return (
        f"{researchers:,} researchers, {channels:,} channels × {per_channel} follows, "
        f"{claimed:,} people with an approved claim"
    )


def state_part(args: argparse.Namespace, console: Console) -> None:
    url = normalize_database_url(args.database_url)
    prepare_store(url, reset=True).dispose()
    engine = make_engine(url)
    started = time.perf_counter()
    facts = load_channel_state(
        engine,
        researchers=args.researchers,
        channels=args.channels,
        per_channel=args.follows,
        claimed=args.claimed,
        seed=args.seed,
    )
    console.print(f"state: {facts}; bulk load {time.perf_counter() - started:.1f} s")
    standin = WorksStandIn()
    served = serve_new_works(standin, pool=range(1, args.researchers + 1), works=args.works, seed=args.seed)
    console.print(f"stand-in: {args.works:,} new works, {served:,} authorships")
    report, watches, wall = run_refresh(engine, standin, cycle="state")
    console.print(report.summary())
    console.print(refresh_table([("queues the ledger", report, watches, wall, standin)]))
    console.print(ledger_facts(engine))
    vacuum_if_postgres(engine, console)


def compose_part(args: argparse.Namespace, console: Console) -> None:
    """Every channel's post, as deliver_due builds it: due members, compose_views (mentions
    included), then fit_channel_post and channel_post(...).payload() for each."""
    engine = make_engine(normalize_database_url(args.database_url))
    composed = compose_every_due(engine)
    due, views = composed.due, composed.views
    compose_s = composed.due_s + composed.compose_s
    cpu = time.process_time()
    started = time.perf_counter()
    blocks: list[int] = []
    sizes: list[int] = []
    mentions = 0
    fits = True
    for view in views.values():
        post = fit_channel_post(view)
        payload = channel_post(post, command="/peer").payload()
        blocks.append(len(payload["blocks"]))
        sizes.append(len(json.dumps(payload)))
        fits = fits and within_limits(payload["blocks"])
        mentions += sum(len(users) for users in view.mentions.values())
    render_s = time.perf_counter() - started
    render_cpu = time.process_time() - cpu
    _, peak = memory_mib()
    channels = [v for v in views.values() if v.is_channel]
    total = compose_s + render_s
    table = Table(title=f"Composing every channel digest at once — {engine.url.get_backend_name()}")
    for column in ("", "value"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [
        ("channels due (force)", f"{len(due):,}"),
        ("channel posts composed / empty", f"{len(channels):,} / {sum(1 for v in channels if v.is_empty):,}"),
        ("items per channel p50 / p99 / max", _spread([v.item_count for v in channels])),
        ("mentions of claimed members, all posts", f"{mentions:,}"),
        ("blocks per post p50 / p99 / max (Slack: 50)", _spread(blocks)),
        ("payload bytes p50 / p99 / max", _spread(sizes)),
        ("every post within Slack's limits", "✓" if fits else "✗"),
        ("due_members + compose_views: wall / CPU", f"{compose_s:.2f} s / {composed.cpu_s:.2f} s"),
        ("fit_channel_post + channel_post + payload(): wall / CPU", f"{render_s:.2f} s / {render_cpu:.2f} s"),
        (
            f"total wall (target ≤ {TARGET_SECONDS:.0f} s)",
            f"{total:.2f} s " + ("✓" if total <= TARGET_SECONDS else "✗"),
        ),
        ("total CPU", f"{composed.cpu_s + render_cpu:.2f} s"),
        ("RSS before", f"{composed.rss_before:,.0f} MiB"),
        ("peak RSS after compose_views", f"{composed.peak:,.0f} MiB"),
        (
            f"peak RSS after rendering (target ≤ {TARGET_MB:.0f} MB)",
            f"{peak:,.0f} MiB " + ("✓" if peak * 2**20 <= TARGET_MB * 1e6 else "✗"),
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("state", "compose"))
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reset", action="store_true", help="required by state: empties the store")
    parser.add_argument("--researchers", type=int, default=5_000, help="followed researchers")
    parser.add_argument("--channels", type=int, default=5_000)
    parser.add_argument("--follows", type=int, default=10, help="subscriptions per channel")
    parser.add_argument("--claimed", type=int, default=1_000, help="people with an approved claim")
    parser.add_argument("--works", type=int, default=5_000, help="new works the refresh finds")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.part == "state" and not args.reset:
        parser.error("state empties the store first: pass --reset")
    console = Console(width=200)
    {"state": state_part, "compose": compose_part}[args.part](args, console)
    return 0


if __name__ == "__main__":
    sys.exit(main())
