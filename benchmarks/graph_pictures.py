"""Draw the research graph pictures shown in the README (docs/graph-*.png): the demo researcher,
and a 10- and a 25-co-author neighbourhood built in a scratch store (labs of co-authors who
write together, a few people two steps away to suggest; the 25 are the strongest of 32).

    python -m benchmarks.graph_pictures [--out docs]

The pictures are what `/peer graph` sends; look at them after changing graph_layout.py or
graph_picture.py, and commit them with the change.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine

from services.research.demo import DemoService
from services.research.graph_picture import GraphPictureService
from services.store.engine import make_engine, upgrade
from tests.store_support import StoreBuilder

GIVEN = [
    "Amara", "Bogdan", "Chiara", "Dmitri", "Elif", "Farhan", "Greta", "Hiroshi", "Ines", "Jonas",
    "Kavya", "Lucía", "Mateus", "Nadia", "Oskar", "Priya", "Quentin", "Rania", "Sven", "Tomasz",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zofia", "Anneliese Marguerite", "Jean-Baptiste",
]  # fmt: skip
FAMILY = [
    "Okafor", "Novak", "Rossi", "Ivanov", "Yılmaz", "Rahman", "Lindqvist", "Tanaka", "Ferreira",
    "Weber", "Raghunathan", "Moreno", "Silva", "Haddad", "Nilsson", "Venkatasubramanian",
    "Dubois", "Khalil", "Berg", "Kowalczyk", "Chen", "Petrov", "Zhang", "Castillo",
    "Demir", "Wiśniewska", "von Hohenzollern-Sigmaringen", "Abernathy-Castellanos",
]  # fmt: skip


def _names(rng: random.Random, count: int) -> list[str]:
    pairs = [(g, f) for g in GIVEN for f in FAMILY]
    return [f"{g} {f}" for g, f in rng.sample(pairs, count)]


def neighbourhood(engine: Engine, name: str, *, coauthors: int, labs: int, outsiders: int, seed: int) -> int:
    """A researcher with `coauthors` co-authors in `labs` labs (who also write together, some
    more than others) and `outsiders` people who wrote with a few of the co-authors only."""
    rng = random.Random(seed)
    store = StoreBuilder(engine, prefix=f"pic{seed}")
    me, *others = store.researchers([name, *_names(rng, coauthors + outsiders)])
    people, strangers = others[:coauthors], others[coauthors:]
    bylines: list[list[int]] = []
    for rank, person in enumerate(people):
        # The first few are close ties (many works together), the tail wrote once or twice.
        for _ in range(max(1, 9 - rank // 2) if rank < 12 else rng.choice([1, 1, 2])):
            bylines.append([me, person])
    lab_of = {person: i % labs for i, person in enumerate(people)}
    for lab in range(labs):
        members = [p for p in people if lab_of[p] == lab]
        for _ in range(len(members)):
            bylines.append([me, *rng.sample(members, min(len(members), rng.choice([2, 2, 3])))])
    for stranger in strangers:
        for coauthor in rng.sample(people[:15], rng.choice([1, 2, 3])):
            bylines.append([stranger, coauthor])
    store.works(bylines)
    return me


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("docs"), help="where the PNGs go (default docs/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/pictures.db")
        upgrade(engine)
        DemoService(engine).load()
        pictures = GraphPictureService(engine)
        ten = neighbourhood(engine, "Marisol Achterberg", coauthors=10, labs=3, outsiders=4, seed=10)
        many = neighbourhood(
            engine, "Oluwaseun Adeyemi-Fairbanks", coauthors=32, labs=5, outsiders=8, seed=25
        )
        demo = pictures.find("Samyadeep Basu").result
        drawn = {
            "graph-demo.png": demo,
            "graph-10.png": pictures.picture(ten),
            "graph-25.png": pictures.picture(many),
        }
        for filename, picture in drawn.items():
            assert picture is not None
            (args.out / filename).write_bytes(picture.png)
            coauthors = sum(1 for n in picture.nodes if n.kind == "coauthor")
            size = f"{len(picture.png):,} bytes"
            print(f"{args.out / filename}: {coauthors} co-authors, {len(picture.edges)} edges, {size}")
        engine.dispose()


if __name__ == "__main__":
    main()
