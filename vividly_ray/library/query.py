"""From a student's request to what it is about.

"Explain the water cycle for grade 5 students in a 3 minute video" asks about "the water cycle";
the rest is scaffolding that would otherwise pull in any passage mentioning "grade" or "minutes".
"""

from __future__ import annotations

import re

from vividly_ray.library.text import STOPWORDS, tokenize

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

SCAFFOLDING: frozenset[str] = frozenset(
    """
    explain explained explaining explanation explainer describe tell teach show make create give
    video videos clip movie lesson lecture presentation please kindly help understand
    student students kid kids class classroom children child learner learners grade grades
    minute minutes min mins quick brief easy overview intro summary want wanted need like love
    can could would know
    """.split()
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


def query_tokens(question: str) -> list[str]:
    """Search tokens of a question with the scaffolding removed."""
    return tokenize(strip_scaffolding(question))
