"""Scene titles and the opening preview that lists them.

A concept scene is titled by the key term it explains ("Evaporation", "Collection and Runoff"),
or else by the short noun phrase it is about ("Water on Earth"), in Title Case and never twice
(``title_options`` lists where titles come from). Terms that only rename the video's own topic
("the hydrologic cycle" for "the water cycle") are not scene titles. The preview reads the titles
back in running text with the article the source used: "We will look at the sun, evaporation,
condensation, and precipitation."
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vividly_ray.library.text import tokenize
from vividly_ray.script.bullets import Summary
from vividly_ray.script.terms import mentions, term_key
from vividly_ray.script.title_options import (
    MAX_TITLE_WORDS,
    SMALL_WORDS,
    Option,
    TitleBook,
    bare,
    mentioned,
    names,
    opening_phrases,
    term_in_setting,
    term_options,
    title_key,
    topic_question,
)

MAX_PREVIEW_ITEMS = 4
SUMMING_UP = "Putting It Together"
INTRODUCTION = "Introduction"

__all__ = ["ConceptTitle", "TitleBook", "concept_title", "preview_sentence", "title_key"]


@dataclass(frozen=True)
class ConceptTitle:
    """A scene title, how it reads in the preview (None for a framing title), which of the
    scene's sentences carries its key idea, and whether the title is a term the scene explains."""

    title: str
    preview: str | None
    key_sentence: int
    explained: bool = False


def title_case(text: str, proper: frozenset[str] = frozenset()) -> str:
    """ "water on earth" -> "Water on Earth": small words stay lowercase inside a title."""
    out = []
    words = text.split()
    for n, word in enumerate(words):
        # The last word is capitalised like any other ("Alpha Centauri A", "What to Look For").
        if n and n + 1 < len(words) and word.lower() in SMALL_WORDS:
            out.append(word.lower())
        elif any(c.isupper() for c in word) or bare(word) in proper:
            out.append(word)
        else:
            out.append("-".join(part[:1].upper() + part[1:] for part in word.split("-")))
    return " ".join(out)


def running_text(title: str, proper: frozenset[str]) -> str:
    """A title as it reads inside a sentence: "The Water Cycle" -> "the water cycle", while
    names keep the capitals of all their words: "the Bill of Rights", "Sir Isaac Newton"."""
    words = title.split()
    named = [bare(w) in proper or w[1:2].isupper() for w in words]
    for n in range(1, len(words)):  # forwards through a name: "Bill of Rights"
        joined = n > 1 and words[n - 1].lower() in SMALL_WORDS and named[n - 2]
        after = (named[n - 1] and not words[n - 1].endswith(("'s", "\u2019s"))) or joined
        named[n] = named[n] or (after and words[n][:1].isupper())
    for n in range(len(words) - 2, -1, -1):  # backwards: "Sir" before "Isaac Newton"
        capital = words[n][:1].isupper() and words[n].lower() not in SMALL_WORDS
        named[n] = named[n] or (capital and named[n + 1])
    return " ".join(w if keep else w.lower() for w, keep in zip(words, named, strict=True))


def _named_in(tokens: Sequence[Sequence[str]], term: str) -> int:
    """How many sentences name ``term``."""
    key = term_key(term)
    return sum(1 for said in tokens if mentions(said, key))


def _by_weight(
    sentences: Sequence[str], summaries: Sequence[Summary], book: TitleBook
) -> list[Option]:
    """The term options and the topic's question, best first. A term the scene explains that
    no more of its sentences name than name the topic the scene defines only rides along ("An
    asteroid is ..." in a scene about comets): the topic's question comes before it."""
    options = term_options(summaries, book)
    question = topic_question(summaries, book)
    if question is None:
        return options
    tokens = [tokenize(sentence) for sentence in sentences]
    topic = summaries[question.sentence].reading.term or ""
    on_topic = _named_in(tokens, topic)
    riding = [
        o
        for o in options
        if o.explained and len(o.terms) == 1 and _named_in(tokens, o.terms[0]) <= on_topic
    ]
    leading = [o for o in options if o not in riding]
    return [*leading, question, *riding]


def _options(
    sentences: Sequence[str], summaries: Sequence[Summary], book: TitleBook, last: bool, key: int
) -> Iterator[Option]:
    """The scene's possible titles, best first, each found only when the ones before it were
    refused (planning titles the same scenes in many candidate scripts)."""
    yield from _by_weight(sentences, summaries, book)
    yield from (Option(name, None, key) for name in names(sentences, book.proper))
    setting = term_in_setting(sentences[0], book.known)
    if setting:
        yield Option(setting, None, key)
    for sentence in sentences:  # the opening sentence first, then the others
        yield from (Option(f"More About {t}", None, key) for t in mentioned(sentence, book))
    for sentence in sentences:
        yield from (Option(p, None, key) for p in opening_phrases(sentence, book.proper))
    if last:  # a closing scene with no better title sums up
        yield Option(SUMMING_UP, None, key)


def concept_title(
    sentences: Sequence[str], summaries: Sequence[Summary], book: TitleBook, last: bool
) -> ConceptTitle:
    """The scene's title, recorded in ``book`` so that no later scene takes it."""
    # Without a term of its own, the scene's key idea is its first definition (even of the
    # video's topic: "Scientists call ... the water cycle"), else its opening sentence.
    key = next((n for n, s in enumerate(summaries) if s.defines), 0)
    for option in _options(sentences, summaries, book, last, key):
        found = title_key(option.title)
        if not found or book.has(found) or len(option.title.split()) > MAX_TITLE_WORDS + 1:
            continue
        book.taken.add(found)
        book.taken.update(title_key(t) for t in option.terms)
        book.terms.extend(term_key(t) for t in option.terms)
        book.titles.update(t.lower() for t in option.terms)
        preview = running_text(option.preview, book.proper) if option.preview else None
        sentence = option.sentence if option.explained else key
        return ConceptTitle(
            title_case(option.title, book.proper), preview, sentence, option.explained
        )
    if not book.terms and title_key(INTRODUCTION) not in book.taken:
        book.taken.add(title_key(INTRODUCTION))
        return ConceptTitle(INTRODUCTION, None, key)
    number = 2
    while f"part {number}" in book.taken:
        number += 1
    book.taken.add(f"part {number}")
    return ConceptTitle(f"Part {number}", None, key)


def _join(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])}, and {items[-1]}"


def preview_sentence(titles: Sequence[ConceptTitle]) -> str | None:
    """ "We will look at evaporation, condensation, precipitation, and collection."

    Up to four titles in scene order, the terms the scenes explain before other titles; None
    when fewer than two titles can be listed.
    """
    seen: set[str] = set()
    listed = []
    for n, title in enumerate(titles):
        if title.preview and title.preview.lower() not in seen:
            seen.add(title.preview.lower())
            listed.append(n)
    chosen = sorted(sorted(listed, key=lambda n: (not titles[n].explained, n))[:MAX_PREVIEW_ITEMS])
    items = [titles[n].preview or "" for n in chosen]
    return f"We will look at {_join(items)}." if len(items) >= 2 else None
