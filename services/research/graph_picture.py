"""The research graph picture: a researcher's co-authorship neighbourhood as a PNG.

The graph and its layout come from graph_layout.py (networkx); this draws it with matplotlib's
object API on an Agg canvas (no pyplot, no display, no global state), 1200 × 1200 px with large
type so that it reads on a phone: lines as wide as the shared works, suggestions as orange
diamonds on dashed links, labels pushed apart so that none overlaps another or a node, and a
legend of only what is drawn.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.research.collaborator_queries import list_links_among
from services.research.collaborators import Collaborators, Limits, collaborators_of
from services.research.graph_layout import (
    AMONG,
    COAUTHOR,
    MAX_COAUTHORS,
    RESEARCHER,
    SUGGESTED,
    TIE,
    TO_SUGGESTION,
    Box,
    GraphEdge,
    GraphNode,
    edges_of,
    layout,
    neighbourhood_graph,
    nodes_of,
    spread_labels,
)
from services.research.profiles import Resolved, find_researcher
from services.store.models import Researcher
from services.store.text import plural, truncate

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

Link = tuple[int, int, int]  # a stored co-author edge: a, b, shared works
COLOUR = {RESEARCHER: "#1d3557", COAUTHOR: "#2a9d8f", SUGGESTED: "#e76f51"}
EDGE_COLOUR = {TIE: "#a3acbd", AMONG: "#2a9d8f", TO_SUGGESTION: "#e76f51"}
MARKER = {RESEARCHER: "o", COAUTHOR: "o", SUGGESTED: "D"}
NODE_SIZE = {RESEARCHER: 1400, COAUTHOR: 420, SUGGESTED: 460}  # points², as scatter takes them
FONT = {RESEARCHER: 22, COAUTHOR: 15, SUGGESTED: 15}
SIZE_INCHES, DPI = 12, 100  # 1200 × 1200 px
# Nodes fill [-1, 1]; the axes reach LIMIT, leaving room for the labels on the rim.
LIMIT = 1.22
LABEL = 22  # characters of a name on the picture
ALT_TEXT = 1000  # Slack's limit on a file's alt text
# The PNG carries no timestamp; pinning the software tag keeps the bytes stable across upgrades.
PNG_METADATA = {"Software": "bzpeer"}


@dataclass(frozen=True)
class GraphPicture:
    png: bytes
    filename: str
    title: str
    alt_text: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    collaborators: Collaborators


class GraphPictureService:
    """Reads a researcher's neighbourhood and draws it (the upload is the caller's business)."""

    def __init__(self, engine: Engine, *, limits: Limits | None = None) -> None:
        self._engine = engine
        self._limits = replace(limits or Limits(), close_shown=MAX_COAUTHORS)

    def find(self, query: str) -> Resolved[GraphPicture]:
        """The picture for whoever QUERY names, or why there is none (pick list, nobody…)."""
        with Session(self._engine) as session:
            lookup, researcher = find_researcher(session=session, query=query)
            if researcher is None:
                return Resolved(lookup)
            found = self._read(session, researcher)
        return Resolved(lookup, graph_picture(*found))

    def picture(self, researcher_id: int) -> GraphPicture | None:
        """The picture of one researcher's neighbourhood; None when they are gone."""
        with Session(self._engine) as session:
            researcher = session.get(Researcher, researcher_id)
            if researcher is None:
                return None
            found = self._read(session, researcher)
        return graph_picture(*found)  # drawn after the session is back in the pool

    def _read(self, session: Session, researcher: Researcher) -> tuple[Collaborators, list[Link]]:
        collaborators = collaborators_of(session=session, researcher=researcher, limits=self._limits)
        people = {
            collaborators.researcher_id,
            *(c.id for c in collaborators.close),
            *(s.id for s in collaborators.suggestions),
            *(p.id for s in collaborators.suggestions for p in s.shared_coauthors[:1]),
        }
        return collaborators, list_links_among(session=session, researcher_ids=people)


