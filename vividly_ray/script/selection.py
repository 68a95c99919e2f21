"""Choosing what to narrate: on-topic passages, readable sentences, enough for the minutes asked.

Passages below a relevance floor (a share of the best passage's score) never get in, so a short
library gives a short honest script instead of padding. The best document is used first; when it
runs out, the next-most-relevant on-topic passages follow. Concept scenes keep the documents' own
paragraph order so the explanation flows as the authors wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import Grade, Retrieval
from vividly_ray.library.passages import passage_position
from vividly_ray.library.text import tokenize
from vividly_ray.script.bullets import summarize
from vividly_ray.script.editing import narration_sentences, readability

RELEVANCE_FLOOR = 0.6  # a passage scoring under this share of the best one is off topic
MIN_CONCEPTS = 3
MAX_CONCEPTS = 8
TOLERANCE = 0.05  # aim inside +-5% so the spoken result lands inside +-10%
LIMIT = 2 * TOLERANCE  # a plan estimated further off than this is a last resort
# Sentences per passage to try, in order of preference: three covers more of a topic in short
# scenes; more per passage is for long videos or a library with few matching passages.
_CAPS: tuple[int | None, ...] = (3, 2, 4, 5, 6, None)


@dataclass(frozen=True)
class Sentence:
    """A narratable sentence of a passage; ``order`` is its place in the passage."""

    text: str
    order: int
    score: float


@dataclass(frozen=True)
class Candidate:
    """An on-topic passage with its narratable sentences, ready to be chosen."""

    passage_id: str
    source_id: str
    document_rank: int
    position: int
    priority: float
    sentences: tuple[Sentence, ...]

    def pick(self, count: int) -> tuple[Sentence, ...]:
        """The opening sentence plus the best others, ``count`` in all, in passage order."""
        if count >= len(self.sentences):
            return self.sentences
        first, rest = self.sentences[0], self.sentences[1:]
        best = sorted(rest, key=lambda s: (-s.score, s.order))[: max(0, count - 1)]
        return tuple(sorted((first, *best), key=lambda s: s.order))


@dataclass(frozen=True)
class Section:
    """Sentences planned for one concept scene and the documents they came from."""

    source_ids: tuple[str, ...]
    sentences: tuple[str, ...]


Choice = tuple[Candidate, tuple[Sentence, ...]]


def _sentence_score(text: str, query: frozenset[str], grade: Grade) -> float:
    tokens = set(tokenize(text))
    relevance = len(query & tokens) / len(query) if query else 0.0
    defines = 1.0 if summarize(text).defines else 0.0
    return 0.45 * relevance + 0.35 * readability(text, grade).ease + 0.2 * defines


def candidates(retrieval: Retrieval, query: Sequence[str], grade: Grade) -> list[Candidate]:
    """On-topic passages in the order they should be used: best document first."""
    ranked = [r for r in retrieval.passages if r.score > 0]
    if not ranked:
        return []
    top = max(r.score for r in ranked)
    wanted = frozenset(query)
    creditable = {source.source_id for source in retrieval.sources}
    document_rank: dict[str, int] = {}
    found: list[Candidate] = []
    for rank, retrieved in enumerate(ranked):
        passage = retrieved.passage
        document_rank.setdefault(passage.source_id, len(document_rank))
        # Off topic, or from a document the credits could not name: never narrated.
        if retrieved.score < RELEVANCE_FLOOR * top or passage.source_id not in creditable:
            continue
        texts = narration_sentences(passage.text, grade)
        if not texts:
            continue
        sentences = tuple(
            Sentence(text, order, _sentence_score(text, wanted, grade))
            for order, text in enumerate(texts)
        )
        ease = sum(readability(t, grade).ease for t in texts) / len(texts)
        position = passage_position(passage.passage_id)
        found.append(
            Candidate(
                passage_id=passage.passage_id,
                source_id=passage.source_id,
                document_rank=document_rank[passage.source_id],
                position=rank if position is None else position,
                priority=retrieved.score / top * (0.7 + 0.3 * ease),
                sentences=sentences,
            )
        )
    # The best document first, in its own order (its authors built the explanation up that way),
    # then passages of other documents by how useful they are.
    return sorted(
        found,
        key=lambda c: (
            c.document_rank != 0,
            c.position if c.document_rank == 0 else 0,
            -c.priority,
            c.passage_id,
        ),
    )


_Part = tuple[tuple[str, ...], list[str]]  # source ids and sentences of one planned scene


def _join(parts: list[_Part], i: int) -> None:
    """Join part ``i`` and part ``i + 1`` in place."""
    sources = tuple(dict.fromkeys(parts[i][0] + parts[i + 1][0]))
    parts[i : i + 2] = [(sources, parts[i][1] + parts[i + 1][1])]


def _absorb_single_sentences(parts: list[_Part]) -> None:
    """A one-sentence part joins a neighbour from the same document: a scene needs two bullets."""
    n = 0
    while n < len(parts) and len(parts) > MIN_CONCEPTS:
        neighbours = [
            other
            for other in (n - 1, n + 1)
            if len(parts[n][1]) == 1 and 0 <= other < len(parts) and parts[other][0] == parts[n][0]
        ]
        if neighbours:
            _join(parts, min(n, neighbours[0]))
        else:
            n += 1


def _join_down_to_max(parts: list[_Part]) -> None:
    """Join the smallest neighbouring pairs, same document first, until at most the maximum."""

    def cost(i: int) -> tuple[bool, int, int]:
        same = parts[i][0] == parts[i + 1][0]
        return (not same, len(parts[i][1]) + len(parts[i + 1][1]), i)

    while len(parts) > MAX_CONCEPTS:
        _join(parts, min(range(len(parts) - 1), key=cost))


def _split_up_to_min(parts: list[_Part]) -> None:
    """Halve the longest parts until the minimum, never leaving a one-sentence scene."""
    while parts and len(parts) < MIN_CONCEPTS:
        i = max(range(len(parts)), key=lambda n: (len(parts[n][1]), -n))
        sources, texts = parts[i]
        if len(texts) < 4:
            return
        half = (len(texts) + 1) // 2
        parts[i : i + 1] = [(sources, texts[:half]), (sources, texts[half:])]


def group(chosen: Sequence[Choice]) -> list[Section]:
    """Concept sections in document order: one per passage, joined or split into 3-8."""
    ordered = sorted(chosen, key=lambda c: (c[0].document_rank, c[0].position, c[0].passage_id))
    parts: list[_Part] = [
        ((candidate.source_id,), [s.text for s in picked]) for candidate, picked in ordered
    ]
    _absorb_single_sentences(parts)
    _join_down_to_max(parts)
    _split_up_to_min(parts)
    return [Section(source_ids=sources, sentences=tuple(texts)) for sources, texts in parts]


def _greedy(
    pool: Sequence[Candidate],
    cap: int | None,
    estimate: Callable[[list[Section]], float],
    target: float,
    seeded: bool,
) -> list[Choice]:
    """Grow a plan passage by passage, in pool order, while it stays under the target.

    A seeded plan starts from two sentences of each of the first three passages, so that even
    a one-minute video has its three concept scenes; the others grow each passage fully first.
    """
    high, low = target * (1 + TOLERANCE), target * (1 - TOLERANCE)
    sizes: dict[int, int] = {}
    if seeded:
        sizes = {i: min(2, len(c.sentences)) for i, c in enumerate(pool[:MIN_CONCEPTS])}

    def plan(counts: dict[int, int]) -> list[Choice]:
        return [(pool[i], pool[i].pick(count)) for i, count in sorted(counts.items())]

    if sizes and estimate(group(plan(sizes))) > high:
        return plan(sizes)  # the smallest complete plan; the caller weighs it against others
    for i, candidate in enumerate(pool):
        chosen_sources = {pool[n].source_id for n in sizes}
        if len(candidate.sentences) == 1 and candidate.source_id not in chosen_sources:
            continue  # a lone sentence would make a one-bullet scene of its own
        most = len(candidate.sentences) if cap is None else min(cap, len(candidate.sentences))
        fewest = max(sizes.get(i, 0) + 1, min(2, len(candidate.sentences)))
        for count in range(most, fewest - 1, -1):
            trial = {**sizes, i: count}
            if estimate(group(plan(trial))) <= high:
                sizes = trial
                break
        if sizes and estimate(group(plan(sizes))) >= low:
            break
    if not sizes and pool:
        sizes = {0: min(2, len(pool[0].sentences))}  # too long even so: the least that is honest
    return plan(sizes)


def plan_sections(
    pool: Sequence[Candidate], estimate: Callable[[list[Section]], float], target: float
) -> list[Section]:
    """The concept sections whose script's estimated length is nearest ``target`` seconds."""
    best: tuple[tuple[bool, bool, bool, int, float, int], list[Section]] | None = None
    for order, (cap, seeded) in enumerate(
        (cap, seeded) for cap in _CAPS for seeded in (False, True)
    ):
        sections = group(_greedy(pool, cap, estimate, target, seeded))
        off = abs(estimate(sections) - target) / target
        near = off <= LIMIT
        # Near the target first (the finished video must land within 15%), then three concept
        # scenes, then inside the aim, where the preferred scene size wins; otherwise the
        # nearest plan does.
        key = (
            not near,
            len(sections) < MIN_CONCEPTS,
            off > TOLERANCE,
            order if near else 0,
            off,
            order,
        )
        if best is None or key < best[0]:
            best = (key, sections)
    return [] if best is None else best[1]
