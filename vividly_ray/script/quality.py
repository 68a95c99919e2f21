"""Whether an on-screen bullet reads as a complete, faithful phrase.

A bullet is made from its narrated sentence only by dropping words and keeping the rest in order,
so every check compares the two. A bullet is flagged when it is too long, uses a word the sentence
does not, ends on a word that needs something after it ("the", "of", "hundreds", "can"), stops
inside a phrase the sentence goes on with ("call the endless journey of water | the water cycle"),
leaves out what follows a bare "and" ("bump into each other | and join together") or the rest of
a list ("oceans, | lakes, rivers"), is only the opening "When ..." part of a sentence, drops a
negation or condition that its words depend on ("Without the heat from the sun, | water would
not rise"), or opens with a pronoun that has nothing to refer to on a slide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from vividly_ray.library.text import word_set
from vividly_ray.script.vocabulary import (
    AUXILIARIES,
    CLAUSE_OPENERS,
    CONDITIONS,
    CONJUNCTIONS,
    COPULAS,
    DETERMINERS,
    NAMING_WORDS,
    NEGATIONS,
    NUMBERS,
    PREPOSITIONS,
    QUANTIFIERS,
    SHELL_NOUNS,
    SUBORDINATORS,
    UNCLEAR_STARTS,
    WEAK_ENDINGS,
)

MAX_BULLET_WORDS = 8  # what a bullet aims for
HARD_BULLET_WORDS = 9  # one more only when every shorter phrase would be flagged

TOO_LONG = "too long"
INVENTED = "uses words the sentence does not"
WEAK_END = "ends on a word that needs more after it"
CUT_PHRASE = "stops inside a phrase"
CUT_AND = "drops what follows 'and'"
CUT_LIST = "stops inside a list"
FRAGMENT = "is only an opening clause"
LOST_CONDITION = "drops a negation or condition"
PRONOUN_START = "opens with a pronoun that refers to nothing"
TOO_SHORT = "says too little"

_NOUN_MARKERS = (DETERMINERS - word_set("that")) | PREPOSITIONS | QUANTIFIERS | word_set("even")
_REPORTING = word_set(
    """
    say says said tell tells told show shows showed mean means meant explain explains state
    states suggest suggests learn learns learned know knows knew guess guessed think thinks
    believe believes find finds found discover discovered decide decides see sees notice
    """
)
_OBJECT_PRONOUNS = word_set("us you them me him her it")
_ADVERBS = word_set("downhill uphill upward upwards downward downwards away apart again together")
# A "Term: gloss" bullet's gloss may stop where the sentence goes on to name the term.
_NAMING_ADVERBS = word_set("also often sometimes usually")
_TOKEN = re.compile(r"[\w'\u2019-]+[.,;:!?\u2014\u2013)\"\u201d]*")
_MARKS = '.,;:!?\u2014\u2013)"\u201d'


def tokens(text: str) -> list[tuple[str, bool]]:
    """Lowercase words, each with whether punctuation follows it directly."""
    found: list[tuple[str, bool]] = []
    for raw in _TOKEN.findall(text.replace("\u2019", "'")):
        word = raw.rstrip(_MARKS).lower().strip("'-")
        if word:
            found.append((word, raw.rstrip(_MARKS) != raw))
    return found


def _align(part: Sequence[str], sentence: Sequence[str]) -> list[int] | None:
    """Positions of ``part``'s words in ``sentence``, in order (earliest match); None if absent."""
    positions: list[int] = []
    at = 0
    for word in part:
        while at < len(sentence) and sentence[at] != word:
            at += 1
        if at == len(sentence):
            return None
        positions.append(at)
        at += 1
    return positions


def split_term(bullet: str) -> tuple[str, str]:
    """("Evaporation", "liquid water turns into water vapor") for a "Term: gloss" bullet."""
    head, colon, tail = bullet.partition(": ")
    return (head, tail) if colon else ("", bullet)


