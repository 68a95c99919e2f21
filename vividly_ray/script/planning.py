"""Choosing how much of each key idea to narrate so the video lands near the requested length.

The plan starts from the three most valuable key ideas, two sentences each, and then grows one
step at a time: one more sentence for an idea already in, or one of the most valuable ideas
still waiting (ideas beyond ``max_concepts`` share a scene with a neighbour). Each step is the one
that adds the most value per second of narration while the estimated length stays under the
target plus a small margin. Defining a key term is worth most the first time, so the plan covers
more of a document's vocabulary before it adds examples. The lead idea (the question's direct
answer) opens the lesson; the other concept scenes keep the documents' own order, so the
explanation flows as the authors wrote it. Finally a two-sentence scene that explains nothing
beyond the topic joins a neighbour from its document (``merge_short``). A plan whose whole script
(framing included) reads well away from the student's grade is grown again, weighing its reading
level, and then from sentences valued toward the grade, so a young student's lesson takes the
plainer definitions and an older student's the textbook's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from vividly_ray.domain.models import Grade
from vividly_ray.script.editing import refers_back
from vividly_ray.script.reading_level import fk_grade
from vividly_ray.script.selection import Candidate, Sentence
from vividly_ray.script.terms import read, term_key

MIN_CONCEPTS = 3
MAX_CONCEPTS = 8
SHORT_SCENE = 2  # sentences; a planned scene this short joins a neighbour from its document
MAX_SCENE_SENTENCES = 7  # no such join makes a scene longer than this
FOLLOWER_RELEVANCE = 0.5  # of the idea that completes a thin opening scene
FOLLOWER_PARAGRAPHS = 2  # at most this many paragraphs after the lead in its document
MAX_IDEAS = 12  # ideas beyond the scene maximum share a scene with a neighbour
TOLERANCE = 0.05  # aim inside +-5% so the spoken result lands inside +-10%
REPEATED_DEFINITION = 0.8  # what a second definition of the same term loses
IDEA_WORTH = 0.6  # what covering one more key idea is worth beyond its sentences
ANSWER_FLOOR = 0.4  # the weight of an idea none of whose sentences carries the question's focus
ASIDE_WORTH = 0.25  # an idea on a neighbouring subject (``Candidate.on_subject``), relatively
# What each grade the whole script reads outside the student's comfortable range costs a plan.
LEVEL_WEIGHT = 5.0
# Grades outside the comfortable range a plan may read before it is grown again for its level.
LEVEL_MARGIN = 0.5
# What each grade a sentence reads on the side a script misses costs it in such a plan.
SENTENCE_LEVEL_WEIGHT = 0.1
# A plan grown again toward the grade may leave out this many terms the first plan explained,
# each a minor one: named by at most ``MINOR_USES`` sentences of the material. A lesson that
# reads at the student's level is worth one aside ("the sun's tidal effect"), never a term
# the material keeps coming back to ("precipitation" in the water cycle).
TERMS_TRADED = 1
MINOR_USES = 3
_WAITING_CHOICES = 4  # ideas, best first, that the next step may add
_SEED_CHOICES = 10  # ideas considered for the opening plan when the best three are too long

Plan = dict[int, int]  # candidate index -> how many sentences to pick
Estimate = Callable[[list["Section"]], float]


@dataclass(frozen=True)
class Section:
    """Sentences planned for one concept scene and the documents they came from."""

    source_ids: tuple[str, ...]
    sentences: tuple[str, ...]
    # For each sentence, the library sentence it was edited from ("" when unedited).
    originals: tuple[str, ...] = ()


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
        sources, originals = parts[i].source_ids, parts[i].originals
        # The parts of one split library sentence stay in one scene.
        while (
            1 < half < len(texts) - 1 and originals[half] and originals[half] == originals[half - 1]
        ):
            half += 1
        parts[i : i + 1] = [
            Section(sources, texts[:half], originals[:half]),
            Section(sources, texts[half:], originals[half:]),
        ]
    return parts


def max_concepts(target: float) -> int:
    """Concept scenes a video of ``target`` seconds holds: about three every two minutes after
    the first two, so each scene has room to explain its idea rather than flash two bullets."""
    return max(MIN_CONCEPTS, min(MAX_CONCEPTS, round(2 + 1.5 * target / 60.0)))


def _join_down_to_max(parts: list[Section], most: int = MAX_CONCEPTS) -> list[Section]:
    """Join the smallest neighbouring pair of sections, same document first, until at most the
    maximum: a long video on a short library gets more than one idea in some scenes."""

    def cost(i: int) -> tuple[bool, int, int]:
        same = parts[i].source_ids == parts[i + 1].source_ids
        return (not same, len(parts[i].sentences) + len(parts[i + 1].sentences), i)

    while len(parts) > most:
        i = min(range(len(parts) - 1), key=cost)
        sources = tuple(dict.fromkeys(parts[i].source_ids + parts[i + 1].source_ids))
        joined = parts[i].sentences + parts[i + 1].sentences
        parts[i : i + 2] = [Section(sources, joined, parts[i].originals + parts[i + 1].originals)]
    return parts


def sections(
    pool: Sequence[Candidate],
    plan: Plan,
    lead: int | None = None,
    most: int = MAX_CONCEPTS,
    topic: frozenset[str] = frozenset(),
) -> list[Section]:
    """Concept sections in document order (the pool's order), one per chosen key idea; the
    ``lead`` idea (the direct answer) comes first, completed by the idea after it when it only
    names the ``topic`` (``_follower``)."""
    follower = _follower(pool, plan, lead, topic)
    order = sorted((i for i in plan if i != follower), key=lambda i: (i != lead, i))
    parts = [
        Section(
            (pool[i].source_id,),
            tuple(s.text for s in picked),
            tuple(s.source for s in picked),
        )
        for i in order
        if (
            picked := _lead_sentences(pool, plan, i, follower)
            if i == lead
            else pool[i].pick(plan[i])
        )
    ]
    if lead is not None and len(parts) > 1 and lead in plan:
        # The direct answer stays a scene of its own while the others share.
        return [parts[0], *_split_up_to_min(_join_down_to_max(parts[1:], most - 1))]
    return _split_up_to_min(_join_down_to_max(parts, most))


def _follower(
    pool: Sequence[Candidate], plan: Plan, lead: int | None, topic: frozenset[str]
) -> int | None:
    """The planned idea that joins a thin lead: when the lead's scene would only say what the
    topic is called ("The changing shapes of the Moon are called phases"), the next planned idea,
    when it follows closely in the lead's document and is on the topic, completes the opening
    scene. A lead that explains a term of its own ("condensation") keeps its scene."""
    if not topic or lead is None or lead not in plan:
        return None
    picked = pool[lead].pick(plan[lead])
    if len(picked) > SHORT_SCENE or any(
        s.defines is not None and not set(s.defines) <= topic for s in picked
    ):
        return None
    if len(plan) <= MIN_CONCEPTS + 1:
        return None  # joined, the lesson would be down to its bare minimum of scenes
    following = min((i for i in plan if i > lead), default=None)
    if following is None or not pool[following].on_subject:
        return None
    first, second = pool[lead], pool[following]
    same = first.source_id == second.source_id
    near = 0 <= second.position // 100 - first.position // 100 <= FOLLOWER_PARAGRAPHS
    return following if same and near and second.relevance >= FOLLOWER_RELEVANCE else None


def _lead_sentences(
    pool: Sequence[Candidate], plan: Plan, lead: int, follower: int | None
) -> tuple[Sentence, ...]:
    picked = _answer_first(pool[lead].pick(plan[lead]))
    return picked + (pool[follower].pick(plan[follower]) if follower is not None else ())


_CONNECTIVE = re.compile(
    r"^(?:in fact|however|but|so|yet|instead|still|also|then|thus|therefore|as a result)\b",
    re.IGNORECASE,
)


def _answer_first(picked: tuple[Sentence, ...]) -> tuple[Sentence, ...]:
    """The lead idea's sentences with its most direct answer first, when that sentence stands on
    its own (it points back at nothing) and is a much better answer than the opening one."""
    if len(picked) < 2:
        return picked
    best = max(picked, key=lambda s: (s.answer, -s.order))
    if best is picked[0] or best.answer < picked[0].answer + 0.5 or refers_back(best.text):
        return picked
    rest = [s for s in picked if s is not best]
    # "In fact, ..." answers the sentence before it; moved apart, it answers nothing.
    if any(_CONNECTIVE.match(s.text) for s in rest):
        return picked
    return (best, *rest)


def uses(pool: Sequence[Candidate], term: tuple[str, ...]) -> int:
    """How many sentences of the pool explain or name ``term``."""
    return sum(
        1
        for candidate in pool
        for sentence in candidate.sentences
        if sentence.defines == term or term in sentence.mentions
    )


def value(pool: Sequence[Candidate], plan: Plan) -> float:
    """How much a plan teaches: its sentences' worth, a repeated definition counting less and an
    idea on a neighbouring subject much less, so the plan goes deeper into the topic's own
    ideas before it goes wider."""
    total = 0.0
    defined: set[tuple[str, ...]] = set()
    for candidate, picked in _picked(pool, plan):
        weight = (0.5 + 0.5 * candidate.priority) * (1.0 if candidate.on_subject else ASIDE_WORTH)
        weight *= ANSWER_FLOOR + (1 - ANSWER_FLOOR) * candidate.answers
        total += weight * IDEA_WORTH
        for sentence in picked:
            total += weight * sentence.score
            if sentence.defines is not None:
                if sentence.defines in defined:
                    total -= REPEATED_DEFINITION
                defined.add(sentence.defines)
    return total


class _Planner:
    def __init__(
        self,
        pool: Sequence[Candidate],
        estimate: Estimate,
        target: float,
        lead: int | None,
        topic: frozenset[str] = frozenset(),
        level: Estimate | None = None,
    ) -> None:
        self.pool = pool
        self.level = level
        self.topic = topic
        self.lead = lead
        self.most = max_concepts(target)
        self.estimate = estimate
        self.high = target * (1 + TOLERANCE)
        self.usable = [i for i, c in enumerate(pool) if len(c.sentences) >= 2] or list(
            range(len(pool))
        )
        self.ranked = sorted(self.usable, key=lambda i: (i != lead, -value(pool, {i: 2}), i))

    def seconds(self, plan: Plan) -> float:
        return self.estimate(sections(self.pool, plan, self.lead, self.most, self.topic))

    def worth(self, plan: Plan, leveled: bool) -> float:
        """What a plan teaches (``value``); ``leveled``, less what its reading level away from
        the grade costs the student."""
        worth = value(self.pool, plan)
        if leveled:
            worth -= LEVEL_WEIGHT * abs(self.offset(plan))
        return worth

    def offset(self, plan: Plan) -> float:
        """Grades the plan's script reads above (positive) or below the student's range."""
        if self.level is None:
            return 0.0
        return self.level(self.final(plan))

    def taught(self, plan: Plan) -> set[tuple[str, ...]]:
        """The terms the plan's sentences explain."""
        return {s.defines for _, picked in _picked(self.pool, plan) for s in picked if s.defines}

    def final(self, plan: Plan) -> list[Section]:
        """The sections the plan gives, short scenes joined (``merge_short``)."""
        planned = sections(self.pool, plan, self.lead, self.most, self.topic)
        keep_first = self.lead is not None and self.lead in plan
        return merge_short(planned, self.topic, keep_first=keep_first)

    def seed(self) -> Plan:
        """The three most valuable ideas, or the three shortest of the best few if too long."""
        best = {i: 2 for i in self.ranked[:MIN_CONCEPTS]}
        if self.seconds(best) <= self.high:
            return best
        few = self.ranked[:_SEED_CHOICES]
        short = sorted(few, key=lambda i: (i != self.lead, self.seconds({i: 2}), i))
        short = short[:MIN_CONCEPTS]
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

    def grow(self, plan: Plan, leveled: bool) -> Plan:
        seconds, worth = self.seconds(plan), self.worth(plan, leveled)
        while True:
            best: tuple[float, int, Plan] | None = None
            for n, step in enumerate(self.steps(plan)):
                longer = self.seconds(step)
                if longer > self.high:
                    continue
                gain = (self.worth(step, leveled) - worth) / max(longer - seconds, 0.5)
                if best is None or (gain, -n) > (best[0], -best[1]):
                    best = (gain, n, step)
            if best is None:
                return plan
            plan = best[2]
            seconds, worth = self.seconds(plan), self.worth(plan, leveled)


def leaned(pool: Sequence[Candidate], offset: float, grade: Grade) -> list[Candidate]:
    """The pool with each sentence's score lowered by how far it reads on the side of
    ``grade`` that the script misses (``offset`` above 0: harder, below: easier), so that a
    plan picks the sentences that bring the script toward the grade."""
    side = 1.0 if offset > 0 else -1.0

    def lean(sentence: Sentence) -> Sentence:
        beyond = max(0.0, side * (fk_grade(sentence.text) - grade.level))
        return replace(sentence, score=sentence.score - SENTENCE_LEVEL_WEIGHT * beyond)

    return [replace(c, sentences=tuple(lean(s) for s in c.sentences)) for c in pool]


def plan_sections(
    pool: Sequence[Candidate],
    estimate: Estimate,
    target: float,
    lead: int | None = None,
    topic: frozenset[str] = frozenset(),
    level: Estimate | None = None,
    grade: Grade | None = None,
) -> list[Section]:
    """The concept sections whose script's estimated length is nearest ``target`` seconds; the
    ``lead`` idea, when given, is always in and opens the lesson. Short scenes that explain
    nothing beyond the ``topic`` tokens then join a neighbour (``merge_short``).

    ``level``, when given, says how many grades a plan's script reads above (positive) or below
    the ``grade``'s comfortable range. When the plan grown for what it teaches reads more than
    ``LEVEL_MARGIN`` outside it, the plan is grown again weighing each plan's level too, and
    then, if it still does, from sentences valued toward the grade (``leaned``); a plan grown
    again is kept when it reads closer and still explains every term the first one did but at
    most ``TERMS_TRADED`` minor ones."""
    if not pool:
        return []
    planner = _Planner(pool, estimate, target, lead, topic, level)
    plan = planner.grow(planner.seed(), leveled=False)
    off = planner.offset(plan)
    for leaning in (False, True):
        if grade is None or abs(off) <= LEVEL_MARGIN:
            break
        valued = leaned(pool, off, grade) if leaning else pool
        again = _Planner(valued, estimate, target, lead, topic, level)
        closer = again.grow(again.seed(), leveled=True)
        lost = planner.taught(plan) - again.taught(closer)
        kept = len(lost) <= TERMS_TRADED and all(uses(pool, term) <= MINOR_USES for term in lost)
        if kept and abs(again.offset(closer)) < abs(off):
            planner, plan, off = again, closer, again.offset(closer)
    return planner.final(plan)


def _own_term(section: Section, topic: frozenset[str]) -> bool:
    """Whether a section explains a term of its own, beyond the topic ("condensation")."""
    for sentence in section.sentences:
        reading = read(sentence)
        if reading.term and reading.defines and not set(term_key(reading.term)) <= topic:
            return True
    return False


def merge_short(
    parts: list[Section], topic: frozenset[str] = frozenset(), keep_first: bool = False
) -> list[Section]:
    """A planned scene of at most ``SHORT_SCENE`` sentences that explains no term beyond the
    ``topic`` tokens joins a neighbouring scene from the same document (the shorter neighbour,
    the earlier on a tie) while the video keeps its minimum of scenes: one fuller scene reads
    better than a two-sentence aside, while a step such as "condensation" keeps its own. With
    ``keep_first``, the opening scene (the direct answer) stays as it is. The sentences and
    their order stay as planned, so the narration is the same length."""
    first_free = 1 if keep_first else 0

    def partner(i: int) -> int | None:
        options = [
            j
            for j in (i - 1, i + 1)
            if first_free <= j < len(parts)
            and parts[j].source_ids == parts[i].source_ids
            and len(parts[i].sentences) + len(parts[j].sentences) <= MAX_SCENE_SENTENCES
        ]
        return min(options, key=lambda j: (len(parts[j].sentences), j), default=None)

    parts = list(parts)
    while len(parts) > MIN_CONCEPTS:
        short = [
            (i, j)
            for i in range(first_free, len(parts))
            if len(parts[i].sentences) <= SHORT_SCENE
            and not _own_term(parts[i], topic)
            and (j := partner(i)) is not None
        ]
        if not short:
            break
        i, j = min(short, key=lambda pair: (len(parts[pair[0]].sentences), pair[0]))
        low = min(i, j)
        first, second = parts[low], parts[low + 1]
        joined = first.sentences + second.sentences
        parts[low : low + 2] = [
            Section(first.source_ids, joined, first.originals + second.originals)
        ]
    return parts
