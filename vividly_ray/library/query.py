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
PHRASE_WEIGHT = 0.5  # a later word of a phrase asking for the same expansion ("far away")
# "How do we know ...", "How can scientists tell ...": the answer is how it is measured.
_METHOD = re.compile(
    r"\bhow\s+(?:do|did|can|could|does)\s+(?:we|you|scientists|astronomers|people|anyone)\s+"
    r"(?:know|tell|find\s+out|figure\s+out|work\s+out)\b",
    re.IGNORECASE,
)
METHOD_WORDS: tuple[str, ...] = ("measure",)
METHOD_WEIGHT = 0.6  # a word the question implies rather than says


@dataclass(frozen=True)
class SearchQuery:
    """The tokens to search for and how much each counts (expansion tokens count less).

    ``everyday`` holds the student's words that stand for a textbook word ("far", "away" for
    "distance"): they name what is asked only through that word, so a sentence that merely
    uses them ("far away from city lights") does not answer the question."""

    tokens: tuple[str, ...]
    weights: Mapping[str, float] = field(default_factory=dict)
    everyday: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.tokens)


def query_tokens(question: str) -> list[str]:
    """Search tokens of a question with the scaffolding removed."""
    return tokenize(strip_scaffolding(question))


def search_query(question: str) -> SearchQuery:
    """The question's tokens plus a few everyday-to-textbook expansions.

    The later word of a phrase that asks for the same expansion ("away" in "far away") counts
    half: the phrase names one idea. A question about how something is known ("How do we know
    how far away stars are?") also looks for how it is measured.
    """
    own = query_tokens(question)
    weights = dict.fromkeys(own, 1.0)
    everyday: set[str] = set()
    previous: tuple[str, ...] = ()
    for word in strip_scaffolding(question).lower().split():
        extras = _EXPANSIONS.get(word.strip(_EDGE_PUNCTUATION), ())
        for token in tokenize(word) if extras else ():
            if extras == previous:
                weights[token] = min(weights.get(token, 1.0), PHRASE_WEIGHT)
            everyday.add(token)
        for extra in extras:
            weights.setdefault(stem(extra), EXPANSION_WEIGHT)
        previous = extras
    if _METHOD.search(" ".join(question.split())):
        for extra in METHOD_WORDS:
            weights.setdefault(stem(extra), METHOD_WEIGHT)
    return SearchQuery(tokens=tuple(weights), weights=weights, everyday=frozenset(everyday))
