"""How hard a sentence reads, as a Flesch-Kincaid grade, and how far that is from a student's grade.

Flesch-Kincaid grade = 0.39 x words per sentence + 11.8 x syllables per word - 15.59. One
sentence alone is a noisy sample, but the score ranks sentences and edits well. Syllables are
counted by rule: vowel groups, less a silent final "e" ("make"), "-es" ("lakes") or "-ed"
("rained"), plus the two-vowel pairs spoken as two syllables ("radio", "science", "video").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from vividly_ray.domain.models import Grade, Script
from vividly_ray.library.text import words
from vividly_ray.script.pacing import split_sentences

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_TWO_SYLLABLE_PAIRS = re.compile(
    r"[^aeiou]i[ao](?!n$|ns$|us$)|ie[nt]|(?<!p)eo|ua|uo|iu|[^aeiou]ia|ea$|creat|coop"
)
_SILENT_ES = re.compile(r"[^aeiou](?<![sxzhcg])es$")  # "lakes", not "boxes" or "pages"
_SILENT_ED = re.compile(r"[^aeiou](?<![td])ed$")  # "rained", not "melted"
_SPOKEN_LE = re.compile(r"[^aeiou]le$")  # "table" keeps its final syllable
# A lesson within this many grades of the student's reads at the right level.
LEVEL_SLACK = 1.0


def spoken_syllables(word: str) -> int:
    """Syllables of one word as spoken; a number of three digits or more takes two."""
    if word.isdigit():
        return 2 if len(word) >= 3 else 1
    text = re.sub(r"[^a-z]", "", word.lower())
    if len(text) <= 3:
        return 1
    if text.startswith("y"):
        text = text[1:]  # a consonant: "yellow", "year"
    if _SILENT_ES.search(text) or _SILENT_ED.search(text):
        text = text[:-2]
    elif text.endswith("e") and not _SPOKEN_LE.search(text):
        text = text[:-1]
    return max(1, len(_VOWEL_GROUPS.findall(text)) + len(_TWO_SYLLABLE_PAIRS.findall(text)))


@lru_cache(maxsize=32768)
def _counts(sentence: str) -> tuple[int, int]:
    """Words and spoken syllables of one sentence (planning measures the same sentences in
    many candidate scripts)."""
    found = words(sentence)
    return len(found), sum(spoken_syllables(word) for word in found)


def passage_grade(sentences: Sequence[str]) -> float:
    """Flesch-Kincaid grade of sentences read one after another (0 without words)."""
    counts = [_counts(sentence) for sentence in sentences]
    word_count = sum(n for n, _ in counts)
    if not word_count:
        return 0.0
    spoken = sum(1 for n, _ in counts if n)
    syllable_count = sum(syllables for _, syllables in counts)
    return 0.39 * word_count / spoken + 11.8 * syllable_count / word_count - 15.59


def script_grade(script: Script) -> float:
    """Flesch-Kincaid grade of everything a script's narration says, framing included: the
    level the student hears."""
    return passage_grade(
        [
            sentence
            for scene in script.scenes
            for item in scene.narration
            for sentence in split_sentences(item)
        ]
    )


def wording_grade(sentence: str, length: int) -> float:
    """Flesch-Kincaid grade of a sentence's words as if it were at least ``length`` words long:
    how plain its wording is, whatever its length (a short sentence is no fault)."""
    found = words(sentence)
    if not found:
        return 0.0
    syllable_count = sum(spoken_syllables(word) for word in found)
    return 0.39 * max(length, len(found)) + 11.8 * syllable_count / len(found) - 15.59


def fk_grade(sentence: str) -> float:
    """Flesch-Kincaid grade of one sentence (noisy alone, but fine for ranking sentences)."""
    return passage_grade([sentence])


def grade_excess(sentence: str, grade: Grade) -> float:
    """How many grades a sentence reads above ``grade`` (plus one grade of slack), or 0."""
    return max(0.0, fk_grade(sentence) - grade.level - LEVEL_SLACK)


def level_offset(reading: float, grade: Grade, aim: float | None = None) -> float:
    """How far a Flesch-Kincaid ``reading`` lies outside the comfortable range for ``grade``:
    ``aim`` (the grade itself unless given) plus or minus ``LEVEL_SLACK``; positive above it,
    negative below, 0 inside. For K-2, whose level the formula does not reach, nothing is too
    easy."""
    centre = float(grade.level) if aim is None else aim
    if reading > centre + LEVEL_SLACK:
        return reading - centre - LEVEL_SLACK
    if grade.level > 2 and reading < centre - LEVEL_SLACK:
        return reading - centre + LEVEL_SLACK
    return 0.0


def level_distance(reading: float, grade: Grade, aim: float | None = None) -> float:
    """How far a Flesch-Kincaid ``reading`` lies outside the comfortable range for ``grade``,
    either way (``level_offset`` without its sign)."""
    return abs(level_offset(reading, grade, aim))
