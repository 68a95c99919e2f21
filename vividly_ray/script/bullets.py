"""On-screen bullets: a narrated sentence summarised in a few words.

A bullet is at most ``MAX_BULLET_WORDS`` words and, where the sentence defines something, reads
"Term: short gloss" ("Evaporation: first big step of the water cycle"). Otherwise it is the
sentence's main clause, cut at a natural boundary. Only words of the sentence are used, so a
bullet can never say something the narration does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vividly_ray.library.text import word_set

MAX_BULLET_WORDS = 8  # one more is allowed when it saves cutting a phrase
MAX_TERM_WORDS = 4

_ARTICLES = ("the ", "a ", "an ")
_PRONOUNS = word_set("it this that there these those they he she we you one i")
_LEAD_INS = re.compile(
    r"^(?:for example|for instance|in fact|however|also|then|now|next|finally|first|second|alas|"
    r"but|and|so|yet|still|indeed|"
    r"third|instead|therefore|thus|in other words|as a result|in addition|of course|remember"
    r"(?: that)?|you (?:can|may) see (?:that )?|this means that|today),?\s+",
    re.IGNORECASE,
)
# A clause opening with one of these cannot stand alone as a bullet.
SUBORDINATE_OPENERS = word_set(
    """
    when if because although though while after before since as unless once in on at for with by
    during without whether until where inside outside high deep far near above below under to
    around across through
    """
)
_RELATIVE = word_set("which that who whom whose where when if because")
# Words that end the noun phrase before "called" when reading backwards ("in" does not:
# "tiny structures in plant cells called chloroplasts").
_NOUN_STOPS = word_set(
    """
    with of is are was were into on by from as and or to for a an the that which inside through
    contains contain has have
    """
)
_CUT_BEFORE = word_set("in on at for from into between through over under about during")
_TERM_ADVERBS = word_set("also often usually sometimes always still simply")
_WEAK_ENDINGS = word_set(
    """
    the a an of to its their very will can may would could should is are was were has have had
    be been
    """
)
_JOINERS = SUBORDINATE_OPENERS | word_set("and or but so which who")
_BOUNDARY_WORDS = word_set("and or but which that because when while so where who with")
_VERB = r"(?:is|are|was|were)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            "gloss-term",
            rf"^(?P<gloss>.+?),? {_VERB} (?:\w+ly |also |often |sometimes )?"
            r"(?:called|known as|named) (?P<term>.+)$",
        ),
        ("term-gloss", r"^(?P<term>.+?) (?:happens|occurs|takes place) when (?P<gloss>.+)$"),
        ("term-gloss", r"^(?P<term>.+?) (?:means|refers to|says that|states that) (?P<gloss>.+)$"),
        ("gloss-term", r"^(?P<gloss>.+?), (?:a|an|the) [\w ]{0,20}?called (?P<term>[\w' -]+)$"),
        ("named-noun", r"^(?P<before>.+?) called (?P<term>[\w' -]+?)(?:,.*)?$"),
        ("copula", rf"^(?P<left>.+?) {_VERB} (?P<right>.+)$"),
    )
)


@dataclass(frozen=True)
class Summary:
    """A bullet for one sentence, and the term it is about when it is about one.

    ``defines`` is True when the sentence names the term outright ("is called", "happens when");
    a plain "X is Y" sentence has a term but does not define it.
    """

    text: str
    term: str | None = None
    defines: bool = False


def _strip_article(text: str) -> str:
    lowered = text.lower()
    for article in _ARTICLES:
        if lowered.startswith(article):
            return text[len(article) :]
    return text


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _trim_end(words: list[str]) -> list[str]:
    """Drop words a phrase cannot end on ("the", "and", "of"...)."""
    weak = _BOUNDARY_WORDS | SUBORDINATE_OPENERS | _WEAK_ENDINGS
    while len(words) > 1 and words[-1].lower().strip(",;:") in weak:
        words = words[:-1]
    return [*words[:-1], words[-1].rstrip(",;:")] if words else words


def _main_clause(phrase: str, shortest: int) -> str:
    """The clause that carries a sentence's point: past an opening "When ..." or "Using ...,"."""
    clauses = [c.strip() for c in re.split(r"[,;:\u2014]", phrase) if c.strip()]
    if len(clauses) < 2:
        return phrase
    first = clauses[0]
    opener = first.split()[0].lower()
    if opener in SUBORDINATE_OPENERS or (len(first.split()) < 3 and opener.endswith("ing")):
        # "Without the heat from the sun, water would not rise" -> "water would not rise"
        later = [
            c for c in clauses[1:] if len(c.split()) >= 3 and c.split()[0].lower() not in _JOINERS
        ]
        return later[0] if later else phrase
    return first if len(first.split()) >= shortest else phrase


