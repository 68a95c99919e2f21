"""Building blocks of the safety rules: categories, findings and pattern helpers.

Rules are regular expressions over the flat forms of ``text.safety_forms``: lowercase words
separated by single spaces, without punctuation or apostrophes ("someone's" reads "someone").

Most harm is a request to *do* something: to make, get or use a harmful thing, or to hurt
someone. Naming the thing is not harm ("the atomic bomb's role in the war", "how alcohol affects
the body"), so these rules need the wording of a personal how-to: a framing ("how do I", "where
can I", "teach me", an imperative at the start), an action verb, and the object, close together.
A few things are refused wherever they appear (sexual content, slurs, prompt injection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """Why a question is refused."""

    WEAPONS = "weapons"
    DRUGS = "drugs, alcohol or tobacco"
    SELF_HARM = "self-harm"
    SEXUAL = "sexual content"
    VIOLENCE = "violence"
    HATE = "hate or harassment"
    EVASION = "cheating or breaking rules"
    STEERING = "steering the system"


@dataclass(frozen=True)
class Concern:
    """One reason a question is not suitable, in words a student can read."""

    category: Category
    reason: str

    def __str__(self) -> str:
        return f"{self.category}: {self.reason}"


@dataclass(frozen=True)
class Rule:
    """A category, the patterns that put a question in it, and what excuses a match.

    ``unless`` is looked for in the words before a match: "why did the Nazis claim that ... were
    inferior" reports a belief, it does not state one.
    """

    category: Category
    reason: str
    patterns: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None = None

    def applies(self, forms: Iterable[str]) -> bool:
        return any(self._matches(pattern, form) for form in forms for pattern in self.patterns)

    def _matches(self, pattern: re.Pattern[str], form: str) -> bool:
        for match in pattern.finditer(form):
            if self.unless is None or not self.unless.search(form[: match.start()]):
                return True
        return False

    @property
    def concern(self) -> Concern:
        return Concern(self.category, self.reason)


def rule(category: Category, reason: str, *patterns: str, unless: str = "") -> Rule:
    compiled = tuple(re.compile(pattern) for pattern in patterns)
    return Rule(category, reason, compiled, re.compile(unless) if unless else None)


def any_of(*options: str) -> str:
    """A non-capturing alternation; options may themselves be patterns."""
    return "(?:" + "|".join(options) + ")"


# Who is asking to do something: the student, or someone standing in for them.
_ASKER = any_of(
    "i",
    "we",
    "you",
    "u",
    "someone",
    "somebody",
    "one",
    "people",
    "me",
    r"my friends?",
    r"an? (?:kid|teen|teenager|minor|student|child|person|\d+ year old)",
    "kids",
    "teens",
    "teenagers",
    "students",
)
# The framings of a personal how-to.
HOW_TO = any_of(
    rf"how (?:do|does|can|could|would|should|might|will|to) {_ASKER}",
    "how to",
    "how 2",
    rf"where (?:can|do|could|would|should|might) {_ASKER}",
    "where to",
    r"ways? to",
    r"steps? (?:to|for)",
    r"instructions? (?:to|for|on)",
    r"recipe (?:for|to)",
    r"tutorial (?:on|for)",
    r"guide (?:to|for|on)",
    "teach me(?: how)?(?: to)?",
    "show me(?: how)?(?: to)?",
    "tell me how to",
    "help me",
    "can you",
    "could you",
    "will you",
    r"i (?:want|need|wanna|plan|am going|m going|gonna|would like|d like|am trying|m trying)"
    r"(?: to)?",
    r"(?:best|easiest|fastest|quickest|cheapest|safest) (?:way|place) to",
    "is it possible to",
    "what do i need to",
)
# Words that may sit between the framing and the verb ("how do I secretly get ...").
_ADVERBS = any_of(
    "secretly",
    "safely",
    "actually",
    "easily",
    "quickly",
    "still",
    "legally",
    "illegally",
    "just",
    "really",
    "go",
    "go and",
    "even",
    "successfully",
    "sneakily",
    "finally",
    "also",
)
# Words that may sit between the verb and its object ("buy a pack of ...").
_FILLER = any_of(
    "a",
    "an",
    "the",
    "some",
    "any",
    "my",
    "our",
    "your",
    "own",
    "more",
    "cheap",
    "free",
    "real",
    "good",
    "homemade",
    "home made",
    "diy",
    "simple",
    "small",
    "big",
    "working",
    "powerful",
    "actual",
    "bottle of",
    "pack of",
    "case of",
    "can of",
    "shots? of",
    "hit of",
    "gram of",
    "bag of",
    "few",
    "couple of",
    "lots of",
    "at home",
    "hands on",
)


def intent(verbs: str, objects: str) -> str:
    """A personal how-to: framing (or an imperative opening), a verb, then its object."""
    return (
        rf"(?:^(?:please )?|\b{HOW_TO} )(?:{_ADVERBS} ){{0,2}}{verbs} "
        rf"(?:{_FILLER} ){{0,3}}{objects}\b"
    )


def framed(pattern: str) -> str:
    """The pattern anywhere after a how-to framing or at the start of an imperative."""
    return rf"(?:^(?:please )?|\b{HOW_TO} )(?:{_ADVERBS} ){{0,2}}{pattern}"
