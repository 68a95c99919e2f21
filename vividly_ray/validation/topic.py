"""Finding what a question is about.

A question's topic is what is left once the scaffolding is gone (see ``wording.py``). Known terms
(the built-in vocabulary and the library's titles and keywords) are matched first, longest phrase
first, so "black hole" is one topic and not a colour; any remaining content word that looks like a
real word also counts, so a topic missing from every list ("quasar") is still a topic. A whole
subject ("physics") is recognised separately: it is a direction, not a topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vividly_ray.validation import wording
from vividly_ray.validation.text import Token, phrase_keys, tokenize
from vividly_ray.validation.vocabulary import SUBJECTS, TERMS

_CONNECTORS = frozenset({"of", "and", "the", "&"})  # may join two content words into one topic
_MAX_TOPIC_WORDS = 6
_VOWELS = frozenset("aeiouy")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_MATH = re.compile(
    r"\d+(?:\.\d+)?\s*(?:[+*/×÷^=x]|\s-\s|times|plus|minus|divided by|to the power of)\s*\d+"
)


class Cue(StrEnum):
    """Hints about what a student without a topic is referring to."""

    POINTER = "pointer"  # "it", "this", "that thing"
    HOMEWORK = "homework"
    CLASS = "class"
    TODAY = "today"  # the class was today, so ask about today's lesson


@dataclass(frozen=True)
class TopicReading:
    """What topic detection found in one question."""

    topic: str  # the topic phrase as the student wrote it; "" when there is none
    known_terms: tuple[str, ...]  # vocabulary and library terms found, in order
    subjects: tuple[str, ...]  # whole subjects named, as display names
    pointer: str  # the first word that stands for an unseen topic ("it"), "" when none
    cues: frozenset[Cue]


class TermIndex:
    """Phrases to look for in a question, matched on word keys, longest first."""

    def __init__(self, phrases: Mapping[tuple[str, ...], str]) -> None:
        self._phrases = dict(phrases)
        self._longest = max((len(keys) for keys in self._phrases), default=0)

    def match_at(self, keys: Sequence[str], start: int) -> tuple[int, str] | None:
        """The length and value of the longest phrase starting at ``start``, if any."""
        for length in range(min(self._longest, len(keys) - start), 0, -1):
            value = self._phrases.get(tuple(keys[start : start + length]))
            if value is not None:
                return length, value
        return None


def subject_index() -> TermIndex:
    return TermIndex({phrase_keys(name): shown for name, shown in SUBJECTS.items()})


def term_index(extra_terms: Iterable[str] = ()) -> TermIndex:
    """The built-in vocabulary plus usable library terms (value: the subject, or "library")."""
    phrases: dict[tuple[str, ...], str] = {}
    for subject, terms in TERMS.items():
        for term in terms:
            phrases[phrase_keys(term)] = subject
    for term in extra_terms:
        for keys in _usable_phrases(term):
            phrases.setdefault(keys, "library")
    return TermIndex(phrases)


def _usable_phrases(term: str) -> Iterable[tuple[str, ...]]:
    """Parts of a library title or keyword that name a topic.

    Titles carry punctuation ("Physics: Definitions and Applications") and filler ("Introduction",
    "The Seasons"); a part made only of subject names and scaffolding would make "physics" or
    "introduction" look like a topic, so such parts are dropped.
    """
    subject_phrases = {phrase_keys(name) for name in SUBJECTS}
    subject_words = {word for keys in subject_phrases for word in keys}
    part: list[str] = []
    for token in (*tokenize(term), None):
        if token is not None and not token.is_break:
            part.append(token.key)
            continue
        while part and part[0] in wording.GRAMMAR:
            part.pop(0)
        while part and part[-1] in wording.GRAMMAR:
            part.pop()
        topical = [key for key in part if not wording.is_non_topic(key)]
        if any(key not in subject_words for key in topical) and tuple(part) not in subject_phrases:
            yield tuple(part)
        part = []


def looks_like_a_word(key: str) -> bool:
    """Rejects keyboard mashing ("asdfgh", "zzzz", "xkcdqp") that no topic is spelled like.

    Short words without vowels pass: they are usually acronyms ("gps", "nfl").
    """
    if not key.isalpha() or len(key) < 3 or (len(key) > 4 and not _VOWELS & set(key)):
        return False
    if re.search(r"(.)\1\1", key) or re.search(r"[^aeiouy]{6}", key):
        return False
    return not (len(key) >= 4 and any(key in row for row in _KEYBOARD_ROWS))


def _is_year(key: str) -> bool:
    return key.isdigit() and len(key) == 4 and 1000 <= int(key) <= 2099


class _Role(StrEnum):
    NONE = ""
    TERM = "term"  # part of a known vocabulary or library phrase
    SUBJECT = "subject"  # part of a whole subject's name
    CONTENT = "content"  # a word left over once the scaffolding is gone
    MODIFIER = "modifier"  # "great" in "Great Barrier Reef"
    POINTER = "pointer"  # "this equation": stands for something unseen


_TOPICAL = (_Role.TERM, _Role.CONTENT, _Role.MODIFIER)  # what a topic phrase is made of


def read_topic(question: str, terms: TermIndex, subjects: TermIndex) -> TopicReading:
    """Find the topic, known terms, subjects and pointers in one question."""
    tokens = tokenize(question)
    keys = [token.key for token in tokens]
    roles, term_spans, named_subjects = _match_phrases(keys, terms, subjects)
    pointer = _mark_words(tokens, roles)
    _attach_modifiers(keys, roles)
    known = [_surface(tokens[start:end]) for start, end in term_spans if roles[start] is _Role.TERM]
    runs = _runs(tokens, roles)
    chosen = next((run for run in runs if _Role.TERM in run[1]), runs[0] if runs else None)
    topic = _surface(chosen[0]) if chosen else ""
    if chosen and (owned := _owned(tokens, roles, chosen[0], runs)):
        topic = f"{_surface(owned)} of {topic}"
    if not topic and (expression := _MATH.search(question.casefold())):
        topic = expression.group()
    return TopicReading(
        topic=topic,
        known_terms=tuple(dict.fromkeys(known)),
        subjects=tuple(dict.fromkeys(named_subjects)),
        pointer=pointer,
        cues=_cues(keys, pointer),
    )


def _match_phrases(
    keys: Sequence[str], terms: TermIndex, subjects: TermIndex
) -> tuple[list[_Role], list[tuple[int, int]], list[str]]:
    """Known terms and subject names, longest first; a term wins a tie ("nuclear physics")."""
    roles = [_Role.NONE] * len(keys)
    term_spans: list[tuple[int, int]] = []
    named_subjects: list[str] = []
    position = 0
    while position < len(keys):
        term = terms.match_at(keys, position)
        subject = subjects.match_at(keys, position)
        if term and (not subject or term[0] >= subject[0]):
            length, role = term[0], _Role.TERM
            term_spans.append((position, position + length))
        elif subject:
            length, role = subject[0], _Role.SUBJECT
            named_subjects.append(subject[1])
        else:
            position += 1
            continue
        roles[position : position + length] = [role] * length
        position += length
    return roles, term_spans, named_subjects


def _mark_words(tokens: Sequence[Token], roles: list[_Role]) -> str:
    """Mark pointers and content words; return the first pointer as written ("" if none)."""
    pointer = ""
    keys = [token.key for token in tokens]
    for index, token in enumerate(tokens):
        previous = keys[index - 1] if index else ""
        following = keys[index + 1] if index + 1 < len(keys) else ""
        if (
            roles[index] in (_Role.NONE, _Role.TERM)
            and token.key in wording.ARTIFACTS
            and previous in wording.POINTING_DETERMINERS
        ):
            # "this equation", "my essay": something the video maker cannot see.
            roles[index] = _Role.POINTER
            pointer = pointer or f"{tokens[index - 1].surface} {token.surface}"
        elif roles[index] is not _Role.NONE:
            continue
        elif token.key in wording.POINTERS:
            # "this" before "equation" is reported together with it, on the next word.
            if following not in wording.ARTIFACTS:
                pointer = pointer or token.surface
        elif not wording.is_non_topic(token.key) and (
            looks_like_a_word(token.key) or _is_year(token.key)
        ):
            roles[index] = _Role.CONTENT
    return pointer


def _attach_modifiers(keys: Sequence[str], roles: list[_Role]) -> None:
    # Right to left, so that in "great big" both words attach to the topic word after them.
    for index in range(len(keys) - 2, -1, -1):
        if (
            roles[index] is _Role.NONE
            and keys[index] in wording.MODIFIERS
            and roles[index + 1] in _TOPICAL
        ):
            roles[index] = _Role.MODIFIER


def _runs(
    tokens: Sequence[Token], roles: Sequence[_Role]
) -> list[tuple[tuple[Token, ...], tuple[_Role, ...]]]:
    """Maximal stretches of topic words, joined across "of", "and" and "the"."""
    runs: list[tuple[tuple[Token, ...], tuple[_Role, ...]]] = []
    start: int | None = None
    end = 0
    for index in range(len(tokens) + 1):
        is_topic = index < len(tokens) and roles[index] in _TOPICAL
        if is_topic:
            if start is None:
                start = index
            end = index + 1
            continue
        joins = index < len(tokens) and tokens[index].key in _CONNECTORS
        if start is not None and joins and _topic_follows(tokens, roles, index):
            continue
        if start is not None:
            span = slice(start, min(end, start + _MAX_TOPIC_WORDS))
            runs.append((tuple(tokens[span]), tuple(roles[span])))
            start = None
    return runs


_HAVING = frozenset({"have", "has", "had"})


def _owned(
    tokens: Sequence[Token],
    roles: Sequence[_Role],
    chosen: Sequence[Token],
    runs: Sequence[tuple[tuple[Token, ...], tuple[_Role, ...]]],
) -> tuple[Token, ...]:
    """What a question asks the topic has, when it asks that ("Why does the Moon have so many
    craters?" asks about the Moon's craters): the next run of topic words after the topic and
    "have", with only other words between. Empty otherwise (in "Why do we have tides?" no topic
    comes before "have")."""
    end = next(i for i, token in enumerate(tokens) if token is chosen[-1]) + 1
    if end >= len(tokens) or tokens[end].key not in _HAVING:
        return ()
    for run, _ in runs:
        start = next(i for i, token in enumerate(tokens) if token is run[0])
        if start > end:
            between = roles[end + 1 : start]
            return run if all(role is _Role.NONE for role in between) else ()
    return ()


def _topic_follows(tokens: Sequence[Token], roles: Sequence[_Role], index: int) -> bool:
    for later in range(index + 1, min(index + 3, len(tokens))):
        if roles[later] in _TOPICAL:
            return True
        if tokens[later].key not in _CONNECTORS:
            return False
    return False


def _surface(tokens: Sequence[Token]) -> str:
    return " ".join(token.surface for token in tokens)


def _cues(keys: Sequence[str], pointer: str) -> frozenset[Cue]:
    cues: set[Cue] = set()
    if pointer:
        cues.add(Cue.POINTER)
    if wording.HOMEWORK & set(keys):
        cues.add(Cue.HOMEWORK)
    if wording.CLASS & set(keys):
        cues.add(Cue.CLASS)
    if "today" in keys:
        cues.add(Cue.TODAY)
    return frozenset(cues)
