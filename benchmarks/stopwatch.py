"""Time named functions inside a run without touching their modules' source: while the
`Stopwatches` context is open, each listed attribute is replaced by a timing wrapper."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stopwatches:
    """Seconds and calls per label, over every call while patched (nested calls count in both)."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)

    def _wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed

    @contextmanager
    def patched(self, targets: list[tuple[object, str, str]]) -> Iterator[Stopwatches]:
        """Wrap `owner.attribute` (labelled `label`) for each (owner, attribute, label) target."""
        # A class attribute inherited from a base is deleted again rather than copied down.
        originals = [(owner, name, getattr(owner, name), name in vars(owner)) for owner, name, _ in targets]
        try:
            for (owner, name, original, _), (_, _, label) in zip(originals, targets, strict=True):
                setattr(owner, name, self._wrap(label, original))
            yield self
        finally:
            for owner, name, original, own in originals:
                if own:
                    setattr(owner, name, original)
                else:
                    delattr(owner, name)
