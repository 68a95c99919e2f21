"""Saying a phrase in fewer words by dropping words, never by adding or reordering them.

Shorter forms are tried from a few principled edits: skip an opening "When ..." clause, collapse
"an invisible gas called water vapor" to its name, drop words that only add emphasis ("even",
"tiny"), keep the second of two joined actions ("warms up and turns into" -> "turns into"), and
stop at a place where the rest only adds detail. Every form is checked with ``bullet_problems``;
the fullest one that passes wins, and a key noun phrase of the sentence is the last resort.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from vividly_ray.library.text import word_set
from vividly_ray.script.quality import (
    HARD_BULLET_WORDS,
    INVENTED,
    MAX_BULLET_WORDS,
    WEAK_END,
    bullet_problems,
    clause_commas,
    tokens,
)
from vividly_ray.script.vocabulary import (
    AUXILIARIES,
    CLAUSE_OPENERS,
    CONJUNCTIONS,
    COPULAS,
    DETERMINERS,
    EMPHASIS,
    FUNCTION_WORDS,
    NAMING_WORDS,
    NUMBERS,
    PREPOSITIONS,
    PRONOUNS,
    QUANTIFIERS,
    SUBORDINATORS,
    UNCLEAR_STARTS,
    WEAK_ENDINGS,
)

_PARTICLES = word_set("up down out off back away together")
_CALLED = re.compile(r"\b(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:called|known as)\s+", re.IGNORECASE)
_MOST_BETWEEN = 6  # words from the first action to "and": "pull water up from the soil and"
_NOT_ACTIONS = FUNCTION_WORDS | NUMBERS | QUANTIFIERS | UNCLEAR_STARTS
# What follows an action: "turns into", "join together", "release some", "uses it".
_COMPLEMENT_OPENERS = FUNCTION_WORDS | _PARTICLES | PRONOUNS | EMPHASIS


def _bare(word: str) -> str:
    return word.lower().strip(".,;:!?\"'()\u201c\u201d")


def _third_person(word: str) -> bool:
    bare = _bare(word)
    return bare.endswith("s") and not bare.endswith("ss")


def _after_opening_clause(words: list[str]) -> list[str] | None:
    """The main clause after an opening "When ...," or "Using ...," clause, if there is one."""
    if not words or not (
        _bare(words[0]) in SUBORDINATORS | PREPOSITIONS or _bare(words[0]).endswith("ing")
    ):
        return None
    ends = clause_commas(tokens(" ".join(words)))
    if not ends or ends[0] + 2 >= len(words):
        return None
    rest = words[ends[0] + 1 :]
    return rest if _bare(rest[0]) not in CONJUNCTIONS else None


def _without_emphasis(words: list[str]) -> list[str]:
    kept = []
    for i, word in enumerate(words):
        following = _bare(words[i + 1]) if i + 1 < len(words) else ""
        previous = _bare(words[i - 1]) if i else ""
        # "turns back into" loses nothing; "the back of the raindrop" is a place.
        back = _bare(word) == "back" and following in PREPOSITIONS and previous not in DETERMINERS
        droppable = _bare(word) in EMPHASIS or back
        if not (droppable and not word.endswith(",") and 0 < i < len(words) - 1):
            kept.append(word)
    return kept


def _second_action(words: list[str]) -> list[str] | None:
    """ "liquid water warms up and turns into vapor" -> "liquid water turns into vapor".

    The first action starts after the subject (the first word that is not a function word and
    follows a content word) and agrees with the second one ("warms"/"turns", "bump"/"join").
    """
    bare = [_bare(w) for w in words]
    for n, word in enumerate(bare):
        if (
            word not in ("and", "but")
            or n == 0
            or words[n - 1].endswith(",")
            or n + 2 >= len(words)
        ):
            continue
        second, after = bare[n + 1], bare[n + 2]
        if second in _NOT_ACTIONS | _PARTICLES or after in AUXILIARIES:
            continue
        if after not in _COMPLEMENT_OPENERS:
            continue  # "space and time caused by mass": "time" is no action
        for start in range(1, n - 1):
            first = bare[start]
            if bare[start - 1] in AUXILIARIES | NUMBERS | QUANTIFIERS:
                break  # "Water can stay frozen ... and", "one plate may slide ... and"
            if (
                first not in _NOT_ACTIONS
                and first not in _PARTICLES
                and bare[start - 1] not in FUNCTION_WORDS
                and _third_person(first) == _third_person(second)
                and not any(w.endswith(",") for w in words[start:n])
                and not any(w in AUXILIARIES or w == "to" for w in bare[start:n])
                and n - start <= _MOST_BETWEEN
            ):
                return words[:start] + words[n + 1 :]
    return None


def _variants(phrase: str) -> list[list[str]]:
    """Shorter forms of a phrase, fullest first."""
    found: list[list[str]] = []
    starts = [phrase.split()]
    main = _after_opening_clause(starts[0])
    if main is not None:
        starts.append(main)
    for words in starts:
        step = words
        for edit in (
            lambda w: _CALLED.sub("", " ".join(w)).split(),
            _without_emphasis,
            lambda w: _second_action(w) or w,
        ):
            found.append(step)
            step = edit(step)
        found.append(step)
    unique: dict[str, list[str]] = {}
    for words in found:
        unique.setdefault(" ".join(words), words)
    return list(unique.values())


def _prefixes(words: Sequence[str]) -> Iterator[str]:
    """Each way of stopping early, longest first, without trailing punctuation."""
    for size in range(len(words), 1, -1):
        yield " ".join(words[:size]).rstrip(",;:\u2014\u2013")


def noun_phrases(sentence: str) -> list[str]:
    """Key noun phrases of a sentence, longest first: a run of words opened by a preposition
    ("Without the heat from the sun" -> "heat from the sun") or by an article after "is" ("is the
    tilt of Earth's axis" -> "tilt of Earth's axis"), up to punctuation or a joining word."""
    stops = CONJUNCTIONS | AUXILIARIES | CLAUSE_OPENERS | NAMING_WORDS
    runs: list[tuple[str, list[str]]] = [("", [])]
    for word in sentence.rstrip(".!?").split():
        if _bare(word) in stops:
            runs.append((_bare(word), []))
            continue
        runs[-1][1].append(word.rstrip(",;:"))
        if word.endswith((",", ";", ":")):
            runs.append(("", []))
    found = []
    for after, run in runs:
        if run and _bare(run[0]) == "to":
            continue  # "to carry blood" is an action, not a thing
        openers = SUBORDINATORS | PREPOSITIONS
        if after in COPULAS:
            openers = openers | DETERMINERS
        opened = False
        while run and _bare(run[0]) in openers | EMPHASIS:
            opened = opened or _bare(run[0]) not in EMPHASIS
            run = run[1:]
        while run and _bare(run[0]) in DETERMINERS:
            run = run[1:]
        while run and _bare(run[-1]) in WEAK_ENDINGS:
            run = run[:-1]
        if not opened or not 2 <= len(run) <= 6 or _bare(run[0]).endswith(("ing", "ly")):
            continue
        if not any(_bare(w) in UNCLEAR_STARTS for w in run):
            found.append(" ".join(run))
    return sorted(found, key=lambda p: -len(p.split()))


def _natural_ends(sentence: str) -> frozenset[str]:
    """Words of the sentence that a comma, semicolon or the final stop follows."""
    marked = tokens(sentence)
    return frozenset(w for n, (w, mark) in enumerate(marked) if mark or n + 1 == len(marked))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def shorten(phrase: str, sentence: str, budget: int, term: str = "") -> str:
    """The fullest clean short form of ``phrase`` (a part of ``sentence``) within ``budget`` words.

    With a ``term`` the result is the gloss of a "Term: gloss" bullet and is checked as one.
    """

    def bullet(text: str) -> str:
        return f"{term}: {text}" if term else _capitalised(text)

    options = [p for words in _variants(phrase) for p in _prefixes(words)]
    scored = [(option, bullet_problems(bullet(option), sentence)) for option in options]
    clean = [o for o, problems in scored if not problems]
    ends = _natural_ends(sentence)
    for limit in (budget, budget + HARD_BULLET_WORDS - MAX_BULLET_WORDS):
        fitting = [o for o in clean if len(o.split()) <= limit]
        if fitting:
            # Stopping where the sentence pauses reads better than stopping before a detail.
            return max(fitting, key=lambda o: (_bare(o.split()[-1]) in ends, len(o.split())))
    if not term:
        for option in noun_phrases(sentence):
            if len(option.split()) <= budget and not bullet_problems(bullet(option), sentence):
                return option
    short = [(o, p) for o, p in scored if len(o.split()) <= budget] or scored
    if not short:
        return phrase
    # A phrase that stops on a word needing more after it, or says what the sentence does not,
    # reads worst of all.
    return min(
        short,
        key=lambda item: (
            bool({WEAK_END, INVENTED} & set(item[1])),
            len(item[1]),
            -len(item[0].split()),
        ),
    )[0]
