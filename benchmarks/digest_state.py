"""Follow-graph state for the digest benchmarks: researchers, members and follows bulk-loaded,
and the new works an OpenAlex stand-in serves to the refresh job.

Popularity is Zipf-like (weight 1 / rank^s): a few researchers have tens of thousands of
followers, most have a few dozen. Each member follows `per_member` distinct researchers, drawn
without replacement by popularity (Gumbel top-k, in chunks, so 50,000 members take seconds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.engine import Engine

from benchmarks.corpus import TextMaker, make_topics
from benchmarks.loader import open_loader
from benchmarks.vocab import REGIONS
from tests.openalex_works import WorksStandIn, work_json

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
FOLLOWED_SINCE = NOW - timedelta(days=60)
# Digest preferences: most keep the default (daily), some weekly or instant, a few turned off.
FREQUENCIES = (("daily", 0.85), ("weekly", 0.08), ("instant", 0.05), ("off", 0.02))
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata", "Asia/Tokyo")
MUTED_SHARE = 0.01


def followed_id(n: int) -> str:
    """OpenAlex id of followed researcher n (1-based)."""
    return f"A5{n:09d}"


def coauthor_id(n: int) -> str:
    """OpenAlex id of an unfollowed co-author the refresh meets for the first time."""
    return f"A7{n:09d}"


@dataclass(frozen=True)
class FollowFacts:
    """What was loaded, and how skewed popularity came out."""

    researchers: int
    members: int
    follows: int
    followers: NDArray[np.int64]  # per researcher (index = id − 1)

    def describe(self) -> str:
        ranked = np.sort(self.followers)[::-1]
        q = np.percentile(self.followers, [50, 90, 99]).astype(int)
        return (
            f"{self.researchers:,} researchers, {self.members:,} members, {self.follows:,} follows; "
            f"followers per researcher median {q[0]}, p90 {q[1]}, p99 {q[2]}, max {ranked[0]:,}; "
            f"top 1 % hold {ranked[: max(1, len(ranked) // 100)].sum() / self.follows:.0%} of follows"
        )


def _names(count: int, rng: random.Random) -> list[str]:
    weights = [region.weight for region in REGIONS]
    names = []
    for _ in range(count):
        region = rng.choices(REGIONS, weights)[0]
        names.append(f"{rng.choice(region.given)} {rng.choice(region.surnames)}")
    return names


def choose_follows(
    researchers: int, members: int, per_member: int, exponent: float, seed: int
) -> NDArray[np.int64]:
    """(members × per_member) researcher indexes, distinct per member, Zipf-weighted.

    exponent 0 means round robin instead: member m follows researchers m·per_member + k (mod
    researchers), so every researcher is followed once members × per_member ≥ researchers.
    """
    if exponent <= 0:
        grid = np.arange(members, dtype=np.int64)[:, None] * per_member + np.arange(per_member)
        return grid % researchers
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, researchers + 1) ** exponent
    # Popularity is not tied to id order: shuffle which researcher gets which rank.
    log_weights = np.log(weights)[rng.permutation(researchers)]
    chosen = np.empty((members, per_member), dtype=np.int64)
    step = max(1, 20_000_000 // researchers)
    for start in range(0, members, step):
        rows = min(step, members - start)
        keys = log_weights + rng.gumbel(size=(rows, researchers))
        chosen[start : start + rows] = np.argpartition(-keys, per_member - 1, axis=1)[:, :per_member]
    return chosen


def load_follow_state(
    engine: Engine, *, researchers: int, members: int, per_member: int, exponent: float, seed: int
) -> FollowFacts:
    """Bulk-load researchers A5…, members U…, and per_member follows each (store must be empty)."""
    rng = random.Random(seed)
    names = _names(researchers, rng)
    follows = choose_follows(researchers, members, per_member, exponent, seed)
    loader = open_loader(engine)
    try:
        loader.prepare(("researcher", "member", "follow"))
        loader.load(
            "researcher",
            ("id", "slug", "openalex_id", "source", "name", "open_to_collaborate", "updated_at"),
            (
                (n, followed_id(n), followed_id(n), "openalex", names[n - 1], True, FOLLOWED_SINCE)
                for n in range(1, researchers + 1)
            ),
        )
        frequencies = [f for f, _ in FREQUENCIES]
        shares = [s for _, s in FREQUENCIES]
        loader.load(
            "member",
            (
                "id",
                "team_id",
                "user_id",
                "tz",
                "tz_checked_at",
                "digest_frequency",
                "digest_time",
                "digest_weekday",
                "mute_all_invitations",
                "created_at",
            ),
            (
                (
                    m,
                    "T0TEAM1",
                    f"U{m:09d}",
                    rng.choice(ZONES),
                    FOLLOWED_SINCE,
                    rng.choices(frequencies, shares)[0],
                    "09:00",
                    0,
                    False,
                    FOLLOWED_SINCE,
                )
                for m in range(1, members + 1)
            ),
        )
        loader.load(
            "follow",
            ("id", "member_id", "researcher_id", "muted", "parked", "created_at"),
            (
                (m * per_member + k + 1, m + 1, int(r) + 1, rng.random() < MUTED_SHARE, False, FOLLOWED_SINCE)
                for m, row in enumerate(follows.tolist())
                for k, r in enumerate(row)
            ),
        )
        loader.finish()
    finally:
        loader.close()
    counts = np.bincount(follows.ravel(), minlength=researchers).astype(np.int64)
    return FollowFacts(researchers, members, members * per_member, counts)


def serve_new_works(standin: WorksStandIn, *, pool: range, works: int, seed: int, first: int = 1) -> int:
    """`works` recent works by researchers of `pool` (1–3 each, uniform) and 0–4 new co-authors;
    work ids start at `first`. Returns the authorships served."""
    rng = random.Random(seed)
    topic_names, _ = make_topics(random.Random(seed))
    text = TextMaker(rng, topic_names)
    names = _names(64, rng)
    authorships = 0
    for n in range(first, first + works):
        followed = rng.sample(pool, rng.choices((1, 2, 3), (0.6, 0.25, 0.15))[0])
        authors = [(followed_id(r), names[r % len(names)]) for r in followed]
        authors += [(coauthor_id(n * 8 + k), rng.choice(names)) for k in range(rng.randint(0, 4))]
        rng.shuffle(authors)
        topic = rng.randrange(len(topic_names))
        title, _ = text.title(topic)
        standin.add(
            work_json(
                f"W8{n:09d}",
                f"{title} ({n})",  # unique: two articles with one title would pair as versions
                authors,
                published=date(2026, 11, 29) - timedelta(days=rng.randrange(21)),
                venue=rng.choice(("Journal of Synthetic Studies", "Proceedings of BenchConf")),
                topic=(f"T8{topic:05d}", topic_names[topic]),
            )
        )
        authorships += len(authors)
    return authorships
