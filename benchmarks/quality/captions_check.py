"""Captions built as the assembler builds them, from estimated timings, and checked.

Cues come from ``vividly_ray.media.captions.build_cues`` over each scene's estimated audio placed
at its offset in the video. The limits follow the Netflix Timed Text Style Guide (General
Requirements and the English guides): at most 42 characters a line and 2 lines a cue, on screen
at most 7 seconds. The lower bound used here, 1 second, is a little stricter than Netflix's 5/6
second. Reading speed: at most 20 characters a second (spaces and punctuation count, line breaks
do not); cues above Netflix's English Template figures of 17 (adult) and 13 (children's
programmes) characters a second are counted too, for information. Words a second (the 3 words
a second of the BBC's 160-180 words a minute) are reported as a maximum.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vividly_ray.domain.models import Script
from vividly_ray.media.captions import Cue, build_cues

from .timing import estimated_timeline

MAX_LINE_CHARS = 42
MAX_LINES = 2
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0
MAX_CPS = 20.0
ADULT_TEMPLATE_CPS = 17.0
CHILDREN_TEMPLATE_CPS = 13.0


@dataclass
class CaptionCheck:
    """Figures and rule violations of one lesson's cues."""

    cues: int = 0
    narration_words: int = 0
    covered_words: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    violating_cues: int = 0
    max_cps: float = 0.0
    max_wps: float = 0.0
    over_adult_cps: int = 0
    over_children_cps: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.covered_words / self.narration_words if self.narration_words else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cues": self.cues,
            "word_coverage": round(self.coverage, 4),
            "violating_cues": self.violating_cues,
            "violations": dict(sorted(self.violations.items())),
            "max_chars_per_second": round(self.max_cps, 2),
            "max_words_per_second": round(self.max_wps, 2),
            "cues_over_17_cps": self.over_adult_cps,
            "cues_over_13_cps": self.over_children_cps,
            "examples": self.examples[:5],
        }


def cue_problems(cue: Cue) -> list[str]:
    """The rules one cue breaks."""
    lines = cue.text.split("\n")
    seconds = cue.end - cue.start
    chars = len(cue.text.replace("\n", " "))
    problems = []
    if any(len(line) > MAX_LINE_CHARS for line in lines):
        problems.append("line_over_42_chars")
    if len(lines) > MAX_LINES:
        problems.append("over_2_lines")
    if seconds < MIN_SECONDS:
        problems.append("shorter_than_1s")
    if seconds > MAX_SECONDS:
        problems.append("longer_than_7s")
    if seconds > 0 and chars / seconds > MAX_CPS:
        problems.append("over_20_cps")
    return problems


def check_cues(cues: Sequence[Cue], narration: Sequence[str]) -> CaptionCheck:
    result = CaptionCheck(cues=len(cues))
    spoken = Counter(word for sentence in narration for word in sentence.split())
    shown = Counter(word for cue in cues for word in cue.text.split())
    result.narration_words = sum(spoken.values())
    result.covered_words = sum((spoken & shown).values())
    for cue in cues:
        seconds = max(cue.end - cue.start, 1e-9)
        cps = len(cue.text.replace("\n", " ")) / seconds
        result.max_cps = max(result.max_cps, cps)
        result.max_wps = max(result.max_wps, len(cue.text.split()) / seconds)
        result.over_adult_cps += cps > ADULT_TEMPLATE_CPS
        result.over_children_cps += cps > CHILDREN_TEMPLATE_CPS
        problems = cue_problems(cue)
        if problems:
            result.violating_cues += 1
            result.violations.update(problems)
            text = cue.text.replace("\n", " / ")
            result.examples.append(f"{seconds:.2f}s {', '.join(problems)}: {text}")
    return result


def check_captions(script: Script) -> CaptionCheck:
    """Cues of the whole lesson from estimated timings, checked against the rules above."""
    cues = build_cues(estimated_timeline(script))
    narration = [s for scene in script.scenes for s in scene.narration]
    return check_cues(cues, narration)
