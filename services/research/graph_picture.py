"""The research graph picture: a researcher, their close and suggested collaborators, as a PNG.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state),
on concentric shells: the researcher in the middle, close collaborators on the inner ring,
suggestions on the outer ring. Positions depend only on the input, so the same neighbourhood
always gives the same picture.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from services.research.collaborators import Collaborators, CollaboratorService
from services.research.profiles import Resolved
from services.store.text import truncate

RESEARCHER_COLOUR = "#1d3557"
CLOSE_COLOUR = "#2a9d8f"
SUGGESTED_COLOUR = "#e76f51"
EDGE_COLOUR = "#9aa5b1"
# Close collaborators drawn: the strongest ones, plus those that link to a suggestion.
MAX_CLOSE_NODES = 16
LABEL = 24
# Smallest angle between two suggestions on the outer ring (radians), so labels do not collide.
MIN_SPACING = 0.55
ALT_TEXT = 1000  # Slack's limit on a file's alt text
# The PNG carries no timestamp; pinning the software tag keeps the bytes stable across upgrades.
PNG_METADATA = {"Software": "bzpeer"}


@dataclass(frozen=True)
class GraphNode:
    id: int
    name: str
    kind: str  # "researcher" | "close" | "suggested"
    x: float
    y: float


@dataclass(frozen=True)
class GraphPicture:
    png: bytes
    filename: str
    title: str
    alt_text: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[int, int], ...]
    collaborators: Collaborators


class GraphPictureService:
    """Renders a researcher's neighbourhood to PNG bytes (the upload is the caller's business)."""

    def __init__(self, collaborators: CollaboratorService) -> None:
        self._collaborators = collaborators

    def find(self, query: str) -> Resolved[GraphPicture]:
        """The picture for whoever QUERY names, or why there is none (pick list, nobody…)."""
        found = self._collaborators.find(query)
        if found.result is None:
            return Resolved(found.lookup)
        return Resolved(found.lookup, graph_picture(found.result))

    def picture(self, researcher_id: int) -> GraphPicture | None:
        """The picture of one researcher's neighbourhood; None when they are gone."""
        collaborators = self._collaborators.collaborators(researcher_id)
        return graph_picture(collaborators) if collaborators else None


def _ring(ids: list[int], radius: float, start: float = math.pi / 2) -> dict[int, tuple[float, float]]:
    step = 2 * math.pi / max(len(ids), 1)
    return {
        node: (radius * math.cos(start - i * step), radius * math.sin(start - i * step))
        for i, node in enumerate(ids)
    }


def _outer_ring(
    collaborators: Collaborators, inner: dict[int, tuple[float, float]]
) -> dict[int, tuple[float, float]]:
    """Suggestions on the outer ring, each near the co-authors it shares (spread apart)."""
    suggestions = collaborators.suggestions
    if not suggestions:
        return {}
    spacing = min(MIN_SPACING, 2 * math.pi / len(suggestions))
    wanted: list[tuple[float, int]] = []
    for i, suggestion in enumerate(suggestions):
        points = [inner[p.id] for p in suggestion.shared_coauthors if p.id in inner]
        if points:
            angle = math.atan2(sum(y for _, y in points), sum(x for x, _ in points))
        else:
            angle = math.pi / 2 - i * 2 * math.pi / len(suggestions)
        wanted.append((angle % (2 * math.pi), suggestion.id))
    placed: dict[int, tuple[float, float]] = {}
    previous = -math.inf
    for angle, sid in sorted(wanted):
        angle = max(angle, previous + spacing)
        previous = angle
        placed[sid] = (2.0 * math.cos(angle), 2.0 * math.sin(angle))
    return placed


