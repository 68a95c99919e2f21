"""On-screen bullets: a narrated sentence summarised in a few words.

A bullet is at most ``MAX_BULLET_WORDS`` words. Where the sentence is about a term it reads
"Term: short gloss" ("Evaporation: liquid water turns into water vapor"); otherwise it is the
sentence's main clause, shortened where the rest only adds detail, or failing that a key noun
phrase. Only words of the sentence are used, in their order, so a bullet can never say something
the narration does not; ``quality.bullet_problems`` decides which short forms read as complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from vividly_ray.library.text import word_set
from vividly_ray.script.compress import shorten
from vividly_ray.script.quality import MAX_BULLET_WORDS, bullet_problems
from vividly_ray.script.terms import Reading, core, read

_GLOSS_OPENERS = word_set("the a an that because since as")


@dataclass(frozen=True)
class Summary:
    """A bullet for one sentence, and what the sentence says about its term."""

    text: str
    reading: Reading = field(default_factory=Reading)

    @property
    def term(self) -> str | None:
        return capitalised(self.reading.term) if self.reading.term else None

    @property
    def defines(self) -> bool:
        return self.reading.defines


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _gloss_start(gloss: str, proper: frozenset[str]) -> str:
    words = gloss.strip().split()
    while len(words) > 1 and words[0].lower() in _GLOSS_OPENERS:
        words = words[1:]
    if words and words[0] not in proper and not words[0][1:2].isupper():
        words[0] = words[0][:1].lower() + words[0][1:]
    return " ".join(words)


@lru_cache(maxsize=8192)
def _summarize(sentence: str, proper: frozenset[str], known: frozenset[str]) -> Summary:
    reading = read(sentence, known)
    plain = capitalised(shorten(core(sentence), sentence, MAX_BULLET_WORDS))
    if reading.term is None or not reading.gloss:
        return Summary(text=plain, reading=reading)
    term = capitalised(reading.term)
    budget = max(3, MAX_BULLET_WORDS - len(term.split()))
    gloss = shorten(_gloss_start(reading.gloss, proper), sentence, budget, term=term)
    named = f"{term}: {gloss}"
    if bullet_problems(named, sentence) and not bullet_problems(plain, sentence):
        return Summary(text=plain, reading=reading)
    return Summary(text=named, reading=reading)


def summarize(
    sentence: str, proper: frozenset[str] = frozenset(), known: Iterable[str] = ()
) -> Summary:
    """A bullet of at most ``MAX_BULLET_WORDS`` words for one narrated sentence.

    ``proper`` holds words that keep their capital letter inside a phrase (names like "Earth");
    ``known`` holds the document's key terms, which help read "call X the Y" sentences.
    """
    return _summarize(sentence, proper, frozenset(known))
