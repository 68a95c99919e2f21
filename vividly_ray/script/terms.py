"""What a sentence says about a key term: explains it, names it, only announces it, or neither.

Textbook prose introduces vocabulary in a handful of shapes: "Water stored beneath the ground is
called groundwater", "Evaporation happens when ...", "Precipitation is any water that ...",
"scientists call that flowing water runoff". A sentence like "The first big step of the water
cycle is evaporation" only announces a term; the script must not stop there. Reading these shapes
lets the writer keep each term together with the sentence that explains it, title a scene by the
term it teaches, and put that term on screen as "Term: short gloss".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from vividly_ray.library.text import tokenize, word_set
from vividly_ray.script.vocabulary import (
    ARTICLES,
    CONJUNCTIONS,
    COUNTING,
    NEGATIONS,
    NUMBERS,
    POSSESSIVES,
    PREPOSITIONS,
    PRONOUNS,
    SHELL_NOUNS,
    SUBORDINATORS,
)

MAX_TERM_WORDS = 4

_JOINERS = SUBORDINATORS | PREPOSITIONS | CONJUNCTIONS | word_set("since as where")
_RELATIVE = word_set("which that who whom whose where when if because")
_TERM_ADVERBS = word_set("also often usually sometimes always still simply itself themselves")
# Words that end the noun phrase before "called" when reading backwards ("in" does not:
# "tiny structures in plant cells called chloroplasts").
_NOUN_STOPS = word_set(
    """
    with of is are was were into on by from as and or to for a an the that which inside through
    contains contain has have
    """
)
_LEAD_INS = re.compile(
    r"^(?:for example|for instance|in fact|however|also|then|now|next|finally|first|second|"
    r"but|and|so|yet|still|indeed|third|instead|therefore|thus|in other words|as a result|"
    r"in addition|of course|remember(?: that)?|you (?:can|may) see (?:that )?|this means that|"
    r"today),?\s+",
    re.IGNORECASE,
)
_VERB = r"(?:is|are|was|were)"
_ADVERB = r"(?:\w+ly |also |often |sometimes |usually )?"
_CLASS_GLOSS = re.compile(
    r"^(?:a|an|the|any|one|one of|every|each|everything|anything|something)\b", re.IGNORECASE
)
_ANAPHORS = word_set("that this these those it them such")
_OBJECT_PRONOUNS = word_set("it them")


class Shape(StrEnum):
    """How a sentence treats its term."""

    NAMED = "named"  # "Water stored beneath the ground is called groundwater."
    EXPLAINED = "explained"  # "Evaporation happens when ...", "Velocity means ..."
    CLASSED = "classed"  # "Precipitation is any water that falls from the sky."
    ANNOUNCED = "announced"  # "The first big step of the water cycle is evaporation."
    DESCRIBED = "described"  # "The water on Earth is always on the move."


DEFINING = frozenset({Shape.NAMED, Shape.EXPLAINED, Shape.CLASSED})


@dataclass(frozen=True)
class Reading:
    """The term a sentence is about, the words that explain it, and how they relate.

    ``article`` is the article the sentence puts before the term ("the sun"), ``alias_of`` the
    other name when the sentence only gives a second name for a term ("also known as").
    """

    term: str | None = None
    gloss: str = ""
    shape: Shape | None = None
    article: str = ""
    alias_of: str | None = None

    @property
    def defines(self) -> bool:
        return self.shape in DEFINING


def core(sentence: str) -> str:
    """The sentence without an opening connective ("For example, ...") or final punctuation."""
    return _LEAD_INS.sub("", sentence.strip().rstrip(".!?"))


def _split_article(text: str) -> tuple[str, str]:
    words = text.strip().split()
    if words and words[0].lower() in ARTICLES | POSSESSIVES:
        article = words[0].lower()
        return (article if article in ARTICLES else ""), " ".join(words[1:])
    return "", " ".join(words)


_EDGE_MARKS = "\"'\u201c\u201d\u2018\u2019"


def as_term(text: str, longest: int = MAX_TERM_WORDS) -> str | None:
    """A short noun phrase that can be a term (no pronoun, clause or punctuation); else None.
    Quotation marks around it and a full stop inside the closing one go ("bad seeing.")."""
    text = text.strip().strip(_EDGE_MARKS).rstrip(".!?").strip(_EDGE_MARKS)
    words = _split_article(text)[1].split()
    while words and words[-1].lower() in _TERM_ADVERBS:
        words = words[:-1]
    if not 1 <= len(words) <= longest:
        return None
    lowered = [w.lower() for w in words]
    if lowered[0] in _JOINERS | COUNTING or any(w in PRONOUNS for w in lowered):
        return None  # "each piece", "most cells", "five minus negative three"
    if lowered[0] == "very" or (lowered[0].endswith("ly") and len(words) > 1):
        return None  # "very cold", "extremely hard" describe; they name nothing
    if lowered[-1] in SHELL_NOUNS or any(c.isdigit() for c in text):
        return None  # "the most famous example", "a common mistake", "digit 3"
    if any(w in NUMBERS for w in lowered):
        return None  # "fifteen square meters", "the opposite of four": examples, not ideas
    if any(w.endswith((",", ";", ":")) or w in _RELATIVE for w in lowered):
        return None
    if lowered[-1] in _JOINERS or lowered[-1] in ARTICLES:
        return None
    # "distance a number" is not a noun phrase; "pull of a magnet" is.
    if any(w in ARTICLES and lowered[i - 1] not in _JOINERS for i, w in enumerate(lowered) if i):
        return None
    return " ".join(words)


def _is_clause(text: str) -> bool:
    return "," in text or any(w.lower() in _RELATIVE for w in text.split())


def _noun_before(text: str) -> str:
    """The words just before "called": "covered with tiny openings" -> "tiny openings"."""
    found: list[str] = []
    for word in reversed(text.split()):
        if word.lower() in _NOUN_STOPS or word.endswith(","):
            break
        found.insert(0, word)
    return " ".join(found) if len(found) <= 5 else ""


def _antecedent(gloss: str) -> str:
    """ "..., but for any system where the force is zero, which" -> "any system where the force
    is zero": what a trailing "which is known as" names."""
    head, comma, tail = gloss.rpartition(",")
    if not comma or tail.strip().lower() not in ("which", "that"):
        return gloss
    head = head.removesuffix(",")
    clause = head.rpartition(",")[2].split()
    while clause and clause[0].lower() in _JOINERS:
        clause = clause[1:]
    return " ".join(clause) or gloss


