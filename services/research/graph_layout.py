"""The research graph as a graph (networkx): who is drawn, which links, where, and where the
labels go so that they do not overlap. Pure functions of their input: the same neighbourhood
always gives the same picture.

Drawn: the researcher; their MAX_COAUTHORS strongest co-authors (most shared works), keeping a
place for each suggestion's strongest shared co-author so that no suggestion floats alone; the
suggestions. Edges: researcher–co-author, as wide as their shared works (all works, as the close
list counts them), and every stored co-author edge among the people drawn (coauthor_graph.py: works
with at most 25 authors): co-authors who wrote together, and suggestions with the co-authors they
share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from services.research.collaborators import Collaborators

MAX_COAUTHORS = 25
RESEARCHER, COAUTHOR, SUGGESTED = "researcher", "coauthor", "suggested"
# Edge kinds: the researcher and a co-author; two co-authors; a suggestion and someone drawn.
TIE, AMONG, TO_SUGGESTION = "tie", "among", "to_suggestion"
# The spring layout that orders co-authors round the circle: fixed seed and iterations.
SEED = 16
ITERATIONS = 200


@dataclass(frozen=True)
class GraphNode:
    id: int
    name: str
    kind: str  # RESEARCHER | COAUTHOR | SUGGESTED
    works: int  # shared with the researcher (0 for the researcher and suggestions)
    x: float
    y: float


@dataclass(frozen=True)
class GraphEdge:
    a: int
    b: int
    works: int  # shared works: the line's width
    kind: str  # TIE | AMONG | TO_SUGGESTION


@dataclass(frozen=True)
class Box:
    """A label's centre and size, in the axes' data units."""

    x: float
    y: float
    width: float
    height: float


def _drawn_coauthors(collaborators: Collaborators, ties: dict[int, int]) -> dict[int, tuple[str, int]]:
    """Co-author id → (name, shared works): the strongest, plus each suggestion's bridge."""
    suggested = {s.id for s in collaborators.suggestions}
    chosen = {c.id: (c.name, c.shared_works) for c in collaborators.close if c.id not in suggested}
    strongest = list(chosen)[:MAX_COAUTHORS]
    bridges: dict[int, tuple[str, int]] = {}
    for suggestion in collaborators.suggestions:
        for person in suggestion.shared_coauthors[:1]:
            if person.id not in suggested:
                bridges.setdefault(person.id, chosen.get(person.id, (person.name, ties.get(person.id, 1))))
    # Bridges take the places of the weakest co-authors that are not bridges themselves.
    keep = [c for c in strongest if c not in bridges][: max(MAX_COAUTHORS - len(bridges), 0)]
    drawn = {c: chosen[c] for c in strongest if c in keep or c in bridges}
    drawn.update(bridges)
    return dict(list(drawn.items())[:MAX_COAUTHORS])


def neighbourhood_graph(collaborators: Collaborators, links: Iterable[tuple[int, int, int]]) -> Any:
    """The networkx Graph to draw: nodes with `name`, `kind`, `works`; edges with `works`, `kind`.

    `links` are stored co-author edges (a, b, shared works) among the people of the
    neighbourhood, the researcher included (collaborator_queries.list_links_among)."""
    rid = collaborators.researcher_id
    links = list(links)
    ties = {b if a == rid else a: works for a, b, works in links if rid in (a, b)}
    graph = nx.Graph()
    graph.add_node(rid, name=collaborators.researcher_name, kind=RESEARCHER, works=0)
    for cid, (name, works) in _drawn_coauthors(collaborators, ties).items():
        graph.add_node(cid, name=name, kind=COAUTHOR, works=works)
        graph.add_edge(rid, cid, works=works, kind=TIE)
    for suggestion in collaborators.suggestions:
        graph.add_node(suggestion.id, name=suggestion.name, kind=SUGGESTED, works=0)
    for a, b, works in links:
        if rid in (a, b) or a not in graph or b not in graph:
            continue
        suggestions = [graph.nodes[a]["kind"], graph.nodes[b]["kind"]].count(SUGGESTED)
        if suggestions < 2:  # two suggestions who wrote together are not this researcher's story
            graph.add_edge(a, b, works=works, kind=TO_SUGGESTION if suggestions else AMONG)
    return graph


def _angles(graph: Any, coauthors: list[int]) -> dict[int, float]:
    """Co-authors round the circle in an order that keeps those who wrote together side by side:
    the angular order of a spring layout of the co-authors alone (the researcher, linked to
    everyone, would say nothing about groups), then evenly spaced."""
    if len(coauthors) < 3:
        return {c: math.pi / 2 - 2 * math.pi * i / max(len(coauthors), 1) for i, c in enumerate(coauthors)}
    among = graph.subgraph(coauthors)
    start = {
        c: (
            math.cos(math.pi / 2 - 2 * math.pi * i / len(coauthors)),
            math.sin(math.pi / 2 - 2 * math.pi * i / len(coauthors)),
        )
        for i, c in enumerate(coauthors)
    }
    placed = nx.spring_layout(among, pos=start, iterations=ITERATIONS, seed=SEED, weight="works")
    cx = sum(float(x) for x, _ in placed.values()) / len(placed)
    cy = sum(float(y) for _, y in placed.values()) / len(placed)
    order = sorted(coauthors, key=lambda c: (math.atan2(placed[c][1] - cy, placed[c][0] - cx), c))
    return {c: math.pi / 2 - 2 * math.pi * i / len(order) for i, c in enumerate(order)}


