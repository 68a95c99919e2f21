"""From a student's request to what it is about.

"Explain the water cycle for grade 5 students in a 3 minute video" asks about "the water cycle";
the rest is scaffolding that would otherwise pull in any passage mentioning "grade" or "minutes".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from vividly_ray.library.text import STOPWORDS, stem, tokenize, word_set

_EDGE_PUNCTUATION = "\"'.,;:!?()[]{}\u201c\u201d\u2018\u2019"

_PATTERNS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "for 5th grade students", "for grade 5", "grades 3-5", "kindergarten"
        r"\b(?:for\s+)?(?:an?\s+)?(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth"
        r"|seventh|eighth|ninth|tenth|eleventh|twelfth)[\s-]+grade(?:rs?)?(?:\s+(?:students?|kids|"
        r"class|level))?\b",
        r"\b(?:for\s+)?(?:an?\s+)?(?:grades?|year)\s+(?:\d{1,2}|k)(?:\s*[-\u2013]\s*\d{1,2})?"
        r"(?:\s+(?:students?|kids|class|level))?\b",
        r"\b(?:for\s+)?(?:kindergarten|kindergartners|preschool)(?:\s+(?:students?|kids|class))?\b",
        r"\b(?:for\s+)?(?:elementary|middle|high)\s+school(?:\s+(?:students?|kids|class))?\b",
        # "in 3 minutes", "a 2-minute video", "90 seconds"
        r"\b(?:in\s+|about\s+|under\s+)?(?:an?\s+)?\d+(?:\.\d+)?[\s-]*(?:minutes?|mins?|seconds?"
        r"|secs?)(?:\s+long)?\b",
        r"\b(?:one|two|three|four|five|ten|half\s+a)[\s-]+(?:minutes?|mins?)(?:\s+long)?\b",
    )
)

SCAFFOLDING: frozenset[str] = word_set(
    """
    explain explained explaining explanation explainer describe tell teach show make create give
    video videos clip movie lesson lecture presentation please kindly help understand student
    students kid kids class classroom children child learner learners grade grades minute
    minutes min mins quick brief easy overview intro summary want wanted need like love can
    could would know
    """
)


def strip_scaffolding(question: str) -> str:
    """The question without request scaffolding, in the student's own words."""
    text = question
    for pattern in _PATTERNS:
        text = pattern.sub(" ", text)
    kept = [
        token
        for token in re.findall(r"[^\s]+", text)
        if re.sub(r"[^\w']", "", token.lower()) not in SCAFFOLDING
    ]
    return " ".join(kept).strip(" ,.;:!?-")


def topic_phrase(question: str) -> str:
    """A short phrase naming the topic, for messages and titles: "the water cycle"."""
    kept = [word.strip(_EDGE_PUNCTUATION) for word in strip_scaffolding(question).split()]
    kept = [word for word in kept if word]
    while kept and kept[0].lower() in STOPWORDS:
        kept.pop(0)
    while kept and kept[-1].lower() in STOPWORDS:
        kept.pop()
    return " ".join(kept) or " ".join(question.split())


# Everyday words a student asks with, and the word a textbook explains the idea with.
_EXPANSIONS: Mapping[str, tuple[str, ...]] = {
    "far": ("distance",),
    "away": ("distance",),
    "big": ("size",),
    "large": ("size",),
    "small": ("size",),
    "tiny": ("size",),
    "hot": ("temperature",),
    "cold": ("temperature",),
    "fast": ("speed",),
    "slow": ("speed",),
    "heavy": ("mass", "weight"),
    "old": ("age",),
}
EXPANSION_WEIGHT = 0.6  # an added word counts less than the student's own


@dataclass(frozen=True)
class SearchQuery:
    """The tokens to search for and how much each counts (expansion tokens count less)."""

    tokens: tuple[str, ...]
    weights: Mapping[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tokens)


def query_tokens(question: str) -> list[str]:
    """Search tokens of a question with the scaffolding removed."""
    return tokenize(strip_scaffolding(question))


def search_query(question: str) -> SearchQuery:
    """The question's tokens plus a few everyday-to-textbook expansions."""
    own = query_tokens(question)
    weights = dict.fromkeys(own, 1.0)
    for word in strip_scaffolding(question).lower().split():
        for extra in _EXPANSIONS.get(word.strip(_EDGE_PUNCTUATION), ()):
            weights.setdefault(stem(extra), EXPANSION_WEIGHT)
    return SearchQuery(tokens=tuple(weights), weights=weights)