def is_list_comma(sentence: Sequence[tuple[str, bool]], at: int) -> bool:
    """Whether the comma after word ``at`` separates items of a list ("oceans, lakes, and
    rivers") rather than clauses ("..., and the cycle would stop")."""
    segment: list[str] = []
    for n in range(at + 1, len(sentence)):
        word, marked = sentence[n]
        segment.append(word)
        if marked and n + 1 < len(sentence):
            if segment[0] in ("and", "or"):
                return len(segment) <= 5  # "..., and the press, along with ..."
            return len(segment) <= 3 and segment[0] not in CONJUNCTIONS
    return bool(segment) and segment[0] in ("and", "or") and len(segment) <= 5


def clause_commas(sentence: Sequence[tuple[str, bool]]) -> list[int]:
    """Positions of the words followed by a comma that ends a clause."""
    return [i for i, (_, comma) in enumerate(sentence) if comma and not is_list_comma(sentence, i)]


def _has_predicate(gloss: Sequence[str]) -> bool:
    """Whether a phrase seems to hold a verb: an auxiliary, or a later word ending in -s/-ed."""
    return any(w in AUXILIARIES or (n and w.endswith(("s", "ed"))) for n, w in enumerate(gloss))


def _end_problem(
    placed: Sequence[int],
    sentence: Sequence[tuple[str, bool]],
    gloss: Sequence[str],
    term_after: Sequence[str],
    term_given: bool,
) -> str | None:
    """Why stopping after the bullet's last word leaves a phrase unfinished, if it does."""
    last = placed[-1]
    if last + 1 >= len(sentence):
        return None
    if sentence[last][1]:
        # Stopping after the first item reads as a whole ("Sunlight warms oceans"); stopping
        # after a later one shows a list cut short ("Sunlight warms oceans, lakes").
        listed = any(is_list_comma(sentence, i) for i in placed[:-1] if sentence[i][1])
        enumerates = any(w in COPULAS or w.startswith("include") for w in gloss)  # "are X, Y"
        more = last + 1 < len(sentence) and sentence[last + 1][0] in ("and", "or")
        cut = (listed or enumerates) and (more or is_list_comma(sentence, last))
        return CUT_LIST if cut else None
    following = [word for word, _ in sentence[last + 1 : last + 4]]
    if term_after:
        # "Water stored beneath the ground | is called groundwater",
        # "Scientists call the endless journey of water | the water cycle."
        rest = following[1:] if following[0] in DETERMINERS else following
        second = following[1] if len(following) > 1 else ""
        # "The first big step of the water cycle | is evaporation."
        named_next = second == term_after[0] or (
            second in DETERMINERS and following[2:3] == [term_after[0]]
        )
        naming = following[0] in NAMING_WORDS or (
            following[0] in AUXILIARIES and (second in NAMING_WORDS | _NAMING_ADVERBS or named_next)
        )
        if naming or rest[:1] == [term_after[0]]:
            return None
    if following[0] in CLAUSE_OPENERS:
        # "A magnet is an object | that ...", but not "The first law tells us | that ..." nor
        # "Only free adult men | whose parents ...": the point is still to come.
        said = gloss[-1] in _REPORTING or gloss[-1] in _OBJECT_PRONOUNS
        return CUT_PHRASE if said or not (term_given or _has_predicate(gloss)) else None
    if following[0] in ("and", "or", "but"):
        return CUT_AND
    if following[0] == "very" or (following[0].endswith("ly") and len(following[0]) > 4):
        return None  # "absorbs red and blue light | very well"
    detail = following[0] in PREPOSITIONS and following[0] not in ("of", "to")
    if detail and len(gloss) >= 3 and _complete_before_preposition(gloss):
        return None  # "rises into the air | on warm days": the rest only adds detail
    return CUT_PHRASE


def _complete_before_preposition(gloss: Sequence[str]) -> bool:
    """Whether a phrase can stop before a preposition: after a noun phrase ("into the air"), an
    object ("divided power") or an adverb ("flows downhill"), not after a verb that wants it
    ("bump | into each other", "turns | into vapor")."""
    last, before = gloss[-1], gloss[-2]
    if last in _ADVERBS or (last.endswith("ly") and len(last) > 4 and before not in AUXILIARIES):
        return True
    if last in NUMBERS or last.isdigit() or last in SHELL_NOUNS:
        return False  # "connected one | after another", "wraps all the way | around Antarctica"
    opens_noun = gloss[-3] in DETERMINERS | QUANTIFIERS | NUMBERS if len(gloss) >= 3 else False
    if opens_noun and gloss[-3] != "that" and not before.endswith("s") and not last.endswith("s"):
        return True  # "another important check | on the other branches"
    if last.endswith(("ed", "ing")) and before not in DETERMINERS:
        return False
    return (
        before.isdigit()
        or before in _NOUN_MARKERS | AUXILIARIES
        or (before.endswith("ed") and len(before) > 4)
    )


