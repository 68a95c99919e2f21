"""Where a concept scene's title can come from, best first.

A scene is best titled by a term it explains; failing that by a term it announces or describes,
by the question its topic-defining sentence answers ("What Is a Black Hole?"), by a name it
mentions ("Battle of Saratoga"), by a term in its setting ("Friction in Everyday Life"), by the
earlier term it goes on with ("More About Impulse"), or by the noun phrase it opens with. Every
option except the framing ones is made only of the scene's own words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from vividly_ray.library.text import STOPWORDS, stem, word_set, words
from vividly_ray.script.bullets import Summary
from vividly_ray.script.compress import noun_phrases
from vividly_ray.script.terms import DEFINING, Reading, Shape, as_term
from vividly_ray.script.vocabulary import AUXILIARIES, SHELL_NOUNS

MAX_TITLE_WORDS = 4
SMALL_WORDS = word_set("a an the and or but nor of in on at to for by with from as into per via")
_SINGULAR = ("ss", "is", "us")
_NAME_JOINERS = word_set("of and the versus de")
_OPENING_DETERMINERS = word_set("the a an your our their its his her")
_DEMONYM_ENDINGS = ("ian", "ese", "ish")  # "Chinese", "Central Asian" describe, they do not name


def title_key(title: str) -> str:
    """Titles that differ only in word endings ("Pole", "Poles") count as the same title."""
    return " ".join(stem(word) for word in words(title) if word not in SMALL_WORDS)


def bare(word: str) -> str:
    """A word without punctuation or a possessive ending ("Earth's" -> "Earth")."""
    return word.strip(".,;:!?\"'()").removesuffix("'s").removesuffix("\u2019s")


@dataclass(frozen=True)
class Option:
    """A possible title, how it reads in the preview (None when it should not be listed), the
    sentence it comes from, the terms it names and whether the scene explains them."""

    title: str
    preview: str | None
    sentence: int
    terms: tuple[str, ...] = ()
    explained: bool = False


@dataclass
class TitleBook:
    """What titling needs across a script: the topic's own title keys (never a scene title),
    the documents' key terms, name-like words, and the titles and terms used so far."""

    reserved: frozenset[str]
    known: frozenset[str]
    proper: frozenset[str]
    topics: frozenset[str] = frozenset()  # the topic as the student and the title name it
    taken: set[str] = field(default_factory=set)
    terms: list[tuple[str, ...]] = field(default_factory=list)  # of the titles used, as keys
    titles: set[str] = field(default_factory=set)  # the terms of the titles used, as written

    def __post_init__(self) -> None:
        self.taken |= self.reserved

    def has(self, key: str) -> bool:
        """Whether a title with this key is used already, or says less than a used one
        ("The Constitution" after "United States Constitution")."""
        words = set(key.split())
        used = self.taken - self.reserved
        return key in self.taken or any(words < set(other.split()) for other in used)


def _is_reserved(reading: Reading, reserved: frozenset[str]) -> bool:
    names = [reading.term or "", *([reading.alias_of] if reading.alias_of else [])]
    return any(title_key(name) in reserved for name in names)


def term_options(summaries: Sequence[Summary], book: TitleBook) -> list[Option]:
    """Terms the scene explains (the first two joined first), then terms it announces or
    describes; never the video's own topic or another name for it."""
    explained: list[Option] = []
    described: list[Option] = []
    for n, summary in enumerate(summaries):
        reading = summary.reading
        if reading.term is None or reading.shape is None or _is_reserved(reading, book.reserved):
            continue
        single = len(reading.term.split()) == 1
        familiar = reading.term.lower() in book.known or reading.term in book.proper
        if reading.shape is Shape.DESCRIBED and single and not familiar:
            continue  # "Life was hard" does not make "Life" a title; "Uranus is tipped" does
        shown = reading.term
        # A one-word term that is not named outright reads better with its article: "The Sun".
        if single and reading.article == "the" and reading.shape is not Shape.NAMED:
            shown = f"the {shown}"
        strong = reading.shape in DEFINING
        preview = f"{reading.article} {reading.term}".strip()
        (explained if strong else described).append(
            Option(shown, preview, n, (reading.term,), strong)
        )
    joined = []
    if len(explained) >= 2:
        first = explained[0]
        words_first = set(title_key(first.terms[0]).split())
        second = next(
            (o for o in explained[1:] if not set(title_key(o.terms[0]).split()) & words_first),
            None,
        )
        if second is not None:
            both = f"{first.terms[0]} and {second.terms[0]}"
            if len(both.split()) <= MAX_TITLE_WORDS:
                terms = (first.terms[0], second.terms[0])
                joined.append(Option(both, first.preview, first.sentence, terms, True))
    return joined + explained + described


