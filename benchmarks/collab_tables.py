"""The tables `benchmarks.bench_collab` prints (rich), from its samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import median

import numpy as np
from rich.table import Table

from benchmarks.collab_samples import Sample, ServiceSample
from benchmarks.naive import NaiveRun

TARGET_MS = {"typical": 50.0, "top 1% by works": 300.0, "top 1% by co-authors": 300.0}
PAGING_TARGET_MS = 30.0


def pct(values: Sequence[float], q: float) -> float:
    """Percentile `q` of `values` (linear interpolation), 0 for none."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else 0.0


def _ms(values: Sequence[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.1f}"


def _groups(samples: Sequence[Sample]) -> list[tuple[str, str, list[Sample]]]:
    """(command, label, samples): each group, and the typical group split by big collaborations."""
    rows: list[tuple[str, str, list[Sample]]] = []
    for command in ("collaborators", "papers"):
        mine = [s for s in samples if s.command == command]
        for group in TARGET_MS:
            members = [s for s in mine if s.subject.group == group]
            if not members:
                continue
            rows.append((command, group, members))
            if group == "typical":
                big = [s for s in members if s.subject.big]
                rows.append((command, "  … on a ≥100-author work", big))
                rows.append((command, "  … never on one", [s for s in members if not s.subject.big]))
    return rows


def latency_table(samples: Sequence[Sample], title: str) -> Table:
    """Median, p95, max per command and group, against the issue's targets."""
    table = Table(title=title)
    table.add_column("command")
    table.add_column("group")
    for column in ("n", "median ms", "p95 ms", "max ms", "CPU p50", "CPU p95", "SQL share", "target p95"):
        table.add_column(column, justify="right")
    table.add_column("outcomes")
    for command, label, members in _groups(samples):
        if not members:
            continue
        seconds = [s.seconds for s in members]
        target = TARGET_MS.get(label)
        verdict = ""
        if target is not None:
            verdict = f"≤ {target:.0f} " + ("✓" if pct(seconds, 95) * 1000 <= target else "✗ missed")
        outcomes: dict[str, int] = {}
        for s in members:
            outcomes[s.outcome] = outcomes.get(s.outcome, 0) + 1
        table.add_row(
            command,
            label,
            str(len(members)),
            _ms(seconds, 50),
            _ms(seconds, 95),
            f"{max(seconds) * 1000:.1f}",
            _ms([s.cpu_seconds for s in members], 50),
            _ms([s.cpu_seconds for s in members], 95),
            f"{sum(s.sql_seconds for s in members) / sum(seconds):.0%}",
            verdict,
            ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items(), key=lambda kv: -kv[1])),
        )
    return table


def _spread(values: Sequence[float], fmt: Callable[[float], str] = lambda v: f"{v:,.0f}") -> str:
    return f"{fmt(median(values))} / {fmt(max(values))}" if values else ""


def search_table(service: Sequence[ServiceSample], peaks: dict[int, float]) -> Table:
    """How much of the graph each group's searches loaded (CollaboratorService, in-process)."""
    table = Table(
        title="Collaborator search size, CollaboratorService.collaborators in-process (median / max)"
    )
    table.add_column("group")
    for column in (
        "n",
        "ms p50",
        "ms p95",
        "ms max",
        "works",
        "co-authors",
        "frontier",
        "pairs loaded",
        "candidates",
        "capped",
        "tracemalloc peak MiB",
    ):
        table.add_column(column, justify="right")
    for group in TARGET_MS:
        members = [s for s in service if s.subject.group == group]
        if not members:
            continue
        stats = [s.found.stats for s in members]
        measured = [peaks[s.subject.researcher_id] for s in members if s.subject.researcher_id in peaks]
        table.add_row(
            group,
            str(len(members)),
            _ms([s.seconds for s in members], 50),
            _ms([s.seconds for s in members], 95),
            f"{max(s.seconds for s in members) * 1000:.1f}",
            _spread([s.subject.works for s in members]),
            _spread([s.found.close_total for s in members]),
            _spread([st.frontier for st in stats]),
            _spread([st.pairs_loaded for st in stats]),
            _spread([st.candidates for st in stats]),
            f"{sum(st.capped for st in stats) / len(stats):.0%}",
            f"max {max(measured):.1f} (n={len(measured)})" if measured else "",
        )
    return table


