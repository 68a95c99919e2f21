"""Where caption text may break: between cues and between the two lines of one cue.

Subtitle style guides (the Netflix Timed Text Style Guide, the BBC subtitle guidelines) ask for
breaks at natural phrase boundaries: after a sentence or a clause's punctuation, or before a
conjunction or a preposition, and never between an article or a preposition and the words it
belongs to, or between a number and its unit. ``break_cost`` scores one place between two words
that way (lower is better); ``layout`` puts a cue's words on one line when they fit and else on
two lines of at most ``MAX_LINE_CHARS``, broken at the best-scoring place of similar lengths.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

MAX_LINE_CHARS = 42
MAX_LINES = 2

SENTENCE_BREAK = 0.0
CLAUSE_BREAK = 1.0  # after a comma, semicolon, colon or dash
PHRASE_BREAK = 2.0  # before a conjunction, a relative word or a preposition
WORD_BREAK = 4.0  # between two other words
BAD_BREAK = 8.0  # after an article, a preposition, a conjunction or a number
# Two lines of one cue are read together, so a line break splits a phrase less than a cue break.
LINE_BREAK_WEIGHT = 1.0

_CLOSERS = "\"')]’”"
_SENTENCE_ENDS = (".", "!", "?")
_CLAUSE_ENDS = (",", ";", ":", "—", "–")
# fmt: off
_PHRASE_OPENERS = frozenset({
    "and", "but", "or", "nor", "so", "yet", "because", "since", "although", "though",
    "unless", "whereas", "which", "who", "whom", "whose", "that", "where", "when", "while",
    "if", "than", "as", "to", "in", "on", "at", "for", "from", "with", "by", "into",
    "onto", "through", "during", "until", "after", "before", "about", "between", "without",
    "within", "like", "what", "how", "why", "whether"
})
_CLINGING = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "with", "by", "into",
    "onto", "through", "about", "between", "this", "these", "those", "its", "their", "his",
    "her", "our", "your", "my", "is", "are", "was", "were", "be", "can", "will", "would",
    "could", "should", "must", "do", "does", "did", "has", "have", "had", "not", "very",
    "more", "most", "less"
})
# fmt: on


def _bare(word: str) -> str:
    return word.strip(_CLOSERS + "\"'(“‘").lower()


def ends_sentence(word: str) -> bool:
    return word.rstrip(_CLOSERS).endswith(_SENTENCE_ENDS)


# The cue search asks about the same pair of words for every cue and line layout that breaks
# there (a dozen times each); the answer depends on the two words alone.
@functools.lru_cache(maxsize=4096)
def break_cost(before: str, after: str) -> float:
    """How badly a break between ``before`` and ``after`` splits a phrase."""
    trimmed = before.rstrip(_CLOSERS)
    if trimmed.endswith(_SENTENCE_ENDS):
        return SENTENCE_BREAK
    if trimmed.endswith(_CLAUSE_ENDS) or after in {"—", "–"}:
        return CLAUSE_BREAK
    if _bare(before) in _CLINGING | _PHRASE_OPENERS or any(ch.isdigit() for ch in before):
        return BAD_BREAK
    if _bare(after) in _PHRASE_OPENERS:
        return PHRASE_BREAK
    return WORD_BREAK


def _fits(line_chars: int, words: int) -> bool:
    # A single word longer than a line keeps a line to itself rather than being cut.
    return line_chars <= MAX_LINE_CHARS or words == 1


def layout(words: Sequence[str], cut: int | None = None) -> tuple[str, float] | None:
    """The cue text (lines joined by a newline) and the cost of its line break, or None when the
    words do not fit in ``MAX_LINES`` lines; ``cut``, when given, is the only place the line may
    break (before that word)."""
    text = " ".join(words)
    if cut is None and _fits(len(text), len(words)):
        return text, 0.0
    best: tuple[float, int] | None = None
    top = -1
    for place in range(1, len(words)):
        top += len(words[place - 1]) + 1
        bottom = len(text) - top - 1
        if cut not in (None, place):
            continue
        if not (_fits(top, place) and _fits(bottom, len(words) - place)):
            continue
        # Lines of similar length read more easily; a phrase boundary is worth some imbalance.
        cost = LINE_BREAK_WEIGHT * break_cost(words[place - 1], words[place])
        cost += 0.1 * abs(top - bottom)
        if best is None or cost < best[0]:
            best = (cost, place)
    if best is None:
        return None
    cost, place = best
    return " ".join(words[:place]) + "\n" + " ".join(words[place:]), cost