def _fragment(sentence: Sequence[tuple[str, bool]], placed: Sequence[int], opener: bool) -> bool:
    """Whether the bullet is only an opening "When ..." or "In ..." clause."""
    if not opener:
        return False
    return not any(placed[0] <= i < placed[-1] for i in clause_commas(sentence))


def _lost_meaning(
    sentence: Sequence[tuple[str, bool]], placed: Sequence[int], kept: set[str]
) -> bool:
    """Whether a negation or condition the kept words depend on was dropped."""
    first, last = placed[0], placed[-1]
    for k, (word, _) in enumerate(sentence[: last + 1]):
        if word in kept or (word not in NEGATIONS and word not in CONDITIONS):
            continue
        if first <= k:
            return True
        between = any(comma for _, comma in sentence[k:first])
        if (word in NEGATIONS and not between) or (word in CONDITIONS and between):
            return True
    return False


@lru_cache(maxsize=16384)
def bullet_problems(bullet: str, sentence: str) -> tuple[str, ...]:
    """What is wrong with ``bullet`` as a summary of ``sentence``; empty when nothing is
    (remembered: planning asks again for the same sentences)."""
    problems: list[str] = []
    if len(bullet.split()) > HARD_BULLET_WORDS:
        problems.append(TOO_LONG)
    term_text, gloss_text = split_term(bullet)
    marked = tokens(sentence)
    plain = [word for word, _ in marked]
    term = [word for word, _ in tokens(term_text)]
    gloss = [word for word, _ in tokens(gloss_text)]
    if not gloss:
        return (*problems, WEAK_END)
    if gloss[0] in UNCLEAR_STARTS and not term:
        problems.append(PRONOUN_START)
    function = WEAK_ENDINGS | CLAUSE_OPENERS | SHELL_NOUNS
    content = [w for w in gloss if w not in function]
    if len(content) < 2 and len(content) < len([w for w in plain if w not in function]):
        problems.append(TOO_SHORT)  # "A large", "Isolated system: any system" say too little
    placed = _align(gloss, plain)
    term_placed = _align(term, plain) if term else []
    if term_placed is None or placed is None:
        return (
            (*problems, WEAK_END, INVENTED) if gloss[-1] in WEAK_ENDINGS else (*problems, INVENTED)
        )
    # A clause may end on a particle or a pronoun-like word: "carbon dioxide flows in, ...",
    # "the largest planet of all.", "the rights every citizen should have."
    particle = gloss[-1] not in DETERMINERS | CONJUNCTIONS and (
        placed[-1] + 1 == len(marked) or marked[placed[-1]][1]
    )
    if gloss[-1] in WEAK_ENDINGS and not particle:
        problems.append(WEAK_END)
    later = plain[placed[-1] + 1 :]
    term_after = (
        term if term and any(later[i : i + len(term)] == term for i in range(len(later))) else []
    )
    ending = _end_problem(placed, marked, gloss, term_after, bool(term))
    if ending is not None:
        problems.append(ending)
    opener = gloss[0] in SUBORDINATORS | word_set("such") or (gloss[0] in PREPOSITIONS and not term)
    # "Using light, water, and carbon dioxide, a plant ..." opens with a participle clause;
    # "Keeping your heart healthy helps your whole body ..." opens with its subject.
    commas = clause_commas(marked)
    participle = placed[0] == 0 and gloss[0].endswith("ing") and bool(commas) and commas[0] < 7
    opener = opener or (participle and not term)
    if _fragment(marked, placed, opener):
        problems.append(FRAGMENT)  # "When the drops grow too heavy" says nothing by itself
    if _lost_meaning(marked, placed, set(gloss + term)):
        problems.append(LOST_CONDITION)
    return tuple(problems)
