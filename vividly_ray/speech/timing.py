"""Timing constants shared by the narrator (which produces audio) and pacing (which plans it).

Measured with the bundled Piper voice (en_US-joe-medium) at length_scale 1.0: about 3.3 spoken
words per second of audio for ordinary explanatory sentences.
"""

from __future__ import annotations

from vividly_ray.domain.models import Grade, Scene, ScenePart

SCENE_LEAD_SECONDS = 0.4  # silence before the first sentence of a scene
SCENE_TAIL_SECONDS = 0.6  # silence after the last sentence, while the slide stays up
SENTENCE_GAP_SECONDS = 0.3  # silence between two sentences
WORDS_PER_SECOND_AT_SCALE_1 = 3.3


def length_scale(grade: Grade) -> float:
    """Slower speech for younger students (Piper's phoneme length scale, >1 is slower)."""
    if grade.level <= 2:
        return 1.15
    if grade.level <= 5:
        return 1.08
    return 1.0


def words_per_second(grade: Grade) -> float:
    return WORDS_PER_SECOND_AT_SCALE_1 / length_scale(grade)


def spoken_sentences(scene: Scene, part: ScenePart | None = None) -> list[str]:
    """The sentences a narrator speaks for ``scene`` (or for one part of it), trimmed."""
    sentences = [s.strip() for s in scene.narration if s.strip()]
    return sentences if part is None else part.of(sentences)


def part_edges(part: ScenePart | None) -> tuple[float, float]:
    """The silence (seconds) before the first and after the last sentence of a part's audio.

    A whole scene, or its first part, opens with the lead-in; a later part opens with the gap
    that separates two sentences. Only the last part keeps the tail. So the parts' audio,
    joined, is laid out exactly as the whole scene's.
    """
    if part is None:
        return SCENE_LEAD_SECONDS, SCENE_TAIL_SECONDS
    lead = SCENE_LEAD_SECONDS if part.opens else SENTENCE_GAP_SECONDS
    return lead, SCENE_TAIL_SECONDS if part.closes else 0.0