def _reading(term_text: str, gloss: str, shape: Shape) -> Reading | None:
    gloss = _antecedent(gloss)
    term = as_term(term_text)
    if term is None:
        return None
    article = _split_article(term_text)[0]
    alias = as_term(gloss) if shape is Shape.NAMED and len(gloss.split()) <= 5 else None
    return Reading(term=term, gloss=gloss, shape=shape, article=article, alias_of=alias)


def _call_reading(text: str, known: Iterable[str]) -> Reading | None:
    """ "Scientists call the endless journey of water the water cycle" and its relatives."""
    match = re.match(
        r"^(?:(?P<before>.+?)(?:,? (?:and|so) |, ))?(?P<who>(?:\w+ ){0,2}\w+) (?:call|calls) "
        r"(?P<rest>.+)$",
        text,
        re.IGNORECASE,
    )
    if match is None or len(match.group("rest").split()) < 2:
        return None
    if any(w in NEGATIONS for w in match.group("who").lower().split()):
        return None  # "you could not call each piece a fourth" names nothing
    rest = match.group("rest").split()
    lowered = [w.lower() for w in rest]
    cut = next(
        (
            len(rest) - len(k.split())
            for k in sorted(known, key=lambda k: -len(k.split()))
            if lowered[-len(k.split()) :] == k.lower().split() and len(k.split()) < len(rest)
        ),
        None,
    )
    if cut is None and lowered[0] in _OBJECT_PRONOUNS:
        cut = 1  # "we call them equivalent fractions"
    if cut is None:
        articles = [i for i, w in enumerate(lowered) if w in ARTICLES and i > 0]
        cut = articles[-1] if articles and len(rest) - articles[-1] <= 5 else len(rest) - 1
    elif cut > 0 and lowered[cut - 1] in ARTICLES:
        cut -= 1
    gloss, term = " ".join(rest[:cut]), " ".join(rest[cut:])
    if lowered[0] in _ANAPHORS and match.group("before"):
        gloss = match.group("before")  # "Some rainwater flows downhill, and ... call that ..."
    return _reading(term, gloss, Shape.NAMED) if gloss else None