def compress(phrase: str, budget: int, shortest: int = 2) -> str:
    """The phrase cut to about ``budget`` words, at a comma or a joining word where possible."""
    words = _main_clause(phrase.strip().rstrip(".!?"), shortest).split()
    if len(words) <= budget + 1:  # one word over reads better than a cut
        return " ".join(_trim_end(words))
    earliest = 3 if shortest < 2 else 4
    joins = [i for i in range(earliest, budget + 1) if words[i].lower() in _BOUNDARY_WORDS]
    # Before a preposition only when little is lost: "traveling | between the oceans".
    before = [
        i for i in range(max(earliest, budget - 2), budget + 1) if words[i].lower() in _CUT_BEFORE
    ]
    cut = max(joins) if joins else max(before) if before else budget
    return " ".join(_trim_end(words[:cut]))


def _term(text: str) -> str | None:
    """A defined term: a short noun phrase, not a pronoun or a clause."""
    words = _strip_article(text.strip()).split()
    while words and words[-1].lower() in _TERM_ADVERBS:
        words = words[:-1]
    if not 1 <= len(words) <= MAX_TERM_WORDS or words[0].lower() in _PRONOUNS | _JOINERS:
        return None
    if any(w.endswith((",", ";", ":")) or w.lower() in _RELATIVE for w in words):
        return None
    return " ".join(words)


def _is_clause(text: str) -> bool:
    """Whether text reads as a clause of its own (a comma or a joining word inside)."""
    return "," in text or any(w.lower() in _RELATIVE for w in text.split())


def _gloss_start(gloss: str, proper: frozenset[str]) -> str:
    gloss = _strip_article(gloss.strip())
    if gloss.lower().startswith("that "):
        gloss = gloss[5:]
    first = gloss.split()[0] if gloss.split() else ""
    if first and first not in proper and not first[1:2].isupper():
        gloss = gloss[:1].lower() + gloss[1:]
    return gloss


def _term_bullet(term: str, gloss: str, proper: frozenset[str], defines: bool) -> Summary:
    budget = max(3, MAX_BULLET_WORDS - len(term.split()))
    body = compress(_gloss_start(gloss, proper), budget, shortest=1)
    return Summary(text=f"{_capitalised(term)}: {body}", term=_capitalised(term), defines=defines)


def _noun_before(text: str) -> str:
    """The words just before "called": "covered with tiny openings" -> "tiny openings"."""
    found: list[str] = []
    for word in reversed(text.split()):
        if word.lower() in _NOUN_STOPS or word.endswith(","):
            break
        found.insert(0, word)
    return " ".join(found) if len(found) <= 5 else ""


def summarize(sentence: str, proper: frozenset[str] = frozenset()) -> Summary:
    """A bullet of at most ``MAX_BULLET_WORDS`` words for one narrated sentence.

    ``proper`` holds words that keep their capital letter inside a phrase (names like "Earth").
    """
    core = _LEAD_INS.sub("", sentence.strip().rstrip(".!?"))
    if sentence.rstrip().endswith("?"):
        return Summary(text=_capitalised(compress(core, MAX_BULLET_WORDS)))  # asks, defines nothing
    for kind, pattern in _PATTERNS:
        match = pattern.match(core)
        if match is None:
            continue
        if kind == "copula":
            left, right = match.group("left"), match.group("right")
            term = _term(left)
            if term is not None:
                return _term_bullet(term, right, proper, defines=False)
            term = _term(right)
            if term is not None and len(right.split()) <= 3 and not _is_clause(left):
                return _term_bullet(term, left, proper, defines=False)
            continue
        term = _term(match.group("term"))
        gloss = (
            _noun_before(match.group("before")) if kind == "named-noun" else match.group("gloss")
        )
        if term is not None and len(gloss.split()) >= (1 if kind == "named-noun" else 2):
            return _term_bullet(term, gloss, proper, defines=True)
    return Summary(text=_capitalised(compress(core, MAX_BULLET_WORDS)))
