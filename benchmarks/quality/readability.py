"""Reading level of narration: Flesch-Kincaid grade, and for K-2 sentence length and common words.

Flesch-Kincaid grade level = 0.39 x (words / sentences) + 11.8 x (syllables / words) - 15.59.
Sentences are the narration items, each split at sentence ends with the pacing module's
``split_sentences`` (an item is meant to be one sentence; a few hold more). Syllables come from
a rule-based counter (vowel groups, with the silent final "e", "-ed" and "-es" and the common
two-vowel splits handled); it agrees with a dictionary on most words and is off by one on some
("lion", "fire", "creature").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .common_words import is_common

WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
# Two adjacent vowels that are spoken as two syllables ("radio", "science", "video", "actual").
_SPLITS = re.compile(
    r"[^aeiou]i[ao](?!n$|ns$|us$)|ie[nt]|(?<!p)eo|ua|uo|iu|[^aeiou]ia|ea$|oem|creat|coop"
)
_SILENT_ES = re.compile(r"[^aeiou](?<![sxzhcg])es$")
_SILENT_ED = re.compile(r"[^aeiou](?<![td])ed$")

MAX_LEVEL_GAP = 1.5  # the target: Flesch-Kincaid grade within this many grades of the request
# K-2 has no usable Flesch-Kincaid range (the formula goes negative); these limits are the
# harness's own reading of "written for a young reader".
K2_MAX_WORDS_PER_SENTENCE = 10.0
K2_MIN_COMMON_SHARE = 0.8


def words(text: str) -> list[str]:
    """Word tokens: letters and digits, with an apostrophe inside ("Earth's", "don't")."""
    return WORD.findall(text)


def syllables(word: str) -> int:
    """Spoken syllables of one word; a number of three or more digits counts as two."""
    if word.isdigit():
        return 2 if len(word) >= 3 else 1
    text = re.sub(r"[^a-z]", "", word.lower())
    if not text:
        return 1
    if len(text) <= 3:
        return 1
    if text.startswith("y"):
        text = text[1:]  # a leading "y" is a consonant ("yellow", "year")
    if _SILENT_ES.search(text) or _SILENT_ED.search(text):
        text = text[:-2]
    elif text.endswith("e") and not re.search(r"[^aeiou]le$", text) and len(text) > 3:
        text = text[:-1]  # a silent final "e" ("make"), but "-le" is spoken ("table")
    count = len(_VOWEL_GROUPS.findall(text)) + len(_SPLITS.findall(text))
    return max(1, count)


@dataclass(frozen=True)
class Readability:
    """Counts and scores of one piece of narration."""

    sentences: int
    words: int
    syllables: int
    common_words: int

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words if self.words else 0.0

    @property
    def fk_grade(self) -> float:
        """Flesch-Kincaid grade level (0 when there are no words)."""
        if not self.words:
            return 0.0
        return 0.39 * self.words_per_sentence + 11.8 * self.syllables_per_word - 15.59

    @property
    def common_share(self) -> float:
        return self.common_words / self.words if self.words else 0.0


def measure(sentences: Sequence[str]) -> Readability:
    """Readability of sentences, each item one sentence; empty items are left out."""
    spoken = [s for s in sentences if s.strip()]
    tokens = [w for s in spoken for w in words(s)]
    return Readability(
        sentences=len(spoken),
        words=len(tokens),
        syllables=sum(syllables(w) for w in tokens),
        common_words=sum(1 for w in tokens if is_common(w)),
    )


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade of running text, split at sentence ends."""
    return measure(re.split(r"(?<=[.!?])\s+", text.strip())).fk_grade


def reading_report(reading: Readability, grade: int) -> dict[str, float | int | bool | None]:
    """The reading-level figures of one lesson and whether they suit ``grade`` (0 is K).

    Grades 3-12: ``within`` means |FK - grade| <= 1.5. K-2: at most 10 words a sentence on
    average and at least 80% common words.
    """
    report: dict[str, float | int | bool | None] = {
        "grade": grade,
        "fk_grade": round(reading.fk_grade, 2),
        "words_per_sentence": round(reading.words_per_sentence, 2),
        "syllables_per_word": round(reading.syllables_per_word, 3),
        "common_word_share": round(reading.common_share, 3),
    }
    if grade <= 2:
        report["difference"] = None
        report["within"] = (
            reading.words_per_sentence <= K2_MAX_WORDS_PER_SENTENCE
            and reading.common_share >= K2_MIN_COMMON_SHARE
        )
    else:
        difference = reading.fk_grade - grade
        report["difference"] = round(difference, 2)
        report["within"] = abs(difference) <= MAX_LEVEL_GAP
    return report
