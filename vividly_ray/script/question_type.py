"""What kind of answer a question asks for, and which sentences give that kind of answer.

"How fast does light travel?" wants a number with its unit; "Why do we have seasons?" wants
causes; "What was the Louisiana Purchase?" wants what it was and why it mattered; "How does a
lever work?" wants the mechanism; "How do stars form?" wants the steps; "What is the difference
between speed and velocity?" wants a comparison; "What are the parts of a cell?" wants the parts
and their jobs. The type is read from the question's wording alone (never from its topic), and
each type has cue words that mark a sentence as answering that way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class QuestionType(StrEnum):
    QUANTITY = "quantity"  # how fast / far / big / many / much / long ...
    CAUSES = "causes"  # why ..., what causes ...
    DEFINITION = "definition"  # what is / was ..., explain X (and why it matters)
    MECHANISM = "mechanism"  # how does X work
    PROCESS = "process"  # how is X made, how do X form, a cycle's steps
    COMPARISON = "comparison"  # difference between, compare, X vs Y
    PARTS = "parts"  # what are the parts / layers / structures of X


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


COMPARISON_QUESTION = _any(
    r"\bdifferen(?:ce|ces|t)\s+between\b",
    r"\bhow\s+(?:is|are|do|does)\b.*\bdiffer\b",
    r"\bwhat\s+is\s+the\s+difference\b",
    r"\bcompare[sd]?\b",
    r"\bcomparison\b",
    r"\bversus\b|\bvs\.?\s",
    r"\bsimilarities\b",
)
QUANTITY_QUESTION = _any(
    r"\bhow\s+(?:fast|far|big|large|small|many|much|long|hot|cold|old|heavy|tall|deep|high|"
    r"often|quickly|wide|bright|strong|massive)\b",
    r"\bwhat\s+is\s+the\s+(?:speed|distance|size|mass|temperature|age|number|population)\s+of\b",
)
_PARTS = _any(
    r"\bparts?\s+of\b",
    r"\bwhat\s+are\s+the\s+(?:parts|layers|structures|components|pieces|organs|branches)\b",
    r"\b(?:layers|components|structures)\s+of\b",
    r"\bwhat\s+(?:is|are)\s+(?:an?\s+|the\s+)?\w+\s+made\s+(?:up\s+)?of\b",
)
_DEFINITION_START = re.compile(r"^\s*(?:what|who)\s+(?:is|was|are|were)\b", re.IGNORECASE)
_CAUSES = _any(
    r"\bwhy\b", r"\bwhat\s+(?:causes|caused|makes|made|leads?\s+to|led\s+to)\b", r"\bcauses?\s+of\b"
)
_PROCESS = _any(
    r"\bhow\s+(?:is|are|was|were)\b.*\b(?:made|formed|produced|created|built|born|grown)\b",
    r"\bhow\s+(?:do|does|did)\b.*\b(?:form|forms|develop|grow|begin|start|happen|evolve)\b",
    r"\bsteps?\b|\bstages?\b|\bprocess\b|\bcycle\b|\blife\s+cycle\b",
)
_MECHANISM = _any(r"\bhow\s+(?:do|does|did|can|could)\b", r"\bhow\s+\w+\s+works?\b")
# "How do we know how far ...": the method of finding out, not the number.
_METHOD = _any(
    r"\bhow\s+(?:do|did|can|could)\s+(?:we|you|scientists|astronomers|people)\s+"
    r"(?:know|tell|measure|find|figure|work\s+out)\b"
)
_DIMENSION = re.compile(r"\bhow\s+(fast|quickly|far|long|big|large|small|tall|deep|high|wide)\b")


def classify(question: str) -> QuestionType:
    """The kind of answer ``question`` asks for; a plain topic ("photosynthesis") is a
    definition with its significance."""
    text = " ".join(question.split())
    for kind, pattern in (
        (QuestionType.COMPARISON, COMPARISON_QUESTION),
        (QuestionType.MECHANISM, _METHOD),
        (QuestionType.QUANTITY, QUANTITY_QUESTION),
        (QuestionType.PARTS, _PARTS),
    ):
        if pattern.search(text):
            return kind
    if _DEFINITION_START.search(text):
        return QuestionType.DEFINITION
    for kind, pattern in (
        (QuestionType.CAUSES, _CAUSES),
        (QuestionType.PROCESS, _PROCESS),
        (QuestionType.MECHANISM, _MECHANISM),
    ):
        if pattern.search(text):
            return kind
    return QuestionType.DEFINITION


# Units a measured answer is given in (a hand-written list of common school units).
_UNITS = (
    r"(?:percent|%|degrees?|°|kilometers?|kilometres?|km|meters?|metres?|centimeters?|"
    r"millimeters?|miles?|feet|foot|inches?|yards?|light-years?|light\s+years?|"
    r"astronomical\s+units?|parsecs?|seconds?|minutes?|hours?|days?|weeks?|months?|years?|"
    r"centuries|kilograms?|grams?|kg|tons?|tonnes?|pounds?|liters?|litres?|gallons?|newtons?|"
    r"joules?|watts?|volts?|amps?|amperes?|ohms?|hertz|kelvin|celsius|fahrenheit|m/s|km/s|"
    r"mph|times|people|species|planets|moons|stars|galaxies|cells|bones|atoms|molecules)"
)
_NUMBER = (
    r"(?:\d[\d,]*(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|half|a\s+third)"
)
NUMBER_WITH_UNIT = re.compile(
    rf"\b{_NUMBER}(?:[\s-]+(?:and\s+a\s+half|hundred|thousand|million|billion|trillion))*"
    rf"[\s-]*{_UNITS}(?![a-z])",
    re.IGNORECASE,
)
_RATE = re.compile(
    r"\bper\s+(?:second|minute|hour|day|year)\b|\bevery\s+second\b|\b(?:km/s|m/s|mph)\b",
    re.IGNORECASE,
)
_LENGTH = re.compile(
    r"\b(?:kilomet|km\b|met(?:er|re)s?\b|miles?\b|feet\b|inch|light-years?|light years?|"
    r"astronomical units?|parsecs?|centimet|millimet)",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|centuries)\b", re.I)
# What a measured answer must be measured in, by the question's "how ..." word.
_MEASURES: dict[str, re.Pattern[str]] = {
    "fast": _RATE,
    "quickly": _RATE,
    "far": _LENGTH,
    "big": _LENGTH,
    "large": _LENGTH,
    "small": _LENGTH,
    "tall": _LENGTH,
    "deep": _LENGTH,
    "high": _LENGTH,
    "wide": _LENGTH,
    "long": _TIME,
}

_CUES: dict[QuestionType, re.Pattern[str]] = {
    QuestionType.CAUSES: _any(
        r"\bbecause\b",
        r"\bcaused?\b",
        r"\bcauses\b",
        r"\bdue\s+to\b",
        r"\bled\s+to\b",
        r"\bleads?\s+to\b",
        r"\bresults?\s+(?:in|from)\b",
        r"\breasons?\b",
        r"\btherefore\b",
        r"\bso\s+that\b",
        r"\bproduces?\b",
        r"\bmakes?\b",
        r"\bresponsible\b",
    ),
    QuestionType.DEFINITION: _any(
        r"\bis\s+(?:a|an|the)\b",
        r"\bare\b",
        r"\bwas\s+(?:a|an|the)\b",
        r"\bcalled\b",
        r"\bmeans?\b",
        r"\brefers?\s+to\b",
        r"\bknown\s+as\b",
        r"\bimportant\b",
        r"\bmatter(?:s|ed)\b",  # "it matters"; not "matter" (the stuff things are made of)
        r"\bsignifican",
        r"\ballow(?:s|ed)?\b",
        r"\bled\s+to\b",
    ),
    QuestionType.MECHANISM: _any(
        r"\bwhen\b",
        r"\bbecause\b",
        r"\bcauses?\b",
        r"\bforces?\b",
        r"\bpush(?:es)?\b",
        r"\bpulls?\b",
        r"\bmakes?\b",
        r"\ballows?\b",
        r"\bby\s+\w+ing\b",
        r"\bso\b",
        r"\btransfers?\b",
        r"\bturns?\s+into\b",
        r"\bworks?\b",
        r"\battract",
        r"\brepel",
    ),
    QuestionType.PROCESS: _any(
        r"\bfirst\b",
        r"\bthen\b",
        r"\bnext\b",
        r"\bafter\b",
        r"\bfinally\b",
        r"\bsteps?\b",
        r"\bstages?\b",
        r"\bbegins?\b",
        r"\bforms?\b",
        r"\bformed\b",
        r"\bbecomes?\b",
        r"\bturns?\s+into\b",
        r"\beventually\b",
        r"\bstarts?\b",
    ),
    QuestionType.COMPARISON: _any(
        r"\bwhile\b",
        r"\bwhereas\b",
        r"\bunlike\b",
        r"\bhowever\b",
        r"\bboth\b",
        r"\bdiffer",
        r"\bsame\b",
        r"\bthan\b",
        r"\binstead\b",
        r"\bbut\b",
        r"\bonly\b",
    ),
    QuestionType.PARTS: _any(
        r"\bparts?\b",
        r"\bmade\s+(?:up\s+)?of\b",
        r"\bconsists?\s+of\b",
        r"\bcontains?\b",
        r"\blayers?\b",
        r"\beach\b",
        r"\bcalled\b",
        r"\bstructures?\b",
        r"\bjob\b",
        r"\bfunctions?\b",
    ),
}


@dataclass(frozen=True)
class QuestionPlan:
    """How a lesson answers its question: the type and how well a sentence answers that way."""

    kind: QuestionType
    dimension: str = ""  # a quantity question's "how ..." word: "fast", "far", "long"

    def answers(self, sentence: str) -> float:
        """How strongly ``sentence`` gives this type's kind of answer, 0 to 1: for a quantity,
        a number with a unit of the asked dimension (a rate for "how fast") is the answer."""
        if self.kind is QuestionType.QUANTITY:
            measured = NUMBER_WITH_UNIT.search(sentence) is not None
            unit = _MEASURES.get(self.dimension)
            fits = unit is None or unit.search(sentence) is not None
            if measured:
                return 1.0 if fits else 0.5
            return 0.3 if fits and unit is not None else 0.0
        cues = _CUES[self.kind].findall(sentence)
        return min(1.0, 0.5 * len(cues))


def plan_for(question: str) -> QuestionPlan:
    kind = classify(question)
    found = _DIMENSION.search(question.lower()) if kind is QuestionType.QUANTITY else None
    return QuestionPlan(kind, found.group(1) if found else "")
