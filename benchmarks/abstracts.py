"""Abstracts for the synthetic store: 120–250 words with a Zipf-like vocabulary and domain phrases.

Words follow a Zipf–Mandelbrot law over one frequency-ordered list: function words ("the",
"of", "we") first, then the common words of scientific writing ("model", "data", "results"),
then every other word of the topic, title and sentence lists as the long tail. So a few words
are in every abstract, "model" in about four in ten and a tail word in a few percent, which is
what makes a one-word search heavy and a three-word one light. Each abstract opens with two or
three template sentences about its topic and object; about one work in four names one or two
domain phrases ("diffusion models", "influence functions") one to three times each, the phrases
Zipf-distributed too: the most common in about 6 % of works, a rare one in about 0.1 %.

The random draws are made in numpy a chunk of works at a time: the same seed, the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import numpy as np

from benchmarks.vocab import (
    ABSTRACT_ADJECTIVES,
    ABSTRACT_PHRASES,
    ABSTRACT_SENTENCES,
    ABSTRACT_WORDS,
    TITLE_METHODS,
    TITLE_OBJECTS,
    TOPIC_FIELDS,
    TOPIC_TEMPLATES,
)

MIN_WORDS, MAX_WORDS = 120, 250
# Zipf–Mandelbrot: the word of rank r is drawn with weight 1 / (r + SHIFT) ** EXPONENT.
EXPONENT = 1.0
SHIFT = 2.7
# Domain phrases named per work (Poisson mean), each one to three times.
PHRASES_PER_WORK = 0.3
SENTENCE_WORDS = (12, 28)
CHUNK = 5_000
_TOKEN = re.compile(r"[a-z][a-z-]*")
_PLACEHOLDER = re.compile(r"\{\w+\}")


def vocabulary() -> list[str]:
    """Every abstract word, most frequent first: the listed words, then the tail in file order."""
    words = list(dict.fromkeys(ABSTRACT_WORDS))
    seen = set(words)
    for source in (TOPIC_FIELDS, TOPIC_TEMPLATES, TITLE_METHODS, TITLE_OBJECTS, ABSTRACT_SENTENCES):
        for entry in source:
            for word in _TOKEN.findall(_PLACEHOLDER.sub(" ", entry).lower()):
                if word not in seen:
                    seen.add(word)
                    words.append(word)
    return words


def _zipf(count: int) -> np.ndarray:
    weights = 1.0 / (np.arange(1, count + 1) + SHIFT) ** EXPONENT
    return np.cumsum(weights / weights.sum())


class AbstractMaker:
    """Abstracts for works, in work order, drawn a chunk at a time."""

    def __init__(self, seed: int, topic_names: Sequence[str]) -> None:
        self._rng = np.random.default_rng([seed, 17])
        self._words = np.array(vocabulary(), dtype=object)
        self._word_cdf = _zipf(len(self._words))
        self._phrase_cdf = _zipf(len(ABSTRACT_PHRASES))
        self._topics = [name.lower() for name in topic_names]

    def _draw(self, cdf: np.ndarray, shape: int | tuple[int, int]) -> np.ndarray:
        index = np.searchsorted(cdf, self._rng.random(shape) * cdf[-1], side="right")
        return np.minimum(index, len(cdf) - 1)

    def abstracts(
        self, topics: Sequence[int], years: Sequence[int], present: Sequence[bool]
    ) -> Iterator[str | None]:
        """One abstract per work (None where `present` is false), for works of these topics and years."""
        for start in range(0, len(topics), CHUNK):
            stop = min(start + CHUNK, len(topics))
            yield from self._chunk(topics[start:stop], years[start:stop], present[start:stop])

    def _chunk(
        self, topics: Sequence[int], years: Sequence[int], present: Sequence[bool]
    ) -> Iterator[str | None]:
        rng, n = self._rng, len(topics)
        lengths = rng.integers(MIN_WORDS, MAX_WORDS + 1, n).tolist()
        openings = rng.integers(2, 4, n).tolist()
        order = rng.random((n, len(ABSTRACT_SENTENCES))).argsort(axis=1)[:, :3].tolist()
        objects = rng.integers(0, len(TITLE_OBJECTS), n).tolist()
        adjectives = rng.integers(0, len(ABSTRACT_ADJECTIVES), n).tolist()
        numbers = rng.integers(12, 90_001, (n, 3)).tolist()
        filler = self._words[self._draw(self._word_cdf, (n, MAX_WORDS))].tolist()
        cuts = rng.integers(*SENTENCE_WORDS, (n, MAX_WORDS // SENTENCE_WORDS[0] + 1)).tolist()
        phrase_counts = rng.poisson(PHRASES_PER_WORK, n).tolist()
        phrases = self._draw(self._phrase_cdf, (n, 4)).tolist()
        repeats = rng.integers(1, 4, (n, 4)).tolist()
        places = rng.random((n, 12)).tolist()
        for i in range(n):
            if not present[i]:
                yield None
                continue
            values = {
                "o": TITLE_OBJECTS[objects[i]],
                "t": self._topics[topics[i]],
                "a": ABSTRACT_ADJECTIVES[adjectives[i]],
                "n": numbers[i][0],
                "y1": years[i] - numbers[i][1] % 11 - 2,
                "y2": years[i] - 1,
                "p": numbers[i][2] % 43 + 3,
            }
            opening = [ABSTRACT_SENTENCES[s].format_map(values) for s in order[i][: openings[i]]]
            named = [
                ABSTRACT_PHRASES[p]
                for p, times in zip(phrases[i][: phrase_counts[i]], repeats[i], strict=False)
                for _ in range(times)
            ][: len(places[i])]
            budget = lengths[i] - sum(text.count(" ") + 1 for text in opening + named)
            words = filler[i][: max(0, budget)]
            for k, phrase in enumerate(named):
                words.insert(int(places[i][k] * (len(words) + 1)), phrase)
            sentences, at = [], 0
            for cut in cuts[i]:
                if at >= len(words):
                    break
                piece = " ".join(words[at : at + cut])
                sentences.append(piece[0].upper() + piece[1:] + ".")
                at += cut
            yield " ".join(opening + sentences)