def short_name(name: str, limit: int = LABEL) -> str:
    """A name that fits a label: given names cut to initials when it is long, then truncated."""
    name = " ".join(name.split())
    parts = name.split(" ")
    if len(name) <= limit or len(parts) < 2:
        return truncate(name, limit)
    initials = " ".join(p[0] + "." for p in parts[:-1])
    for shorter in (f"{initials} {parts[-1]}", f"{parts[0][0]}. {parts[-1]}"):
        if len(shorter) <= limit:
            return shorter
    return shorter[: limit - 1] + "…"  # one long family name: cut it, not the whole label


def line_width(works: int) -> float:
    """Points: 1.5 for one shared work, growing with the logarithm, at most 9."""
    return min(1.5 + 2.5 * math.log2(max(works, 1)), 9.0)


def subtitle(collaborators: Collaborators, nodes: tuple[GraphNode, ...]) -> str:
    drawn = sum(1 for n in nodes if n.kind == COAUTHOR)
    total = max(collaborators.close_total, drawn)
    coauthors = plural(drawn, "co-author")
    if total > drawn:
        coauthors = f"top {drawn} of {plural(total, 'co-author')} by shared works"
    suggested = len(collaborators.suggestions)
    return f"{coauthors} · {plural(suggested, 'suggested collaborator')}"


def _legend(nodes: tuple[GraphNode, ...], edges: tuple[GraphEdge, ...]) -> list[Artist]:
    from matplotlib.lines import Line2D

    kinds = {n.kind for n in nodes}
    edge_kinds = {e.kind for e in edges}
    entries: list[Artist] = []
    for kind, label in (
        (RESEARCHER, "Researcher"),
        (COAUTHOR, "Co-author"),
        (SUGGESTED, "Suggested collaborator"),
    ):
        if kind in kinds:
            marker = MARKER[kind]
            entries.append(
                Line2D([], [], marker=marker, linestyle="", markersize=16, color=COLOUR[kind], label=label)
            )
    for kind, label in (
        (TIE, "Shared works (wider: more)"),
        (AMONG, "Co-authors who wrote together"),
        (TO_SUGGESTION, "Suggestion's shared co-author"),
    ):
        if kind in edge_kinds:
            dashed = kind == TO_SUGGESTION
            entries.append(
                Line2D(
                    [],
                    [],
                    color=EDGE_COLOUR[kind],
                    linewidth=4,
                    linestyle="--" if dashed else "-",
                    label=label,
                )
            )
    return entries