def _spread(wanted: list[tuple[float, int]], gap: float) -> dict[int, float]:
    """Angles at least `gap` apart, each as near its wanted angle as that allows (in order)."""
    placed: dict[int, float] = {}
    previous = -math.inf
    for angle, node in sorted(wanted):
        previous = max(angle, previous + gap)
        placed[node] = previous
    return placed


def layout(graph: Any, rid: int) -> dict[int, tuple[float, float]]:
    """Node positions: the researcher at (0, 0); co-authors round them, strongest ties nearest,
    those who wrote together side by side; suggestions on the rim, beside the co-authors they
    share. Stretched to fill [-1, 1] on both axes, so the drawing uses the whole picture."""
    coauthors = sorted(
        (n for n, kind in graph.nodes(data="kind") if kind == COAUTHOR),
        key=lambda n: (-graph.nodes[n]["works"], n),
    )
    suggested = sorted(n for n, kind in graph.nodes(data="kind") if kind == SUGGESTED)
    angle = _angles(graph, coauthors)
    radius = {c: 0.42 + 0.36 * rank / max(len(coauthors) - 1, 1) for rank, c in enumerate(coauthors)}
    wanted = []
    for i, node in enumerate(suggested):
        sides = [angle[c] for c in graph.neighbors(node) if c in angle]
        if sides:
            mean = math.atan2(sum(map(math.sin, sides)), sum(map(math.cos, sides)))
        else:
            mean = math.pi / 2 - 2 * math.pi * (i + 0.5) / len(suggested)
        wanted.append((mean % (2 * math.pi), node))
    angle.update(_spread(wanted, 2 * math.pi / max(len(suggested), 7)))
    radius.update(dict.fromkeys(suggested, 1.0))
    placed = {n: (radius[n] * math.cos(angle[n]), radius[n] * math.sin(angle[n])) for n in angle}
    reach_x = max((abs(x) for x, _ in placed.values()), default=0.0) or 1.0
    reach_y = max((abs(y) for _, y in placed.values()), default=0.0) or 1.0
    return {rid: (0.0, 0.0), **{n: (x / reach_x, y / reach_y) for n, (x, y) in placed.items()}}


def edges_of(graph: Any) -> tuple[GraphEdge, ...]:
    """The graph's edges in a stable order (the researcher's ties first)."""
    order = {TIE: 0, AMONG: 1, TO_SUGGESTION: 2}
    edges = [
        GraphEdge(min(a, b), max(a, b), data["works"], data["kind"]) for a, b, data in graph.edges(data=True)
    ]
    return tuple(sorted(edges, key=lambda e: (order[e.kind], e.a, e.b)))


def nodes_of(graph: Any, positions: dict[int, tuple[float, float]]) -> tuple[GraphNode, ...]:
    """The graph's nodes with their positions: the researcher, co-authors, suggestions."""
    order = {RESEARCHER: 0, COAUTHOR: 1, SUGGESTED: 2}
    nodes = [
        GraphNode(n, data["name"], data["kind"], data["works"], *positions[n])
        for n, data in graph.nodes(data=True)
    ]
    return tuple(sorted(nodes, key=lambda n: (order[n.kind], -n.works, n.id)))


def overlap(a: Box, b: Box, pad: float = 0.0) -> tuple[float, float]:
    """How far two boxes overlap on each axis (both positive when they do)."""
    return (
        (a.width + b.width) / 2 + pad - abs(a.x - b.x),
        (a.height + b.height) / 2 + pad - abs(a.y - b.y),
    )


def spread_labels(
    labels: Sequence[Box], obstacles: Sequence[Box], *, limit: float, pad: float, rounds: int = 300
) -> list[Box]:
    """Move labels apart until none overlaps another or an obstacle (the nodes), keeping them
    inside [-limit, limit]: each round pushes every overlapping pair apart along the axis where
    they overlap least. Deterministic; stops early once nothing overlaps."""
    boxes = [[b.x, b.y, b.width, b.height] for b in labels]

    def clamp(box: list[float]) -> None:
        box[0] = min(max(box[0], -limit + box[2] / 2), limit - box[2] / 2)
        box[1] = min(max(box[1], -limit + box[3] / 2), limit - box[3] / 2)

    def separate(box: list[float], other: list[float] | Box, share: float) -> bool:
        fixed = other if isinstance(other, Box) else Box(*other)
        dx, dy = overlap(Box(*box), fixed, pad)
        if dx <= 0 or dy <= 0:
            return False
        # Along the axis of least overlap; ties (same centre) go up / right for `box`.
        axis, amount = (1, dy) if dy <= dx else (0, dx)
        sign = 1.0 if box[axis] >= (fixed.y if axis else fixed.x) else -1.0
        box[axis] += sign * share * amount
        if isinstance(other, list):
            other[axis] -= sign * share * amount
        return True

    for _ in range(rounds):
        moved = False
        for i, box in enumerate(boxes):
            for obstacle in obstacles:
                moved |= separate(box, obstacle, 1.0)
            for later in boxes[i + 1 :]:
                moved |= separate(box, later, 0.5)
        for box in boxes:
            clamp(box)
        if not moved:
            break
    return [Box(*box) for box in boxes]
