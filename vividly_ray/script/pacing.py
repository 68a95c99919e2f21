"""How long narration will take to speak, before any audio exists.

The estimate uses the same constants the narrator is tuned to (``speech/timing.py``): words at the
grade's speaking rate, a pause between sentences, and silence before and after each scene. The
script writer plans with it so the finished video lands near the requested length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from vividly_ray.domain.models import Grade, Scene, Script
from vividly_ray.library.text import word_set
from vividly_ray.speech.timing import (
    SCENE_LEAD_SECONDS,
    SCENE_TAIL_SECONDS,
    SENTENCE_GAP_SECONDS,
    words_per_second,
)

# A period after one of these does not end a sentence.
ABBREVIATIONS = word_set(
    """
    mr mrs ms dr prof sr jr st mt ft vs etc e.g eg i.e ie approx fig figs no nos vol ch sec u.s
    u.k a.m p.m ca cf al jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp
    """
)
_BOUNDARY = re.compile(r"[.!?]+[\"')\]\u201d\u2019]*\s+(?=[\"'(\[\u201c\u2018]?[A-Z0-9])")
# "the Sun.To have" (a missing space in converted text) still ends a sentence.
_GLUED = re.compile(r"(?<=[a-z]{2})([.!?])(?=[A-Z][a-z])")
_LONG_NUMBER = re.compile(r"\d.*\d.*\d")


def _ends_with_abbreviation(chunk: str) -> bool:
    """Whether ``chunk`` (text up to and including a period) ends with an abbreviation."""
    if not chunk.endswith("."):
        return False
    last = chunk.rsplit(None, 1)[-1].lstrip("\"'(\u201c\u2018[").rstrip(".").lower()
    # A single capital letter before a period is an initial ("J. Smith").
    return last in ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; decimals ("2.5"), abbreviations and initials do not end one."""
    return list(_sentences(text))


# Planning times and measures the same narration in many candidate scripts.
@lru_cache(maxsize=32768)
def _sentences(text: str) -> tuple[str, ...]:
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        block = _GLUED.sub(r"\1 ", " ".join(block.split()))
        start = 0
        for match in _BOUNDARY.finditer(block):
            end = match.end()
            candidate = block[start:end].strip()
            if _ends_with_abbreviation(candidate):
                continue
            sentences.append(candidate)
            start = end
        rest = block[start:].strip()
        if rest:
            sentences.append(rest)
    return tuple(sentences)


@lru_cache(maxsize=32768)
def spoken_words(text: str) -> int:
    """Words as spoken: a number of three digits or more ("1687", "2.25") takes about two."""
    return sum(2 if _LONG_NUMBER.search(word) else 1 for word in text.split())


def narration_seconds(sentences: Sequence[str], grade: Grade) -> float:
    """Estimated length of one scene's narration, with its lead-in and tail silences."""
    spoken = [s for s in sentences if s.strip()]
    speech = sum(spoken_words(s) for s in spoken) / words_per_second(grade)
    gaps = SENTENCE_GAP_SECONDS * max(0, len(spoken) - 1)
    return SCENE_LEAD_SECONDS + speech + gaps + SCENE_TAIL_SECONDS


def scene_seconds(scene: Scene, grade: Grade) -> float:
    return narration_seconds(scene.narration, grade)


def script_seconds(script: Script) -> float:
    """Estimated length of the whole video."""
    return sum(scene_seconds(scene, script.grade) for scene in script.scenes)


def text_seconds(text: str, grade: Grade) -> float:
    """Estimated length of ``text`` spoken as one scene."""
    return narration_seconds(split_sentences(text), grade)


class EstimatedPacing:
    """The SpeechPacing port from the bundled voice's measured speaking rate."""

    def seconds(self, text: str, grade: Grade) -> float:
        return text_seconds(text, grade)