def _copula(text: str, known: Iterable[str]) -> Reading | None:
    """ "X is a ..." describes or classes X; "The next step is condensation" announces a term:
    one with an article ("is the tilt of Earth's axis") or one the material explains."""
    match = re.match(rf"^(?P<left>.+?) {_VERB} (?P<right>.+)$", text, re.IGNORECASE)
    if match is None:
        return None
    left, right = match.group("left"), match.group("right")
    if as_term(left) is not None:
        # "Veins are tubes that ...", "Arteries are thick, strong tubes that ..." class X too.
        relative = re.match(r"^(?:[\w-]+,? ){1,4}(?:that|which|who|where) ", right)
        classed = _CLASS_GLOSS.match(right) or relative
        return _reading(left, right, Shape.CLASSED if classed else Shape.DESCRIBED)
    term = as_term(right)
    if term is None or _is_clause(left):
        return None
    # "The key idea behind solving any equation is balance."
    opening = [w.lower().strip(",") for w in left.split()[:4]]
    shell = len(left.split()) <= 8 and any(w in SHELL_NOUNS for w in opening)
    if shell or _split_article(right)[0] or term.lower() in {k.lower() for k in known}:
        return _reading(right, left, Shape.ANNOUNCED)
    return None


_SHAPES: tuple[tuple[Shape, str, re.Pattern[str]], ...] = tuple(
    (shape, order, re.compile(pattern, re.IGNORECASE))
    for shape, order, pattern in (
        (
            Shape.NAMED,
            "gloss-term",
            rf"^(?P<gloss>.+?),? {_VERB} {_ADVERB}(?:called|known as|named|termed) "
            r"(?P<term>[^,;]+)(?:[,;].*)?$",
        ),
        (
            Shape.EXPLAINED,
            "term-gloss",
            r"^(?P<term>.+?) (?:happens|happen|occurs|occur|takes place|take place) when "
            r"(?P<gloss>.+)$",
        ),
        (
            Shape.EXPLAINED,
            "term-gloss",
            r"^(?P<term>.+?) (?:is|are) (?:how|what|when|where|why) (?P<gloss>.+)$",
        ),
        (
            Shape.EXPLAINED,
            "term-gloss",
            r"^(?P<term>.+?) (?:means|mean|refers to|refer to|says that|states that|is defined as"
            r"|are defined as|stands for) (?P<gloss>.+)$",
        ),
        (
            Shape.NAMED,
            "gloss-term",
            r"^(?P<gloss>.+?), (?:a|an|the) [\w ]{0,20}?(?:called|known as) (?P<term>[\w' -]+)$",
        ),
        (Shape.NAMED, "noun-term", r"^(?P<gloss>.+?) called (?P<term>[\w' -]+?)(?:,.*)?$"),
    )
)


@lru_cache(maxsize=8192)
def _read(sentence: str, known: frozenset[str]) -> Reading:
    text = core(sentence)
    if sentence.rstrip().endswith("?"):
        return Reading()  # a question names nothing
    for shape, order, pattern in _SHAPES:
        match = pattern.match(text)
        if match is None:
            continue
        gloss = match.group("gloss")
        if order == "noun-term":
            gloss = _noun_before(gloss)
        found = _reading(match.group("term"), gloss, shape)
        if found is not None and len(gloss.split()) >= (1 if order == "noun-term" else 2):
            return found
    return _call_reading(text, known) or _copula(text, known) or Reading()


def read(sentence: str, known: Iterable[str] = ()) -> Reading:
    """What ``sentence`` says about a term; ``known`` terms help split "call X the Y"."""
    return _read(sentence, frozenset(known))


def term_key(term: str) -> tuple[str, ...]:
    """A term as search tokens, so "evaporates" meets "evaporation"."""
    return tuple(tokenize(term))


def mentions(sentence_tokens: Sequence[str], key: Sequence[str]) -> bool:
    """Whether the tokens of a sentence hold the term's tokens side by side."""
    size = len(key)
    if size == 0:
        return False
    return any(
        tuple(sentence_tokens[i : i + size]) == tuple(key)
        for i in range(len(sentence_tokens) - size + 1)
    )
