"""The shape of the synthetic store: who wrote which work, with heavy tails and clustering.

Everything here is numpy arrays, built in a few seconds for a million works. Researchers sit on
a line in contiguous labs; each researcher owns an interval of "weight space" as long as their
expected number of works (lognormal, so a few hubs own long intervals). A work has a lead drawn
uniformly in weight space and co-authors drawn mostly from the lead's lab, else near the lead,
rarely anywhere — so 2-hop neighbourhoods are lab-shaped, not uniform random. A few "big
collaborations" (500–3,000 authors per paper) reuse one fixed member range each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

TOPICS_PER_LAB = 4
MAX_WORKS_PER_RESEARCHER = 2_000
# Shares of co-author slots: the lead's lab, the lead's neighbourhood, anyone.
LAB_SHARE, NEAR_SHARE = 0.6, 0.33
RAW_NAME_ONLY_SHARE = 0.02
BIG_WORK_SHARE = 0.0002


@dataclass(frozen=True)
class Graph:
    """Researchers 0..n-1 and works 0..m-1 (ids are index + 1 in the store)."""

    n: int
    m: int
    lab_of: Ints  # researcher → lab
    lab_start: Ints  # lab → first researcher (plus a sentinel n)
    lab_topics: Ints  # lab → TOPICS_PER_LAB topic indexes
    work_lead: Ints  # work → lead researcher
    work_year: Ints
    auth_work: Ints  # authorships sorted by (work, position)
    auth_researcher: Ints  # -1: only a raw name on the paper
    auth_position: Ints
    topic_work: Ints  # work_topic pairs, sorted by work
    topic_topic: Ints
    works_of: Ints  # researcher → distinct works

    @property
    def labs(self) -> int:
        return len(self.lab_start) - 1


def _lab_sizes(rng: np.random.Generator, n: int) -> Ints:
    sizes = np.maximum(3, rng.lognormal(np.log(22), 0.7, n // 8 + 16)).astype(np.int64)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= int(ends[count - 1]) - n
    return sizes[sizes > 0]


def _regular_sizes(rng: np.random.Generator, m: int) -> Ints:
    """Authors per work: mostly 1–6, a Pareto tail to a few hundred."""
    k = np.ceil(rng.lognormal(np.log(3.0), 0.7, m)).astype(np.int64)
    tail = rng.random(m) < 0.02
    k[tail] = (8 + rng.pareto(1.3, int(tail.sum())) * 10).astype(np.int64)
    return np.clip(k, 1, 400)


def _weights(rng: np.random.Generator, n: int, slots: int) -> Floats:
    """Expected slots per researcher: lognormal, median ~3, summing to `slots`, capped."""
    mean = slots / n
    median = min(3.0, 0.8 * mean)
    sigma = float(np.clip(np.sqrt(2 * np.log(mean / median)), 0.5, 2.2))
    weight = rng.lognormal(np.log(median), sigma, n)
    # Hubs lose some slots to duplicates within a work, so the cap sits above the target max.
    for _ in range(4):
        weight *= slots / weight.sum()
        np.minimum(weight, 2.0 * MAX_WORKS_PER_RESEARCHER, out=weight)
    return weight


def _dedupe_mask(work: Ints, researcher: Ints, n: int) -> NDArray[np.bool_]:
    """True for every slot that repeats a researcher already on the same work (first kept)."""
    key = work * (n + 1) + researcher
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    dup = np.zeros(len(key), dtype=bool)
    dup[order[1:]] = sorted_key[1:] == sorted_key[:-1]
    return dup


def build_graph(n: int, m: int, seed: int, topics_by_field: list[list[int]]) -> Graph:
    """Draw the whole co-authorship structure for n researchers and m works."""
    rng = np.random.default_rng(seed)
    lab_sizes = _lab_sizes(rng, n)
    labs = len(lab_sizes)
    lab_start = np.concatenate([[0], np.cumsum(lab_sizes)]).astype(np.int64)
    lab_of = np.repeat(np.arange(labs, dtype=np.int64), lab_sizes)

    n_big = round(m * BIG_WORK_SHARE) if n >= 5_000 else 0
    m_reg = m - n_big
    k = _regular_sizes(rng, m_reg)
    weight = _weights(rng, n, int(k.sum()))
    cw = np.cumsum(weight)
    total = float(cw[-1])
    lab_lo = np.concatenate([[0.0], cw])[lab_start[:-1]]
    lab_hi = cw[lab_start[1:] - 1]

    # The lead: uniform in weight space, so each researcher leads ∝ weight.
    u_lead = rng.random(m_reg) * total
    lead = np.minimum(np.searchsorted(cw, u_lead, side="right"), n - 1)

    co_work = np.repeat(np.arange(m_reg, dtype=np.int64), k - 1)
    co = np.empty(len(co_work), dtype=np.int64)
    pending = np.arange(len(co_work))
    for attempt in range(4):
        w = co_work[pending]
        mode = rng.random(len(pending))
        if attempt:  # retries go near the lead, where a duplicate is unlikely
            mode[:] = LAB_SHARE
        lab = lab_of[lead[w]]
        u = np.where(
            mode < LAB_SHARE,
            lab_lo[lab] + rng.random(len(pending)) * (lab_hi[lab] - lab_lo[lab]),
            u_lead[w] + rng.laplace(0, 1, len(pending)) * (25 * total / n + 2 * weight[lead[w]]),
        )
        anyone = mode >= LAB_SHARE + NEAR_SHARE
        u[anyone] = rng.random(int(anyone.sum())) * total
        co[pending] = np.minimum(np.searchsorted(cw, np.mod(u, total), side="right"), n - 1)
        all_work = np.concatenate([np.arange(m_reg), co_work])
        dup = _dedupe_mask(all_work, np.concatenate([lead, co]), n)[m_reg:]
        pending = np.flatnonzero(dup)
        if not len(pending):
            break
    keep = np.ones(len(co), dtype=bool)
    keep[pending] = False
    co_work, co = co_work[keep], co[keep]

    # Some co-authors are only a printed name, as OpenAlex sometimes reports them.
    co = np.where(rng.random(len(co)) < RAW_NAME_ONLY_SHARE, -1, co)
    # Nobody is in the store without a work: add the workless to a work led by a lab-mate.
    named = co[co >= 0]
    seen = np.bincount(np.concatenate([lead, named]), minlength=n) > 0
    idle = np.flatnonzero(~seen)
    by_lead = np.argsort(lead, kind="stable")
    lead_sorted = lead[by_lead]
    lo = np.searchsorted(lead_sorted, lab_start[lab_of[idle]])
    hi = np.searchsorted(lead_sorted, lab_start[lab_of[idle] + 1])
    empty = hi <= lo
    lo[empty] = np.minimum(np.searchsorted(lead_sorted, idle[empty]), m_reg - 1)
    hi[empty] = lo[empty] + 1
    pick = by_lead[lo + (rng.random(len(idle)) * (hi - lo)).astype(np.int64)]
    co_work = np.concatenate([co_work, pick])
    co = np.concatenate([co, idle])

    big_work, big_author, big_lead = _big_collaborations(rng, n, m_reg, n_big)
    work_lead = np.concatenate([lead, big_lead])
    auth_work = np.concatenate([np.arange(m_reg), co_work, big_work])
    auth_researcher = np.concatenate([lead, co, big_author])
    # Position: the lead is first author or last (the PI); everyone else in random order.
    sort_key = rng.random(len(auth_work))
    sort_key[:m_reg] = np.where(rng.random(m_reg) < 0.6, -1.0, 2.0)
    order = np.lexsort((sort_key, auth_work))
    auth_work, auth_researcher = auth_work[order], auth_researcher[order]
    first = np.searchsorted(auth_work, np.arange(m))
    auth_position = np.arange(len(auth_work), dtype=np.int64) - first[auth_work]

    lab_topics, topic_work, topic_topic = _topics(rng, labs, lab_of[work_lead], topics_by_field)
    linked = auth_researcher >= 0
    works_of = np.bincount(auth_researcher[linked], minlength=n).astype(np.int64)
    year = 2026 - np.floor(rng.exponential(7.0, m)).astype(np.int64)
    return Graph(
        n=n,
        m=m,
        lab_of=lab_of,
        lab_start=lab_start,
        lab_topics=lab_topics,
        work_lead=work_lead,
        work_year=np.clip(year, 1995, 2026),
        auth_work=auth_work,
        auth_researcher=auth_researcher,
        auth_position=auth_position,
        topic_work=topic_work,
        topic_topic=topic_topic,
        works_of=works_of,
    )


def _big_collaborations(
    rng: np.random.Generator, n: int, first_work: int, count: int
) -> tuple[Ints, Ints, Ints]:
    """Works with 500–3,000 authors, each drawn from one of a few fixed member ranges."""
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    ranges = []
    for _ in range(max(1, n // 50_000)):
        size = int(rng.integers(800, 3_001))
        start = int(rng.integers(0, n - size))
        ranges.append((start, size))
    works, authors, leads = [], [], []
    for i in range(count):
        start, size = ranges[int(rng.integers(len(ranges)))]
        chosen = start + rng.choice(size, int(size * rng.uniform(0.6, 1.0)), replace=False)
        works.append(np.full(len(chosen), first_work + i, dtype=np.int64))
        authors.append(chosen.astype(np.int64))
        leads.append(int(chosen[0]))
    return np.concatenate(works), np.concatenate(authors), np.array(leads, dtype=np.int64)


def _topics(
    rng: np.random.Generator, labs: int, work_lab: Ints, topics_by_field: list[list[int]]
) -> tuple[Ints, Ints, Ints]:
    """1–3 topics per work: mostly the lab's own, else its field's, rarely any."""
    fields = len(topics_by_field)
    widths = np.array([len(t) for t in topics_by_field], dtype=np.int64)
    table = np.full((fields, int(widths.max())), -1, dtype=np.int64)
    for f, topic_ids in enumerate(topics_by_field):
        table[f, : len(topic_ids)] = topic_ids
    # Neighbouring labs (a department) share a field.
    lab_field = np.repeat(rng.integers(0, fields, labs // 12 + 1), 12)[:labs]
    picks = (rng.random((labs, TOPICS_PER_LAB)) * widths[lab_field][:, None]).astype(np.int64)
    lab_topics = table[lab_field[:, None], picks]

    m = len(work_lab)
    per_work = rng.choice(np.array([1, 2, 3]), m, p=[0.3, 0.45, 0.25])
    work = np.repeat(np.arange(m, dtype=np.int64), per_work)
    lab = work_lab[work]
    mode = rng.random(len(work))
    own = lab_topics[lab, rng.integers(0, TOPICS_PER_LAB, len(work))]
    field = lab_field[lab]
    in_field = table[field, (rng.random(len(work)) * widths[field]).astype(np.int64)]
    anyone = rng.integers(0, int(sum(widths)), len(work))
    flat = np.concatenate([np.asarray(t, dtype=np.int64) for t in topics_by_field])
    topic = np.where(mode < 0.7, own, np.where(mode < 0.95, in_field, flat[anyone]))
    key = np.unique(work * (int(flat.max()) + 1) + topic)
    return lab_topics, key // (int(flat.max()) + 1), key % (int(flat.max()) + 1)


def quantiles(values: Ints, qs: tuple[float, ...] = (0.5, 0.99)) -> list[int]:
    """Integer quantiles plus the maximum, for the load report."""
    if not len(values):
        return [0] * (len(qs) + 1)
    return [int(np.quantile(values, q)) for q in qs] + [int(values.max())]
