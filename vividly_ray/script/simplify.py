"""Shorter, plainer sentences for younger students, each keeping its source sentence's meaning.

Simplifying aims at the student's grade, not below it: listed words always become their common
synonyms, and the other edits are made one at a time, only to a sentence that reads above the
grade (``reading_level.level_distance``) and only when the edit brings it closer to the grade, so a
grade-6 lesson is not chopped into grade-3 sentences. Only edits that cannot change what a
sentence claims are made:
- a sentence is split where two main clauses meet: at a semicolon, or at ", and", ", but" or
  ", so" when what follows opens with its own subject ("Every magnet has two ends, and each end
  is called a pole." -> two sentences); a comma list ("oceans, lakes, and rivers") is never split;
- a closing ", which ..." clause that only adds a remark is dropped from a long sentence, unless
  it names a term ("..., which is called ...");
- an appositive, ", a/an/the ..." after a noun, is dropped when what is left is still a full
  sentence ("Jupiter, the largest planet, has dozens of moons." -> "Jupiter has dozens of
  moons."), unless it names a term ("..., a process called transpiration") or a thing ("our
  star, the Sun"), belongs to a list, or a relative clause follows it;
- a word is replaced by a common synonym only from ``SYNONYMS``, a short hand-written list of
  words that mean the same in any context ("approximately" -> "about"), and an opening
  "Therefore," or "However," by "So" or "But" (``OPENING_SYNONYMS``).
Parenthetical and dashed asides are dropped earlier (``editing.light_edit``). The writer records
the source sentence of every edited sentence, so a reader (and the quality harness) can check it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vividly_ray.domain.models import Grade
from vividly_ray.library.text import word_set
from vividly_ray.script.reading_level import fk_grade, level_distance, passage_grade
from vividly_ray.script.vocabulary import AUXILIARIES, CONJUNCTIONS, PREPOSITIONS, SUBORDINATORS

# Hand-written: each word means the same as its replacement wherever it appears.
SYNONYMS: dict[str, str] = {
    "approximately": "about",
    "roughly": "about",
    "utilize": "use",
    "utilizes": "uses",
    "utilized": "used",
    "numerous": "many",
    "sufficient": "enough",
    "obtain": "get",
    "obtains": "gets",
    "additional": "more",
    "demonstrate": "show",
    "demonstrates": "shows",
    "require": "need",
    "requires": "needs",
    "required": "needed",
    "assist": "help",
    "assists": "helps",
    "construct": "build",
    "constructed": "built",
    "enormous": "huge",
    "rapidly": "quickly",
    "rapid": "quick",
    "commence": "start",
    "commences": "starts",
    "terminate": "end",
    "frequently": "often",
    "typically": "usually",
    "extremely": "very",
    "initially": "at first",
    "eventually": "in the end",
    "individuals": "people",
    "purchase": "buy",
    "purchased": "bought",
    "inhabitants": "people",
    "observe": "see",
    "occurs": "happens",
    "occur": "happen",
    "occurred": "happened",
    "additionally": "also",
    "possess": "have",
    "possesses": "has",
    "attempt": "try",
    "attempts": "tries",
    "attempted": "tried",
    "primarily": "mainly",
    "indicate": "show",
    "indicates": "shows",
    "acquire": "get",
    "acquires": "gets",
    "previously": "before",
    "gigantic": "huge",
    "minuscule": "tiny",
}
# Said only at the start of a sentence: "The force is therefore larger" keeps its word.
OPENING_SYNONYMS: dict[str, str] = {
    "therefore": "so",
    "consequently": "so",
    "however": "but",
}
SIMPLIFIED_UP_TO = 6  # grades 6 and below get the edits; older students get the source's words

_SUBJECT_OPENERS = word_set(
    "the a an each every some many most all both one two three no we you scientists people"
)
_CLAUSE_JOIN = re.compile(r",\s+(and|but|so)\s+(?=\S)")
_WHICH_REMARK = re.compile(r",\s+which\s+[^,;]+([.!?])$")
_NAMES_A_TERM = re.compile(r"\b(?:called|known as|named|termed)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")
_APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+([^,;.!?]+?)(?:,\s+|([.!?])$)", re.IGNORECASE)
APPOSITIVE_MAX_WORDS = 10
_LIST_WORDS = word_set("and or nor")
_RELATIVE = word_set("which who whom whose where that")
_OPENERS = PREPOSITIONS | SUBORDINATORS
_OPENING_WORD = re.compile(r"^([A-Za-z]+),\s+(?=\S)")
# Emphasis that adds nothing to a claim: "objects can in fact continue to move".


def simplified_for(grade: Grade) -> bool:
    return grade.level <= SIMPLIFIED_UP_TO


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?" else f"{text}."


def split_semicolons(sentence: str) -> list[str]:
    parts = [part.strip() for part in sentence.split(";")]
    if len(parts) < 2 or any(len(part.split()) < 3 for part in parts):
        return [sentence]
    return [_sentence(part) for part in parts]


def split_clauses(sentence: str) -> list[str]:
    """Main clauses joined by ", and" / ", but" / ", so" as sentences of their own."""
    match = _CLAUSE_JOIN.search(sentence)
    if match is None:
        return [sentence]
    head, rest = sentence[: match.start()], sentence[match.end() :]
    joiner = match.group(1).lower()
    first = rest.split(maxsplit=1)[0].lower() if rest.split() else ""
    own_subject = first in _SUBJECT_OPENERS or rest[:1].isupper()
    listed = "," in head  # "oceans, lakes, and rivers": a list, not two clauses
    if listed or not own_subject or len(head.split()) < 4 or len(rest.split()) < 4:
        return [sentence]
    second = rest if joiner == "and" else f"{joiner} {rest}"
    return [_sentence(head), *split_clauses(_sentence(second))]


def drop_which_remark(sentence: str, limit: int) -> str:
    """A long sentence without its closing ", which ..." remark (a term it names stays)."""
    match = _WHICH_REMARK.search(sentence)
    if match is None or len(sentence.split()) <= limit or _NAMES_A_TERM.search(match.group(0)):
        return sentence
    head = sentence[: match.start()]
    return f"{head}{match.group(1)}" if len(head.split()) >= 5 else sentence


def drop_appositive(sentence: str) -> str:
    """``sentence`` without an appositive after a noun ("Jupiter, the largest planet, has dozens
    of moons."), when the rest is a full sentence of at least five words. An appositive that
    names a term ("a process called transpiration") or a thing ("our star, the Sun"), a list
    ("rivers, the lakes, and oceans") and an opening phrase ("In winter, the days are short")
    stay."""
    match = _APPOSITIVE.search(sentence)
    if match is None or _NAMES_A_TERM.search(match.group(1)):
        return sentence
    head, tail = sentence[: match.start()], sentence[match.end() :]
    head_words = head.split()
    if (
        len(match.group(1).split()) > APPOSITIVE_MAX_WORDS
        or "," in head
        or not head_words
        or head_words[0].lower() in _OPENERS
        or head_words[-1].lower() in _LIST_WORDS
        or any(word[:1].isupper() for word in match.group(1).split())  # a name: "the Sun"
        # "High in the sky, the air is cold, so ...": a clause, not an appositive
        or any(word.lower() in AUXILIARIES for word in match.group(1).split())
        or (tail.split()[:1] and tail.split()[0].lower() in _LIST_WORDS | _RELATIVE | CONJUNCTIONS)
    ):
        return sentence
    joined = f"{head}{match.group(2)}" if match.group(2) else f"{head} {tail}"
    return joined if len(joined.split()) >= 5 else sentence


def plain_words(sentence: str) -> str:
    """Listed words replaced by their common synonyms (a capitalised name is left alone), and an
    opening "Therefore," or "However," by "So" or "But"."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        start = match.start() == 0
        if word[:1].isupper() and not start:
            return word  # "the Louisiana Purchase" is a name
        plain = SYNONYMS.get(word.lower())
        if plain is None:
            return word
        return plain[:1].upper() + plain[1:] if start else plain

    opening = _OPENING_WORD.match(sentence)
    if opening and opening.group(1).lower() in OPENING_SYNONYMS:
        plain = OPENING_SYNONYMS[opening.group(1).lower()]
        sentence = f"{plain[:1].upper()}{plain[1:]} {sentence[opening.end() :]}"
    return _WORD.sub(swap, sentence)


def _above(sentence: str, grade: Grade, aim: float | None) -> bool:
    """Whether ``sentence`` reads above the aimed level (the grade unless given)."""
    reading = fk_grade(sentence)
    centre = float(grade.level) if aim is None else aim
    return reading > centre and level_distance(reading, grade, aim) > 0


def _nearer(sentence: str, parts: list[str], grade: Grade, aim: float | None) -> bool:
    """Whether the parts of a split read nearer the aimed level than the sentence above it."""
    before = level_distance(fk_grade(sentence), grade, aim)
    return (
        _above(sentence, grade, aim) and level_distance(passage_grade(parts), grade, aim) < before
    )


def simplify(sentence: str, grade: Grade, limit: int, aim: float | None = None) -> list[str]:
    """``sentence`` as one or more plainer sentences for ``grade`` (unchanged for older grades);
    ``limit`` is the comfortable sentence length in words and ``aim`` the reading level to bring
    it to (the grade unless given: a passage whose terms read above the grade aims its other
    sentences lower, see ``editing.edited_sentences``).

    The splits come first, each kept only when the parts read nearer the aimed level than the
    whole (a split keeps every word, so only the length changes); then, for a sentence that
    still reads above it, a dropped closing remark or appositive (shorter,
    though the formula may not say so: it counts the short words dropped as easy ones).
    """
    if not simplified_for(grade):
        return [sentence]
    parts = [plain_words(sentence)]
    for split in (split_semicolons, split_clauses):
        found: list[str] = []
        for part in parts:
            pieces = split(part)
            found.extend(pieces if _nearer(part, pieces, grade, aim) else [part])
        parts = found
    shorter: tuple[Callable[[str], str], ...] = (
        lambda text: drop_which_remark(text, limit),
        drop_appositive,
    )
    for edit in shorter:
        parts = [edit(part) if _above(part, grade, aim) else part for part in parts]
    return parts