def layout(collaborators: Collaborators) -> tuple[tuple[GraphNode, ...], tuple[tuple[int, int], ...]]:
    """Nodes on concentric shells and the edges between them; a pure function of the input."""
    rid = collaborators.researcher_id
    names = {rid: collaborators.researcher_name}
    close: list[int] = []
    for person in collaborators.close:
        names[person.id] = person.name
        close.append(person.id)
    for suggestion in collaborators.suggestions:
        for bridge in suggestion.shared_coauthors[:2]:
            names.setdefault(bridge.id, bridge.name)
            if bridge.id not in close:
                close.append(bridge.id)
    close = close[:MAX_CLOSE_NODES]
    suggested = [s.id for s in collaborators.suggestions]
    names.update({s.id: s.name for s in collaborators.suggestions})
    inner = _ring(close, 1.0)
    positions = {rid: (0.0, 0.0), **inner, **_outer_ring(collaborators, inner)}
    kinds = {rid: "researcher", **dict.fromkeys(close, "close"), **dict.fromkeys(suggested, "suggested")}
    edges = [(rid, c) for c in close]
    edges += [
        (s.id, person.id)
        for s in collaborators.suggestions
        for person in s.shared_coauthors
        if person.id in positions
    ]
    nodes = tuple(GraphNode(n, names[n], kinds[n], *positions[n]) for n in [rid, *close, *suggested])
    return nodes, tuple(edges)


def render_png(nodes: tuple[GraphNode, ...], edges: tuple[tuple[int, int], ...], title: str) -> bytes:
    """Draw the laid-out graph; the same input gives the same bytes."""
    # Imported here: matplotlib costs ~0.5 s at start-up, which CLI commands need not pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(9, 7.5), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-2.9, 2.9)
    ax.set_ylim(-2.7, 2.7)
    at = {node.id: node for node in nodes}
    for a, b in edges:
        dashed = "suggested" in (at[a].kind, at[b].kind)
        ax.plot(
            [at[a].x, at[b].x],
            [at[a].y, at[b].y],
            color=EDGE_COLOUR,
            linewidth=1.2,
            linestyle="--" if dashed else "-",
            zorder=1,
        )
    style = {
        "researcher": (RESEARCHER_COLOUR, 900),
        "close": (CLOSE_COLOUR, 420),
        "suggested": (SUGGESTED_COLOUR, 420),
    }
    for node in nodes:
        colour, size = style[node.kind]
        ax.scatter([node.x], [node.y], s=size, color=colour, zorder=2, edgecolors="white", linewidths=1.5)
        ax.text(
            node.x,
            node.y - (0.24 if node.kind == "researcher" else 0.17),
            truncate(node.name, LABEL),
            ha="center",
            va="top",
            fontsize=10 if node.kind == "researcher" else 8.5,
            fontweight="bold" if node.kind == "researcher" else "normal",
            parse_math=False,  # a "$" in a name is text, not mathtext
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.0},
            zorder=3,
        )
    ax.set_title(title, fontsize=13, parse_math=False)
    legend = [
        Line2D([], [], marker="o", linestyle="", markersize=10, color=colour, label=label)
        for colour, label in (
            (RESEARCHER_COLOUR, "Researcher"),
            (CLOSE_COLOUR, "Close collaborator (co-author)"),
            (SUGGESTED_COLOUR, "Suggested collaborator"),
        )
    ]
    ax.legend(handles=legend, loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=3, frameon=False)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Names in scripts the bundled font lacks draw as boxes; that is not worth a warning.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        figure.savefig(buffer, format="png", metadata=PNG_METADATA)
    return buffer.getvalue()


def alt_text(collaborators: Collaborators) -> str:
    """What the picture shows, in words, for screen readers (Slack's alt text limit)."""
    close = ", ".join(p.name for p in collaborators.close)
    more = collaborators.close_total - len(collaborators.close)
    text = f"Research graph of {collaborators.researcher_name}. "
    if close:
        text += f"Close collaborators (co-authors): {close}{f' and {more} more' if more > 0 else ''}. "
    else:
        text += "No co-authors in the store. "
    if collaborators.suggestions:
        text += "Suggested collaborators: " + ", ".join(s.name for s in collaborators.suggestions) + "."
    else:
        text += "No suggested collaborators yet."
    return truncate(text, ALT_TEXT)


def graph_picture(collaborators: Collaborators) -> GraphPicture:
    """Lay out, draw and describe one neighbourhood."""
    nodes, edges = layout(collaborators)
    title = truncate(f"Research graph: {collaborators.researcher_name}", 100)
    return GraphPicture(
        png=render_png(nodes, edges, title),
        filename=f"bzpeer-research-graph-{collaborators.researcher_id}.png",
        title=title,
        alt_text=alt_text(collaborators),
        nodes=nodes,
        edges=edges,
        collaborators=collaborators,
    )