def naive_table(naive: NaiveRun, service: Sequence[ServiceSample]) -> Table:
    """Whole graph in networkx vs the neighbourhood query, per group, as ratios."""
    build = naive.build
    built_s = build.fetch_seconds + build.build_seconds
    table = Table(
        title=(
            f"Naive (whole graph in networkx) vs ours. Build: {built_s:.1f} s "
            f"(SQL fetch {build.fetch_seconds:.1f} s + nx.Graph {build.build_seconds:.1f} s), "
            f"{build.authorships:,} authorships of {build.works:,} works → {build.nodes:,} nodes, "
            f"{build.edges:,} edges; RSS {build.rss_before_mib:,.0f} → {build.rss_after_mib:,.0f} MiB "
            f"(+{build.rss_after_mib - build.rss_before_mib:,.0f}), peak {build.peak_mib:,.0f} MiB "
            f"building, {naive.peak_mib:,.0f} MiB after scoring"
        )
    )
    table.add_column("group")
    for column in (
        "n",
        "naive ms p50 / p95 / max",
        "naive candidates p50 / max",
        "ours ms p50 / p95 / max",
        "naive ÷ ours (p50)",
        "build ÷ ours p50 (queries)",
        "our 5 in naive top 5",
        "our 5 in naive top 50",
    ):
        table.add_column(column, justify="right")
    for group in TARGET_MS:
        members = [s for s in service if s.subject.group == group]
        scored = [
            naive.scores[s.subject.researcher_id] for s in members if s.subject.researcher_id in naive.scores
        ]
        if not members or not scored:
            continue
        ours = [s.seconds for s in members]
        theirs = [n.seconds for n in scored]
        top5 = top50 = shown = 0
        for s in members:
            n = naive.scores.get(s.subject.researcher_id)
            picked = [x.id for x in s.found.suggestions]
            if n is None or not picked:
                continue
            shown += len(picked)
            top5 += len(set(picked) & set(n.top))
            top50 += len(set(picked) & set(n.top_wide))
        table.add_row(
            group,
            str(len(members)),
            f"{_ms(theirs, 50)} / {_ms(theirs, 95)} / {max(theirs) * 1000:.1f}",
            _spread([float(n.candidates) for n in scored]),
            f"{_ms(ours, 50)} / {_ms(ours, 95)} / {max(ours) * 1000:.1f}",
            f"{median(theirs) / median(ours):.2f}×",
            f"{built_s / median(ours):,.0f}",
            f"{top5 / shown:.0%}" if shown else "",
            f"{top50 / shown:.0%}" if shown else "",
        )
    return table


def paging_table(samples: Sequence[Sample]) -> Table:
    """Next / Previous presses through every page of the biggest publication lists."""
    table = Table(
        title=f"Papers paging: signed block_actions presses (target p95 ≤ {PAGING_TARGET_MS:.0f} ms)"
    )
    for column in ("researcher", "works", "pages"):
        table.add_column(column, justify="right")
    for column in (
        "presses",
        "p50 ms",
        "p95 ms",
        "max ms",
        "SQL share",
        "p95 first 10",
        "p95 middle 20",
        "p95 last 10",
    ):
        table.add_column(column, justify="right")
    table.add_column("target")
    people = sorted({s.subject.researcher_id for s in samples})
    rows = [(str(rid), [s for s in samples if s.subject.researcher_id == rid]) for rid in people]
    for label, members in [*rows, ("all", list(samples))]:
        if not members:
            continue
        pages = max(s.page for s in members)
        seconds = [s.seconds for s in members]

        def p95_where(keep: Callable[[int], bool], members: list[Sample] = members) -> str:
            chosen = [s.seconds for s in members if keep(s.page)]
            return _ms(chosen, 95) if chosen else ""

        last = {rid: max(s.page for s in samples if s.subject.researcher_id == rid) for rid in people}
        wrong = sum(s.outcome != "page" for s in members)
        table.add_row(
            label,
            f"{members[0].subject.works:,}" if label != "all" else "",
            str(pages) if label != "all" else "",
            str(len(members)) + (f" ({wrong} wrong page)" if wrong else ""),
            _ms(seconds, 50),
            _ms(seconds, 95),
            f"{max(seconds) * 1000:.1f}",
            f"{sum(s.sql_seconds for s in members) / sum(seconds):.0%}",
            p95_where(lambda p: p <= 10),
            _middle(members, last),
            _ms([s.seconds for s in members if s.page > last[s.subject.researcher_id] - 10], 95),
            "✓" if pct(seconds, 95) * 1000 <= PAGING_TARGET_MS else "✗ missed",
        )
    return table


def _middle(members: Sequence[Sample], last: dict[int, int]) -> str:
    chosen = [s.seconds for s in members if abs(s.page - last[s.subject.researcher_id] / 2) <= 10]
    return _ms(chosen, 95) if chosen else ""


def slowest_table(samples: Sequence[Sample], count: int = 10) -> Table:
    """The slowest requests, with what they cost in SQL."""
    table = Table(title="Slowest requests")
    for column in ("ms", "CPU ms", "SQL ms", "command", "group", "researcher", "works", "page"):
        table.add_column(
            column, justify="right" if column in ("ms", "CPU ms", "SQL ms", "works", "page") else "left"
        )
    for s in sorted(samples, key=lambda s: -s.seconds)[:count]:
        table.add_row(
            f"{s.seconds * 1000:.1f}",
            f"{s.cpu_seconds * 1000:.1f}",
            f"{s.sql_seconds * 1000:.1f}",
            s.command,
            s.subject.group,
            s.subject.openalex_id,
            f"{s.subject.works:,}",
            str(s.page or ""),
        )
    return table
