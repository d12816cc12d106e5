"""What `benchmarks.bench_collab` measures, for it and for the tables it prints
(benchmarks/collab_tables.py): the researchers asked about, one sample per request, the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from benchmarks.naive import NaiveRun
from services.research.collaborators import Collaborators


@dataclass(frozen=True)
class Subject:
    researcher_id: int
    group: str
    works: int
    big: bool  # on at least one work with BIG_WORK or more authors

    @property
    def openalex_id(self) -> str:
        # benchmarks.rows gives every synthetic researcher this id.
        return f"A9{self.researcher_id:09d}"


@dataclass(frozen=True)
class Sample:
    subject: Subject
    command: str  # collaborators | papers | page
    seconds: float
    cpu_seconds: float
    sql_seconds: float
    outcome: str
    page: int = 0  # papers paging: the page shown


@dataclass(frozen=True)
class ServiceSample:
    """One `CollaboratorService.collaborators` call in-process (no Slack), with its search size."""

    subject: Subject
    seconds: float
    found: Collaborators


@dataclass
class Run:
    """Everything measured, for the tables."""

    samples: list[Sample] = field(default_factory=list)
    paging: list[Sample] = field(default_factory=list)
    service: list[ServiceSample] = field(default_factory=list)
    memory_peaks: dict[int, float] = field(default_factory=dict)  # researcher → tracemalloc MiB
    naive: NaiveRun | None = None
    sql: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)  # per SQL label
    loads: list[tuple[str, float]] = field(default_factory=list)