def topic_question(summaries: Sequence[Summary], book: TitleBook) -> Option | None:
    """ "What Is a Black Hole?" for a scene that explains the video's own topic."""
    for n, summary in enumerate(summaries):
        reading = summary.reading
        if reading.term and reading.defines and _is_reserved(reading, book.reserved):
            subject = f"{reading.article} {reading.term}".strip()
            plural_term = reading.term.lower().endswith("s") and not reading.term.endswith(
                _SINGULAR
            )
            verb = "Are" if plural_term and not reading.article else "Is"
            return Option(f"What {verb} {subject}?", None, n)
    return None


def names(sentences: Sequence[str], proper: frozenset[str]) -> list[str]:
    """Names written with capitals inside a sentence ("the Battle of Saratoga", "Rosa Parks"):
    several words, or one word the scene repeats."""
    found: list[str] = []
    single: Counter[str] = Counter()
    for sentence in sentences:
        tokens = sentence.rstrip(".!?").split()
        run: list[str] = []
        for n, raw in enumerate([*tokens, "."]):
            word = raw.strip(",;:\"'()")
            capital = word[:1].isupper() and (n > 0 or bare(word) in proper)
            following = tokens[n + 1] if n + 1 < len(tokens) else ""
            if capital:
                run.append(word)
                if raw.rstrip(",;:") == raw:
                    continue
            elif run and word.lower() in _NAME_JOINERS and following[:1].isupper():
                run.append(word)
                continue
            if len(run) >= 2:
                found.append(" ".join(run))
            elif run:
                single[run[0]] += 1
            run = []
    # A repeated single word, but not an abbreviation such as "BCE".
    found += [w for w, count in single.items() if count >= 2 and not (w.isupper() and len(w) < 4)]
    return [name for name in found if not name.endswith(_DEMONYM_ENDINGS)]


def subject(sentence: str, proper: frozenset[str] = frozenset()) -> str | None:
    """The noun phrase of two words or more (or one name) that a sentence opens with, up to
    its verb: "Places near the equator do not ..." -> "places near the equator"."""
    tokens = sentence.split()
    if tokens and tokens[0].lower() in _OPENING_DETERMINERS:
        tokens = tokens[1:]
    auxiliary = next((n for n, w in enumerate(tokens[:7]) if w.lower() in AUXILIARIES), None)
    for n, raw in enumerate(tokens[:7]):
        word = raw.lower().strip(",;:")
        inflected = word.endswith(("s", "ed")) and auxiliary is None  # "tilted toward ... has"
        verb = word in AUXILIARIES or (n > 0 and inflected and "," not in raw)
        if raw.endswith((",", ";", ":")) or verb:
            phrase = as_term(" ".join(tokens[:n]), MAX_TITLE_WORDS + 1)
            named = phrase is not None and phrase in proper
            return phrase if phrase and (len(phrase.split()) >= 2 or named) else None
    return None


def term_in_setting(sentence: str, known: frozenset[str]) -> str | None:
    """ "Friction can be very helpful in everyday life." -> "friction in everyday life"."""
    for term in sorted(known, key=lambda t: (-len(t), t)):
        match = re.search(
            rf"\b{re.escape(term)}\b(?!')[^,;]*?\bin (?:the |a |an |many |every |all )?"
            r"((?:[\w'-]+ ){0,2}[\w'-]+)",
            sentence,
            re.IGNORECASE,
        )
        if match is None:
            continue
        setting: list[str] = []
        for word in match.group(1).split():
            if word.lower() in STOPWORDS:
                break
            setting.append(word)
        # "direction in direction changes" says the term twice and nothing more.
        repeats = set(title_key(term).split()) & set(title_key(" ".join(setting)).split())
        if setting and setting[-1].lower() not in SHELL_NOUNS and not repeats:
            return f"{term} in {' '.join(setting)}"
    return None


def plural(noun: str) -> str:
    """A regular English plural, for framing text only ("square" -> "squares")."""
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return f"{noun}es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{noun[:-1]}ies"
    return f"{noun}s"


def mentioned(sentence: str, book: TitleBook) -> list[str]:
    """Key terms, earlier titles and the topic that a sentence goes back to, in the order it
    names them, each as it reads there ("the second law", "squares" for "a square")."""
    found: list[tuple[int, int, str]] = []
    for term in book.known | book.titles | book.topics:
        plain = term.removeprefix("the ")
        match = re.search(rf"\b(?:(the|an?) )?({re.escape(plain)}s?)\b", sentence, re.IGNORECASE)
        if match is None:
            continue
        article, shown = (match.group(1) or "").lower(), match.group(2)
        if article in ("a", "an") and shown.lower() == plain.lower():
            shown = plural(shown)
        elif article == "the":
            shown = f"the {shown}"
        found.append((match.start(), -len(plain), shown))
    return [shown for *_, shown in sorted(found)]


def opening_phrases(sentence: str, proper: frozenset[str]) -> list[str]:
    """The sentence's subject and its key noun phrases, as possible titles."""
    opening = subject(sentence, proper)
    found = [p for p in (as_term(p) for p in noun_phrases(sentence)) if p and len(p.split()) > 1]
    return [p for p in [opening, *found] if p and len(p.split()) <= MAX_TITLE_WORDS + 1]