def _label_boxes(ax: Axes, figure: Figure, nodes: tuple[GraphNode, ...], texts: list[Text]) -> list[Box]:
    """Each label's first place: just outside its node, away from the centre."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's canvas has one
    to_data = ax.transData.inverted()
    boxes = []
    for node, text in zip(nodes, texts, strict=True):
        extent = text.get_window_extent(renderer)
        (x0, y0), (x1, y1) = to_data.transform([(extent.x0, extent.y0), (extent.x1, extent.y1)])
        width, height = abs(x1 - x0), abs(y1 - y0)
        if node.kind == RESEARCHER:
            boxes.append(Box(node.x, node.y - 0.09 - height / 2, width, height))
            continue
        distance = math.hypot(node.x, node.y) or 1.0
        ux, uy = node.x / distance, node.y / distance
        gap = 0.045
        boxes.append(Box(node.x + ux * (gap + width / 2), node.y + uy * (gap + height / 2), width, height))
    return boxes


def render_png(
    nodes: tuple[GraphNode, ...], edges: tuple[GraphEdge, ...], title: str, subtitle: str
) -> bytes:
    """Draw the laid-out graph; the same input gives the same bytes."""
    with warnings.catch_warnings():
        # Names in scripts the bundled font lacks draw as boxes; that is not worth a warning.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        return _draw(nodes, edges, title, subtitle)


def _draw(nodes: tuple[GraphNode, ...], edges: tuple[GraphEdge, ...], title: str, subtitle: str) -> bytes:
    # Imported here: matplotlib costs ~0.5 s at start-up, which CLI commands need not pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(SIZE_INCHES, SIZE_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.01, 0.1, 0.98, 0.8))
    ax.set_axis_off()
    ax.set_xlim(-LIMIT, LIMIT)
    ax.set_ylim(-LIMIT, LIMIT)
    at = {node.id: node for node in nodes}
    for edge in edges:
        a, b = at[edge.a], at[edge.b]
        ax.plot(
            [a.x, b.x],
            [a.y, b.y],
            color=EDGE_COLOUR[edge.kind],
            linewidth=line_width(edge.works),
            linestyle="--" if edge.kind == TO_SUGGESTION else "-",
            alpha=0.4 if edge.kind == TIE else 0.85,
            solid_capstyle="round",
            zorder=1,
        )
    for node in nodes:
        ax.scatter(
            [node.x],
            [node.y],
            s=NODE_SIZE[node.kind],
            marker=MARKER[node.kind],
            color=COLOUR[node.kind],
            edgecolors="white",
            linewidths=2,
            zorder=2,
        )
    texts = [
        ax.text(
            node.x,
            node.y,
            short_name(node.name, 30 if node.kind == RESEARCHER else LABEL),
            ha="center",
            va="center",
            fontsize=FONT[node.kind],
            fontweight="bold" if node.kind == RESEARCHER else "normal",
            color="#1b1b1b",
            parse_math=False,  # a "$" in a name is text, not mathtext
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
            zorder=4,
        )
        for node in nodes
    ]
    first = _label_boxes(ax, figure, nodes, texts)
    dot = 0.05  # a node's box for the labels to keep off, in data units
    obstacles = [Box(n.x, n.y, dot * (2 if n.kind == RESEARCHER else 1), dot) for n in nodes]
    placed = spread_labels(first, obstacles, limit=LIMIT, pad=0.02)
    for node, text, box, start in zip(nodes, texts, placed, first, strict=True):
        text.set_position((box.x, box.y))
        if math.hypot(box.x - start.x, box.y - start.y) > 0.08:  # moved far: show whose it is
            ax.plot([node.x, box.x], [node.y, box.y], color="#adb5bd", linewidth=1, zorder=3)
    figure.text(0.5, 0.965, title, ha="center", va="center", fontsize=26, fontweight="bold", parse_math=False)
    figure.text(0.5, 0.925, subtitle, ha="center", va="center", fontsize=16, color="#495057")
    figure.legend(handles=_legend(nodes, edges), loc="lower center", ncol=3, fontsize=14, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=PNG_METADATA)
    return buffer.getvalue()


def alt_text(collaborators: Collaborators, nodes: tuple[GraphNode, ...], edges: tuple[GraphEdge, ...]) -> str:
    """What the picture shows, in words, for screen readers (Slack's alt text limit)."""
    coauthors = [n for n in nodes if n.kind == COAUTHOR]
    text = f"Research graph of {collaborators.researcher_name}. "
    if coauthors:
        more = collaborators.close_total - len(coauthors)
        listed = ", ".join(f"{n.name} ({n.works})" for n in coauthors)
        text += f"Co-authors, with shared works: {listed}{f' and {more} more' if more > 0 else ''}. "
        among = sum(1 for e in edges if e.kind == AMONG)
        text += f"{plural(among, 'link')} between co-authors who wrote together. "
    else:
        text += "No co-authors in the store. "
    if collaborators.suggestions:
        text += "Suggested collaborators: " + ", ".join(s.name for s in collaborators.suggestions) + "."
    else:
        text += "No suggested collaborators yet."
    return truncate(text, ALT_TEXT)


def graph_picture(collaborators: Collaborators, links: list[Link]) -> GraphPicture:
    """Build, lay out, draw and describe one neighbourhood."""
    graph = neighbourhood_graph(collaborators, links)
    nodes = nodes_of(graph, layout(graph, collaborators.researcher_id))
    edges = edges_of(graph)
    title = truncate(f"Research graph: {collaborators.researcher_name}", 100)
    return GraphPicture(
        png=render_png(nodes, edges, truncate(title, 60), subtitle(collaborators, nodes)),
        filename=f"bzpeer-research-graph-{collaborators.researcher_id}.png",
        title=title,
        alt_text=alt_text(collaborators, nodes, edges),
        nodes=nodes,
        edges=edges,
        collaborators=collaborators,
    )
