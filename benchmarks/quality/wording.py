"""Sentence checks: references to pictures that are not on screen, and fragments.

Figure references. The slides show a title and bullets only, so a sentence that points at a
figure, table, picture, diagram, graph, chart, photo, map or illustration points at nothing.
``FIGURE_PATTERNS`` are the forms counted (case-insensitive); a sentence counts once.

Fragments. A narration sentence is a fragment when it
- does not end with ".", "!" or "?" (after closing quotes and brackets), which includes a
  trailing comma, colon, semicolon, dash or ellipsis;
- ends with a word that cannot end a sentence: an article, a preposition that needs an object,
  a conjunction or a relative word ("... made of the.", "... because.");
- has unbalanced parentheses or brackets, an odd number of straight double quotes, or unequal
  curly opening and closing double quotes;
- has fewer than three words; or
- starts with a pronoun that needs a referent ("This", "These", "It", "They", "Such", "That",
  "Those", "He", "She", "Its", "Their") and nothing earlier in the same scene can supply one:
  it is the first narration sentence of its scene, or (for "He" and "She") no earlier sentence
  of the scene names anyone (a capitalised word that does not start its sentence). "This video"
  and "this lesson" refer to the video itself and are not counted.
A capital "A" after a capitalised word ends a name ("Alpha Centauri A"), not a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vividly_ray.library.text import word_set

FIGURE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "Figure 3", "Fig. 2.1", "Table 4", "see Diagram 2"
        r"\b(?:fig(?:ure)?s?\.?|tables?|diagrams?|illustrations?|photos?|photographs?|images?"
        r"|pictures?|graphs?|charts?|maps?|plots?)\s*\(?\d+(?:[.\-]\d+)*\)?",
        # "the table below", "this diagram", "the graph", "the following figure"
        r"\b(?:the|this|that|these|those|following|above|below|next|accompanying|preceding)"
        r"\s+(?!big\s+picture)(?:(?!(?:and|or)\b)\w+\s+){0,2}(?:figures?|tables?|diagrams?|pictures?|images?"
        r"|photos?|photographs?|graphs?|charts?|illustrations?|drawings?|maps?|plots?|panels?"
        r"|sketch(?:es)?)\b",
        # "as shown", "as illustrated", "as seen in/on/here/above/below"
        r"\bas (?:shown|illustrated|pictured|depicted|drawn)\b",
        r"\bas (?:can be )?seen (?:in|on|here|above|below)\b",
        # "shown on the left", "pictured at right", "seen below", "listed above"
        r"\b(?:shown|pictured|illustrated|depicted|seen|labell?ed|listed|given|described)"
        r"\s+(?:(?:on|at|to)\s+(?:the\s+)?(?:left|right|top|bottom)|here|above|below)\b",
        # "the left panel", "the upper image"
        r"\b(?:left|right|top|bottom|upper|lower)\s+(?:panel|image|photo|picture|part of the)\b",
        r"\bin (?:the|this) (?:picture|photo|image|figure|diagram|illustration|drawing)\b",
        # "On the left is an electrical circuit", "at right", "in the upper left"
        r"\b(?:on|at|to) the (?:left|right|top|bottom)\s+(?:is|are|was|were|shows?)\b",
        r"^(?:on|at) (?:the )?(?:left|right|top|bottom)\b",
        r"\b(?:at|on) (?:left|right)\b",
        r"\b(?:in|at) the (?:upper|lower|top|bottom) (?:left|right)\b",
        # what a removed reference leaves: "in the circuit of, the battery", "circuit of is"
        r"\b(?:of|in)\s*[,;:]",
        r"\bof\s+(?:is|are|was|were|shows?|has|have)\b",
    )
)

CLOSERS = "\"')]\u201d\u2019"
ENDINGS = (".", "!", "?")
# Words that leave a phrase open when they end a sentence.
OPEN_ENDINGS = word_set(
    """
    a an the and or but nor of to for with from into onto than as at by via whose because
    although whereas if unless whether which that such its their our your my
    """
)
# Prepositions a question-word clause may leave at its end, and the words that open one.
STRANDABLE = word_set("of to for with from at by into onto")
CLAUSE_OPENERS = word_set("what which who whom where")
REFERRING = word_set("this these it they such that those he she its their")
PERSONAL = frozenset({"he", "she"})
SELF_REFERENCES = word_set("video lesson")
_WORD = re.compile(r"[A-Za-z\u2019']+")


def figure_reference(text: str) -> str | None:
    """The first words of ``text`` that point at a figure, or None."""
    for pattern in FIGURE_PATTERNS:
        found = pattern.search(text)
        if found:
            return found.group(0)
    return None


def _first_word(sentence: str) -> str:
    found = _WORD.search(sentence)
    return found.group(0).lower() if found else ""


def _names_someone(sentence: str) -> bool:
    """A capitalised word that does not start the sentence (a name, in practice)."""
    return any(word[:1].isupper() for word in sentence.split()[1:])


def end_problem(text: str, *, needs_stop: bool = True) -> str | None:
    """Why ``text`` ends mid-phrase, or None; ``needs_stop`` asks for final punctuation."""
    body = text.strip().rstrip(CLOSERS).rstrip()
    if not body:
        return "empty"
    if body.endswith(("\u2026", "...")):
        return "ends with an ellipsis"
    if body.endswith((",", ";", ":", "-", "\u2013", "\u2014")):
        return f"ends with {body[-1]!r}"
    last = re.findall(r"[A-Za-z0-9']+", body)
    if (
        last
        and last[-1].lower() in OPEN_ENDINGS
        and not ends_with_name(last)
        and not stranded_preposition(last)
    ):
        return f"ends with {last[-1]!r}"
    if needs_stop and not body.endswith(ENDINGS):
        return f"no final punctuation (ends {body[-1]!r})"
    return None


def stranded_preposition(words: Sequence[str]) -> bool:
    """A preposition closing a clause that a question word opened ("what comets are made
    of", "which the Moon is made from"): complete English, not an open phrase."""
    if not words or words[-1].lower() not in STRANDABLE:
        return False
    return any(word.lower() in CLAUSE_OPENERS for word in words[:-2])


def ends_with_name(words: Sequence[str]) -> bool:
    """A final capital "A" after a capitalised word: a designation ("Alpha Centauri A")."""
    return len(words) >= 2 and words[-1] == "A" and words[-2][:1].isupper()


def balance_problem(text: str) -> str | None:
    """Unbalanced brackets or quotes, or None."""
    for opening, closing in ("()", "[]"):
        if text.count(opening) != text.count(closing):
            return f"unbalanced {opening}{closing}"
    if text.count('"') % 2:
        return "odd number of double quotes"
    if text.count("\u201c") != text.count("\u201d"):
        return "unbalanced curly quotes"
    return None


def fragment_problem(sentence: str, earlier: Sequence[str]) -> str | None:
    """Why a narration sentence is a fragment, or None; ``earlier`` is what its scene said
    before it."""
    problem = end_problem(sentence) or balance_problem(sentence)
    if problem:
        return problem
    if len(_WORD.findall(sentence)) < 3:
        return "fewer than three words"
    first = _first_word(sentence)
    second = _WORD.findall(sentence)[1].lower()
    if first in REFERRING and second not in SELF_REFERENCES:
        if not earlier:
            return f"starts with {first!r} but opens its scene"
        if first in PERSONAL and not any(_names_someone(s) for s in earlier):
            return f"starts with {first!r} but its scene names no one before"
    return None


def bullet_problem(bullet: str) -> str | None:
    """Why an on-screen bullet reads as cut off (a phrase needs no full stop), or None."""
    return end_problem(bullet, needs_stop=False) or balance_problem(bullet)
