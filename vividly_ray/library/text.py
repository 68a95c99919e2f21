"""Tokens for search: lowercase words without punctuation, English stopwords, a light stemmer.

The stemmer only needs to make the forms a student and a textbook use for the same idea land on
one token ("magnets", "magnetic", "magnetism" -> "magnet"; "evaporates", "evaporation" ->
"evapor"). It over-stems a little on purpose: a false match costs less here than a miss, because
ranking still weighs every other word of the query.
"""

from __future__ import annotations

import re
from functools import lru_cache


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (easier to read and edit)."""
    return frozenset(text.split())


STOPWORDS: frozenset[str] = word_set(
    """
    a about above after again against all almost also although am among an and any are aren't as
    at be because been before being below between both but by can can't cannot could couldn't
    did didn't do does doesn't doing don't down during each either else even ever every few for
    from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it
    it's its itself just let's may me might more most much must mustn't my myself neither no nor
    not now of off often on once only or other ought our ours ourselves out over own per quite
    rather really same shall shan't she she'd she'll she's should shouldn't since so some such
    than that that's the their theirs them themselves then there there's these they they'd
    they'll they're they've this those though through thus to too under until up upon us very
    was wasn't we we'd we'll we're we've were weren't what what's whatever when when's where
    where's whether which while who who's whom whose why why's will with within without won't
    would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
    """
)

_WORD = re.compile(r"\w+(?:'\w+)*")

# Derivational endings, longest first; each is removed once, leaving a stem of at least 3 letters.
_DERIVATIONAL = (
    "izations",
    "ization",
    "ations",
    "ation",
    "itions",
    "ition",
    "ically",
    "ical",
    "ities",
    "ity",
    "isms",
    "ism",
    "ists",
    "ist",
    "ments",
    "ment",
    "ness",
    "izes",
    "ize",
    "ic",
    "ate",
)
_MIN_STEM = 3


def _strip_inflection(word: str) -> str:
    """Plural, past, progressive and adverb endings."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")):
        return word[:-2] if len(word) - 2 >= _MIN_STEM else word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    if word.endswith("ing") and len(word) - 3 >= _MIN_STEM:
        return word[:-3]
    if word.endswith("ed") and not word.endswith("eed") and len(word) - 2 >= _MIN_STEM:
        return word[:-2]
    if word.endswith("ly") and len(word) - 2 >= _MIN_STEM + 1:
        return word[:-2]
    return word


# Words whose ending makes another idea, not a form of the shorter word: "weathering" (rock
# breaking down) is not "weather" (the state of the air).
_OWN_WORDS = frozenset({"weathering"})


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stemmer for lowercase English words."""
    if len(word) <= _MIN_STEM or not word.isalpha() or word in _OWN_WORDS:
        return word
    base = _strip_inflection(word)
    for suffix in _DERIVATIONAL:
        if base.endswith(suffix) and len(base) - len(suffix) >= _MIN_STEM:
            base = base[: -len(suffix)]
            break
    # "evaporated" -> "evaporat" must meet "evaporate" -> "evapor"
    if base.endswith("at") and len(base) - 2 >= _MIN_STEM:
        base = base[:-2]
    if base.endswith("e") and not base.endswith("ee") and len(base) - 1 >= _MIN_STEM:
        base = base[:-1]
    return base


_POSSESSIVE = re.compile(r"'s\b")


def words(text: str) -> list[str]:
    """Lowercase words of ``text`` with possessive endings removed, stopwords kept."""
    return _WORD.findall(_POSSESSIVE.sub("", text.lower().replace("\u2019", "'")))


# word -> search token ("" for words that are not searched); words repeat a lot in a library
_TOKENS: dict[str, str] = {}


def _token(word: str) -> str:
    token = "" if len(word) < 2 or word in STOPWORDS else stem(word)
    if len(_TOKENS) < 200_000:  # bounded: a pathological corpus cannot grow it without limit
        _TOKENS[word] = token
    return token


def tokenize(text: str) -> list[str]:
    """Search tokens: stemmed words without stopwords or single letters."""
    cache = _TOKENS
    found = [cache[w] if w in cache else _token(w) for w in words(text)]
    return [token for token in found if token]
