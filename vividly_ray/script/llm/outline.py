"""Sizing the outline to the requested minutes, and reading the model's outline back.

The budget comes from the same pacing estimate the offline writer uses: the title, recap and
credits scenes take their usual share, and what is left is split into 3-8 concept scenes of
about half a minute each, every one with as many sentences as its share holds at the grade's
speaking rate and a typical sentence length for the grade.
"""

from __future__ import annotations

from dataclasses import dataclass

from vividly_ray.domain.errors import ClarificationNeeded
from vividly_ray.domain.models import Grade, Retrieval, VideoRequest
from vividly_ray.library.text import tokenize
from vividly_ray.script.llm.client import JsonObject, ProviderRejected
from vividly_ray.script.llm.tasks import Outline, PlannedScene
from vividly_ray.script.pacing import narration_seconds
from vividly_ray.script.planning import MAX_CONCEPTS, MIN_CONCEPTS
from vividly_ray.script.titles import title_case
from vividly_ray.speech.timing import (
    SCENE_LEAD_SECONDS,
    SCENE_TAIL_SECONDS,
    SENTENCE_GAP_SECONDS,
    words_per_second,
)

SCENE_SECONDS_AIM = 30.0  # long enough to explain one idea, short enough for one slide
MIN_SCENE_SENTENCES = 2
MAX_SCENE_PASSAGES = 4  # more passages than this make a scene's prompt long and unfocused
# Typical narration sentence length per grade band, in words.
_SENTENCE_WORDS = {"K-2": 8, "3-5": 12, "6-8": 15, "9-12": 18}
_FRAMING_WORDS = 12  # "Let's explore the water cycle." and the recap's restated ideas
_CREDITS_WORDS = 14
_DEFAULT_QUESTION = "What would you like the video to explain?"


def sentence_words(grade: Grade) -> int:
    return _SENTENCE_WORDS[grade.band]


def _spoken(sentences: int, words: int, grade: Grade) -> float:
    return narration_seconds([" ".join(["word"] * words)] * sentences, grade)


def concept_seconds(request: VideoRequest, scenes: int) -> float:
    """Seconds left for ``scenes`` concept scenes once title, recap and credits are spoken."""
    grade = request.grade
    framing = (
        _spoken(2, _FRAMING_WORDS, grade)
        + _spoken(1 + scenes, _FRAMING_WORDS, grade)
        + _spoken(1, _CREDITS_WORDS, grade)
    )
    return max(0.0, request.minutes * 60.0 - framing)


@dataclass(frozen=True)
class Budget:
    scenes: int
    seconds_per_scene: float
    sentences_per_scene: int


def budget(request: VideoRequest, scenes: int | None = None) -> Budget:
    """How many concept scenes (when not given) and how long each should be."""
    if scenes is None:
        scenes = min(
            range(MIN_CONCEPTS, MAX_CONCEPTS + 1),
            key=lambda n: abs(concept_seconds(request, n) / n - SCENE_SECONDS_AIM),
        )
    per_scene = concept_seconds(request, scenes) / scenes
    grade = request.grade
    sentence = sentence_words(grade) / words_per_second(grade) + SENTENCE_GAP_SECONDS
    speech = per_scene - SCENE_LEAD_SECONDS - SCENE_TAIL_SECONDS + SENTENCE_GAP_SECONDS
    sentences = max(MIN_SCENE_SENTENCES, round(speech / sentence))
    return Budget(scenes=scenes, seconds_per_scene=per_scene, sentences_per_scene=sentences)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def script_title(proposed: str, topic: str) -> str:
    """The model's title when it names the topic, otherwise the topic itself."""
    wanted = set(tokenize(topic))
    if proposed and (not wanted or wanted & set(tokenize(proposed))):
        return proposed
    return title_case(topic)


def read_outline(
    data: JsonObject, request: VideoRequest, retrieval: Retrieval, topic: str
) -> Outline:
    """The outline in ``data``, keeping only passage ids that retrieval returned.

    Raises ClarificationNeeded when the model says the question is unclear, and
    ProviderRejected when no planned scene names a passage it was given.
    """
    if data.get("needs_clarification") is True:
        questions = _strings(data.get("clarifying_questions"))[:3] or [_DEFAULT_QUESTION]
        raise ClarificationNeeded(["the question does not say what to explain"], questions)
    known = {r.passage.passage_id for r in retrieval.passages}
    plans: list[tuple[str, str, tuple[str, ...]]] = []
    scenes = data.get("scenes")
    for item in scenes if isinstance(scenes, list) else []:
        if not isinstance(item, dict):
            continue
        ids = tuple(dict.fromkeys(i for i in _strings(item.get("passage_ids")) if i in known))
        title = str(item.get("title") or "").strip()
        if ids and title:
            plans.append((title, str(item.get("purpose") or "").strip(), ids[:MAX_SCENE_PASSAGES]))
    plans = plans[:MAX_CONCEPTS]
    if not plans:
        raise ProviderRejected("the outline planned no scene from the passages it was given")
    sized = budget(request, len(plans))
    return Outline(
        title=script_title(str(data.get("title") or "").strip(), topic),
        scenes=tuple(
            PlannedScene(
                position=n + 1,
                title=title,
                purpose=purpose,
                passage_ids=ids,
                target_seconds=sized.seconds_per_scene,
                sentences=sized.sentences_per_scene,
            )
            for n, (title, purpose, ids) in enumerate(plans)
        ),
    )
