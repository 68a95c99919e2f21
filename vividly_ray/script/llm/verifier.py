"""Checks a model-written scene before it may go into a script.

A scene passes when:
- it cites only passages its task gave it, and every narration sentence cites at least one;
- every sentence is supported by its cited passages: at least ``support_threshold`` (half, by
  default) of the sentence's content words, stemmed as search stems them, occur in those
  passages. Half is low enough for a sentence that rephrases its source in simpler words and
  high enough that a sentence about something the passages never mention fails;
- its estimated spoken length is within ``pacing_tolerance`` (35%) of the scene's share of the
  requested minutes: a scene is short, so one sentence more or less moves it a lot;
- it reads at the grade: for grades 3-12 the Flesch-Kincaid grade of its narration is at most
  ``grade_tolerance`` (3) grades above the student's, since science words ("evaporation") are
  long however plainly the sentence is put; for K-2, where that formula means little, every
  sentence has at most ``K2_SENTENCE_WORDS`` words. Easier text than the grade is never faulted;
- no sentence leans on something the video cannot show (a figure, a table, an equation);
- it has 2-4 short bullets and a title.
Problems name sentences by number, never by quoting them, since they go back to the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import Grade
from vividly_ray.library.text import tokenize, words
from vividly_ray.script.editing import max_sentence_words, narratable, syllables
from vividly_ray.script.llm.outline import MIN_SCENE_SENTENCES
from vividly_ray.script.llm.tasks import SceneDraft, SceneTask
from vividly_ray.script.pacing import narration_seconds
from vividly_ray.script.quality import HARD_BULLET_WORDS

SUPPORT_THRESHOLD = 0.5
PACING_TOLERANCE = 0.35
GRADE_TOLERANCE = 3.0
K2_SENTENCE_WORDS = 12
MIN_BULLETS = 2
MAX_BULLETS = 4
_SHOWN_ID = 40  # an invented id is quoted back only this far
# "-es" is its own syllable after these ("buses", "boxes", "changes", "places").
_VOICED_ES = ("ses", "xes", "zes", "ches", "shes", "ges", "ces")
_VOWELS = frozenset("aeiouy")


def support(sentence: str, passages: Sequence[str]) -> float:
    """The share of the sentence's content words that occur in ``passages`` (1.0 when the
    sentence has none)."""
    claimed = set(tokenize(sentence))
    if not claimed:
        return 1.0
    found = {token for text in passages for token in tokenize(text)}
    return len(claimed & found) / len(claimed)


def syllable_count(word: str) -> int:
    """Syllables of a lowercase word: vowel groups, less a silent final "e", "es" or "ed"
    ("lakes", "becomes", "rained"), which the formula would otherwise count."""
    count = syllables(word)
    silent_es = word.endswith("es") and not word.endswith(_VOICED_ES)
    silent_ed = word.endswith("ed") and not word.endswith(("ted", "ded"))
    if count > 1 and (silent_es or silent_ed) and word[-3:-2] not in _VOWELS:
        count -= 1
    return count


def flesch_kincaid_grade(sentences: Sequence[str]) -> float:
    """The Flesch-Kincaid grade level of ``sentences`` taken together."""
    found = [w for s in sentences for w in words(s)]
    if not found or not sentences:
        return 0.0
    per_sentence = len(found) / len(sentences)
    per_word = sum(syllable_count(w) for w in found) / len(found)
    return 0.39 * per_sentence + 11.8 * per_word - 15.59


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


class SceneVerifier:
    """Checks a written scene against its task: grounding, citations, pacing, reading level."""

    def __init__(
        self,
        *,
        support_threshold: float = SUPPORT_THRESHOLD,
        pacing_tolerance: float = PACING_TOLERANCE,
        grade_tolerance: float = GRADE_TOLERANCE,
    ) -> None:
        self._support = support_threshold
        self._pacing = pacing_tolerance
        self._grade = grade_tolerance

    def check(self, draft: SceneDraft, task: SceneTask) -> Verdict:
        problems = [
            *self._shape(draft),
            *self._grounding(draft, task),
            *self._pacing_problems(draft, task),
            *self._reading(draft.narration, task.request.grade),
        ]
        problems.extend(
            f"sentence {n} refers to something the video cannot show (a figure, table, "
            "equation or link) or is not a complete sentence"
            for n, sentence in enumerate(draft.narration, 1)
            if not narratable(sentence)
        )
        return Verdict(tuple(problems))

    def _shape(self, draft: SceneDraft) -> list[str]:
        problems: list[str] = []
        if not draft.title:
            problems.append("the scene has no title")
        if len(draft.narration) < MIN_SCENE_SENTENCES:
            problems.append(f"the narration needs at least {MIN_SCENE_SENTENCES} sentences")
        if not MIN_BULLETS <= len(draft.bullets) <= MAX_BULLETS:
            problems.append(
                f"give {MIN_BULLETS} to {MAX_BULLETS} bullets, not {len(draft.bullets)}"
            )
        problems.extend(
            f"bullet {n} has more than {HARD_BULLET_WORDS} words"
            for n, bullet in enumerate(draft.bullets, 1)
            if len(bullet.split()) > HARD_BULLET_WORDS
        )
        return problems

    def _grounding(self, draft: SceneDraft, task: SceneTask) -> list[str]:
        given = {p.passage_id: p.text for p in task.passages}
        problems: list[str] = []
        for n, sentence in enumerate(draft.narration, 1):
            cited = draft.citations[n - 1] if n <= len(draft.citations) else ()
            unknown = [i for i in cited if i not in given]
            problems.extend(
                f"sentence {n} cites {i[:_SHOWN_ID]!r}, which is not one of the passages given"
                for i in unknown
            )
            known = [given[i] for i in cited if i in given]
            if not known:
                problems.append(f"sentence {n} cites none of the passages given")
            elif support(sentence, known) < self._support:
                problems.append(f"sentence {n} says things its cited passages do not say")
        return problems

    def _pacing_problems(self, draft: SceneDraft, task: SceneTask) -> list[str]:
        target = task.plan.target_seconds
        if target <= 0 or not draft.narration:
            return []
        spoken = narration_seconds(draft.narration, task.request.grade)
        if abs(spoken - target) <= self._pacing * target:
            return []
        side = "long" if spoken > target else "short"
        return [
            f"the narration is too {side}: about {spoken:.0f} seconds for a {target:.0f}-second "
            f"scene; write about {task.plan.sentences} sentences"
        ]

    def _reading(self, narration: Sequence[str], grade: Grade) -> list[str]:
        if not narration:
            return []
        limit = K2_SENTENCE_WORDS if grade.level <= 2 else max_sentence_words(grade)
        problems = [
            f"sentence {n} is too long for grade {grade.label} (more than {limit} words)"
            for n, sentence in enumerate(narration, 1)
            if len(sentence.split()) > limit
        ]
        if grade.level >= 3:
            level = flesch_kincaid_grade(narration)
            if level > grade.level + self._grade:
                problems.append(
                    f"the narration reads at about grade {level:.0f}, too hard for grade "
                    f"{grade.label}: use shorter sentences and simpler words"
                )
        return problems
