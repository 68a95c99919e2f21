"""Choosing how much of each key idea to narrate so the video lands near the requested length.

The plan starts from the three most valuable key ideas, two sentences each, and then grows one
step at a time: one more sentence for an idea already in, or one of the most valuable ideas
still waiting (ideas beyond eight share a scene with a neighbour). Each
step is the one that adds the most value per second of narration while the estimated length
stays under the target plus a small margin. Defining a key term is worth most the first time,
so the plan covers more of a document's vocabulary before it adds examples. Concept scenes keep
the documents' own order, so the explanation flows as the authors wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vividly_ray.script.selection import Candidate, Sentence

MIN_CONCEPTS = 3
MAX_CONCEPTS = 8
MAX_IDEAS = 12  # ideas beyond the scene maximum share a scene with a neighbour
TOLERANCE = 0.05  # aim inside +-5% so the spoken result lands inside +-10%
REPEATED_DEFINITION = 0.8  # what a second definition of the same term loses
IDEA_WORTH = 0.6  # what covering one more key idea is worth beyond its sentences
_WAITING_CHOICES = 4  # ideas, best first, that the next step may add
_SEED_CHOICES = 10  # ideas considered for the opening plan when the best three are too long

Plan = dict[int, int]  # candidate index -> how many sentences to pick
Estimate = Callable[[list["Section"]], float]


@dataclass(frozen=True)
class Section:
    """Sentences planned for one concept scene and the documents they came from."""

    source_ids: tuple[str, ...]
    sentences: tuple[str, ...]


def _picked(pool: Sequence[Candidate], plan: Plan) -> list[tuple[Candidate, tuple[Sentence, ...]]]:
    return [(pool[i], pool[i].pick(count)) for i, count in sorted(plan.items())]


def _split_up_to_min(parts: list[Section]) -> list[Section]:
    """Halve the longest sections until the minimum, never leaving a one-sentence scene."""
    while parts and len(parts) < MIN_CONCEPTS:
        i = max(range(len(parts)), key=lambda n: (len(parts[n].sentences), -n))
        texts = parts[i].sentences
        if len(texts) < 4:
            break
        half = (len(texts) + 1) // 2
        sources = parts[i].source_ids
        parts[i : i + 1] = [Section(sources, texts[:half]), Section(sources, texts[half:])]
    return parts


def _join_down_to_max(parts: list[Section]) -> list[Section]:
    """Join the smallest neighbouring pair of sections, same document first, until at most the
    maximum: a long video on a short library gets more than one idea in some scenes."""

    def cost(i: int) -> tuple[bool, int, int]:
        same = parts[i].source_ids == parts[i + 1].source_ids
        return (not same, len(parts[i].sentences) + len(parts[i + 1].sentences), i)

    while len(parts) > MAX_CONCEPTS:
        i = min(range(len(parts) - 1), key=cost)
        sources = tuple(dict.fromkeys(parts[i].source_ids + parts[i + 1].source_ids))
        parts[i : i + 2] = [Section(sources, parts[i].sentences + parts[i + 1].sentences)]
    return parts


def sections(pool: Sequence[Candidate], plan: Plan) -> list[Section]:
    """Concept sections in document order (the pool's order), one per chosen key idea."""
    parts = [
        Section((candidate.source_id,), tuple(s.text for s in picked))
        for candidate, picked in _picked(pool, plan)
        if picked
    ]
    return _split_up_to_min(_join_down_to_max(parts))


def value(pool: Sequence[Candidate], plan: Plan) -> float:
    """How much a plan teaches: its sentences' worth, a repeated definition counting less."""
    total = 0.0
    defined: set[tuple[str, ...]] = set()
    for candidate, picked in _picked(pool, plan):
        weight = 0.5 + 0.5 * candidate.priority
        total += weight * IDEA_WORTH
        for sentence in picked:
            total += weight * sentence.score
            if sentence.defines is not None:
                if sentence.defines in defined:
                    total -= REPEATED_DEFINITION
                defined.add(sentence.defines)
    return total


class _Planner:
    def __init__(self, pool: Sequence[Candidate], estimate: Estimate, target: float) -> None:
        self.pool = pool
        self.estimate = estimate
        self.high = target * (1 + TOLERANCE)
        self.usable = [i for i, c in enumerate(pool) if len(c.sentences) >= 2] or list(
            range(len(pool))
        )
        self.ranked = sorted(self.usable, key=lambda i: (-value(pool, {i: 2}), i))

    def seconds(self, plan: Plan) -> float:
        return self.estimate(sections(self.pool, plan))

    def seed(self) -> Plan:
        """The three most valuable ideas, or the three shortest of the best few if too long."""
        best = {i: 2 for i in self.ranked[:MIN_CONCEPTS]}
        if self.seconds(best) <= self.high:
            return best
        few = self.ranked[:_SEED_CHOICES]
        short = sorted(few, key=lambda i: (self.seconds({i: 2}), i))[:MIN_CONCEPTS]
        cheaper = {i: 2 for i in short}
        return cheaper if self.seconds(cheaper) < self.seconds(best) else best

    def steps(self, plan: Plan) -> list[Plan]:
        """Plans one step larger: one more sentence somewhere, or one more idea."""
        found = []
        for i, count in plan.items():
            current = self.pool[i].pick(count)
            for more in range(count + 1, len(self.pool[i].sentences) + 1):
                if self.pool[i].pick(more) != current:
                    found.append({**plan, i: more})
                    break
        if len(plan) < MAX_IDEAS:
            waiting = [i for i in self.ranked if i not in plan]
            found += [{**plan, i: 2} for i in waiting[:_WAITING_CHOICES]]
        return found

    def grow(self, plan: Plan) -> Plan:
        seconds, worth = self.seconds(plan), value(self.pool, plan)
        while True:
            best: tuple[float, int, Plan] | None = None
            for n, step in enumerate(self.steps(plan)):
                longer = self.seconds(step)
                if longer > self.high:
                    continue
                gain = (value(self.pool, step) - worth) / max(longer - seconds, 0.5)
                if best is None or (gain, -n) > (best[0], -best[1]):
                    best = (gain, n, step)
            if best is None:
                return plan
            plan = best[2]
            seconds, worth = self.seconds(plan), value(self.pool, plan)


def plan_sections(pool: Sequence[Candidate], estimate: Estimate, target: float) -> list[Section]:
    """The concept sections whose script's estimated length is nearest ``target`` seconds."""
    if not pool:
        return []
    planner = _Planner(pool, estimate, target)
    return sections(pool, planner.grow(planner.seed()))
