"""Okapi BM25 over fielded texts.

Each indexed item is a few fields (body, title, keywords), each with a weight. A field's term
counts are multiplied by its weight before BM25's saturation, the simple BM25F form: a word in a
document's title counts like several in its body, while term saturation (``k1``) still keeps one
repeated word from dominating. Length normalisation (``b``) uses the same weighted length.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Field:
    """One field of an item to index: its token counts and how much each occurrence counts.

    Build it once with ``Field.of`` and share it between items (a document's title field serves
    every passage of that document).
    """

    counts: Mapping[str, int]
    length: int
    weight: float = 1.0

    @classmethod
    def of(cls, tokens: Sequence[str], weight: float = 1.0) -> Field:
        return cls(counts=Counter(tokens), length=len(tokens), weight=weight)


@dataclass(frozen=True)
class Bm25Index:
    """An inverted index with BM25 scoring; items are numbered in the order they were given."""

    postings: Mapping[str, tuple[tuple[int, float], ...]]
    lengths: tuple[float, ...]
    average_length: float
    k1: float = K1
    b: float = B

    @classmethod
    def build(cls, items: Sequence[Sequence[Field]], k1: float = K1, b: float = B) -> Bm25Index:
        postings: dict[str, list[tuple[int, float]]] = {}
        lengths: list[float] = []
        for number, fields in enumerate(items):
            weighted: dict[str, float] = {}
            length = 0.0
            for field in fields:
                length += field.weight * field.length
                weight = field.weight
                for token, count in field.counts.items():
                    weighted[token] = weighted.get(token, 0.0) + weight * count
            lengths.append(length)
            for token, frequency in weighted.items():
                entries = postings.get(token)
                if entries is None:
                    postings[token] = [(number, frequency)]
                else:
                    entries.append((number, frequency))
        average = sum(lengths) / len(lengths) if lengths else 0.0
        return cls(
            postings={token: tuple(entries) for token, entries in postings.items()},
            lengths=tuple(lengths),
            average_length=average,
            k1=k1,
            b=b,
        )

    @property
    def size(self) -> int:
        return len(self.lengths)

    def idf(self, token: str) -> float:
        """Inverse document frequency; the +1 inside the log keeps very common words positive."""
        containing = len(self.postings.get(token, ()))
        return math.log((self.size - containing + 0.5) / (containing + 0.5) + 1.0)

    def scores(
        self, query: Sequence[str], weights: Mapping[str, float] | None = None
    ) -> dict[int, float]:
        """BM25 score of every item matching at least one query token (repeats count once).

        ``weights`` scales single query tokens (1.0 when absent), e.g. for expansion terms.
        """
        totals: dict[int, float] = {}
        if not self.size or self.average_length <= 0:
            return totals
        for token in dict.fromkeys(query):
            entries = self.postings.get(token)
            if not entries:
                continue
            idf = self.idf(token) * (1.0 if weights is None else weights.get(token, 1.0))
            for number, frequency in entries:
                norm = 1.0 - self.b + self.b * self.lengths[number] / self.average_length
                gain = idf * frequency * (self.k1 + 1.0) / (frequency + self.k1 * norm)
                totals[number] = totals.get(number, 0.0) + gain
        return totals

    def top(
        self, query: Sequence[str], limit: int, weights: Mapping[str, float] | None = None
    ) -> list[tuple[int, float]]:
        """The best ``limit`` items, highest score first; ties go to the earlier item."""
        ranked = sorted(self.scores(query, weights).items(), key=lambda item: (-item[1], item[0]))
        return ranked[:limit]
