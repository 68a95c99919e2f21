"""Choosing each scene's visual from what it says: a cycle, steps, a table, a key number, a
timeline, a formula, key terms, or bullets.

The choice reads only the scene's own narration and bullets, the question and the glossary, and
every item's text is a piece of the scene's own words (shortened at a word boundary, never
rephrased), so a visual cannot show a fact the narration does not state. Each item appears at
the narration sentence it was taken from. The rules are about the shape of sentences (a list
with "then", a year, "equals ... times", "is called"), not about any book, so they apply to
textbooks written by anyone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from vividly_ray.domain.models import (
    Retrieval,
    Scene,
    SceneKind,
    Script,
    VideoRequest,
    Visual,
    VisualItem,
    VisualKind,
)
from vividly_ray.script.question_type import COMPARISON_QUESTION, QUANTITY_QUESTION
from vividly_ray.script.visual_text import (
    CLAUSE_END,
    DANGLING,
    DETAIL_WORDS,
    LABEL_WORDS,
    MIN_STAGES,
    content_words,
    enumeration,
    shorten,
    upper_first,
    words,
)

MAX_ITEMS = 8

_SEQUENCE = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|after that|afterwards?|finally|"
    r"lastly|last|step \d+)\b,?\s*",
    re.IGNORECASE,
)
_ORDINAL_STEP = re.compile(
    r"\b(?:first|second|third|fourth|next|final|last)\s+(?:\w+\s+)?(?:step|stage|phase)\b",
    re.IGNORECASE,
)
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})s?"
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_DATE = re.compile(
    rf"\b(?:from {_YEAR} to {_YEAR}|{_YEAR}\s*(?:-|–|to)\s*{_YEAR}"
    rf"|{_MONTH}(?: \d{{1,2}})?,? {_YEAR}|{_YEAR})\b"
    r"(?!\s*(?:kilo|meter|metre|mile|km|kg|light|years? (?:ago|old)))"
)
_LEADING_DATE = re.compile(r"^(?:In|By|On|Around|During)\s+(?:the\s+)?(?:early\s+|late\s+)?$")
_OPERATORS = {
    "times": "\u00d7",
    "multiplied by": "\u00d7",
    "divided by": "\u00f7",
    "plus": "+",
    "minus": "\u2212",
}
_EQUALS = re.compile(r"\b(?:equals|is equal to)\b", re.IGNORECASE)
_OPERATOR_SPLIT = re.compile(r"\s+(times|multiplied by|divided by|plus|minus)\s+", re.IGNORECASE)
_NUMBER = r"(?:\d[\d,]*(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|hundred)"
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion))*"
_UNIT = (
    r"(?:kilometers?|kilometres?|km|meters?|metres?|miles?|centimeters?|millimeters?|"
    r"light-years?|light years?|astronomical units?|AU|seconds?|minutes?|hours?|days?|years?|"
    r"degrees?(?: Celsius| Fahrenheit)?|kilograms?|kg|grams?|tons?|newtons?|joules?|watts?|"
    r"volts?|amps?|amperes?|ohms?|hertz|percent|%|times)"
)
_RATE = r"(?:\s+(?:per|a|every|each)\s+(?:second|minute|hour|day|year|kilogram)(?:\s+squared)?)?"
_QUANTITY = re.compile(
    rf"(?:(?:about|almost|nearly|roughly|over|more than|less than|up to)\s+)?"
    rf"\b{_NUMBER}{_SCALE}\s+{_UNIT}{_RATE}\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(
    r"\b(?:while|whereas|unlike|in contrast|on the other hand|two (?:main )?(?:types|kinds))\b",
    re.IGNORECASE,
)
_THING = re.compile(
    r"^(?:In (?:an?|the) (?P<a>[^,]{3,40}),\s*(?P<ra>.+)"
    r"|(?:(?:An?|The)\s+)?(?P<b>[A-Za-z][\w' -]{2,40}?)"
    r"\s+(?:is|are|happens when|occurs when)\s+(?P<rb>.+))$"
)
_TERM_BULLET = re.compile(r"^(?P<term>[^:]{1,48}):\s+(?P<definition>.+)$")
_DEFINES = re.compile(
    r"^(?:(?:An?|The)\s+)?(?P<term>[\w' -]{2,40}?)"
    r"\s+(?:is|are|was|were|means|refers to)\s+(?P<d>.+)$"
)
_CALLED = re.compile(r"^(?P<d>.+?),?\s+(?:is|are)?\s*called\s+(?:an?\s+|the\s+)?(?P<term>[^,.;]+)")
# Words two descriptions share without being an aspect they are compared on.
_NOT_ASPECTS = words(
    "describes describe occurs occur during happens happen makes make means mean called known "
    "uses used moves move takes take gives give becomes become depends depend there about "
    "also very same each other both only just like "
)
_NOT_THINGS = re.compile(r"^(?:because|if|when|so|this|these|that|those|it|they|there)\b", re.I)
# Which units answer which question word; a question word not listed takes any quantity.
_ANSWERS = {
    "fast": r"per|every|each|a second|an hour|squared",
    "quickly": r"per|every|each|a second|an hour",
    "far": r"meter|metre|mile|km|light|astronomical|AU",
    "deep": r"meter|metre|mile|km",
    "high": r"meter|metre|mile|km|degree",
    "tall": r"meter|metre|mile|km",
    "hot": r"degree",
    "cold": r"degree",
    "old": r"year",
    "heavy": r"gram|kg|ton",
    "massive": r"gram|kg|ton|times",
}


def _reveal_order(items: Sequence[VisualItem]) -> bool:
    return all(a.reveal_at <= b.reveal_at for a, b in zip(items, items[1:], strict=False))


# --- the detectors --------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a detector may read besides the scene."""

    question: str
    glossary_terms: frozenset[str]


Detector = Callable[[Scene, Context], Visual | None]


def formula(scene: Scene, _: Context) -> Visual | None:
    """An equation stated in words: "force equals mass times acceleration"."""
    for index, sentence in enumerate(scene.narration):
        match = _EQUALS.search(sentence)
        if match is None:
            continue
        left = re.split(r"\b(?:that|says|states|is|,)\s+", sentence[: match.start()].strip())[-1]
        right = sentence[match.end() :]
        end = CLAUSE_END.search(right)
        right = right[: end.start()] if end else right
        pieces = _OPERATOR_SPLIT.split(right.strip())
        terms, ops = [left, *pieces[0::2]], ["="] + [_OPERATORS[p.lower()] for p in pieces[1::2]]
        terms = [re.sub(r"^(?:the|a|an|its)\s+", "", t.strip(), flags=re.IGNORECASE) for t in terms]
        if len(terms) < 3 or any(not t or len(t.split()) > 5 for t in terms):
            continue
        items = tuple(VisualItem(t, reveal_at=index) for t in terms)
        return Visual(VisualKind.FORMULA, items, headings=tuple(ops))
    return None


def key_number(scene: Scene, context: Context) -> Visual | None:
    """A quantity with its unit that answers a "how fast / far / much ..." question."""
    asking = QUANTITY_QUESTION.search(context.question)
    if asking is None or scene.kind is not SceneKind.CONCEPT:
        return None
    words = asking.group(0).lower().split()
    wanted = _ANSWERS.get(words[1] if words[0] == "how" else "", "")
    asked = content_words(context.question)
    for index, sentence in enumerate(scene.narration):
        match = _QUANTITY.search(sentence)
        if match is None or not (asked & content_words(sentence)):
            continue
        if wanted and not re.search(wanted, match.group(0), re.IGNORECASE):
            continue
        item = VisualItem(match.group(0), shorten(sentence, DETAIL_WORDS * 2), reveal_at=index)
        return Visual(VisualKind.KEY_NUMBER, (item,))
    return None


def timeline(scene: Scene, _: Context) -> Visual | None:
    """Two or more dated sentences, in date order."""
    items: list[VisualItem] = []
    years: list[int] = []
    for index, sentence in enumerate(scene.narration):
        match = _DATE.search(sentence)
        if match is None:
            continue
        date = re.sub(r"^from\s+", "", match.group(0))
        year = int(re.findall(r"\d{4}", date)[0])
        before, after = sentence[: match.start()], sentence[match.end() :]
        if _LEADING_DATE.match(before):
            event = after.lstrip(" ,")
        else:  # the date is the label, so the event is the sentence without it
            kept = before.rstrip().split()
            while kept and kept[-1].lower() in DANGLING | {"on", "around"}:
                kept.pop()
            event = " ".join([*kept, after.strip(" ,")]) if after.strip(" ,.") else " ".join(kept)
            event = re.sub(r"\s*\(\s*\)", "", event)  # a date that stood in brackets
        items.append(VisualItem(date, upper_first(shorten(event, DETAIL_WORDS)), reveal_at=index))
        years.append(year)
    if len(items) < 2 or years != sorted(years):
        return None
    return Visual(VisualKind.TIMELINE, tuple(items[:MAX_ITEMS]))


def _sequence_sentences(scene: Scene) -> list[tuple[int, str]]:
    marked = []
    for index, sentence in enumerate(scene.narration):
        if _SEQUENCE.match(sentence) or _ORDINAL_STEP.search(sentence):
            marked.append((index, upper_first(_SEQUENCE.sub("", sentence, count=1))))
    return marked


_STAGE_WORDS = r"\b(?:cycles?|stages?|phases?|steps?|types|kinds|forms|then|again)\b"


def cycle(scene: Scene, context: Context) -> Visual | None:
    """Stages of something the scene or question calls a cycle, from a list in one sentence."""
    text = " ".join((scene.title, *scene.narration, context.question))
    if not re.search(r"\bcycles?\b", text, re.IGNORECASE):
        return None
    for index, sentence in enumerate(scene.narration):
        stages = enumeration(sentence)
        staged = re.search(_STAGE_WORDS, sentence, re.IGNORECASE)
        if stages and staged:
            items = tuple(VisualItem(upper_first(s), reveal_at=index) for s in stages)
            return Visual(VisualKind.CYCLE, items)
    marked = _sequence_sentences(scene)
    if len(marked) >= MIN_STAGES:
        items = tuple(VisualItem(shorten(s, 5), reveal_at=i) for i, s in marked[:MAX_ITEMS])
        return Visual(VisualKind.CYCLE, items)
    return None


def steps(scene: Scene, _: Context) -> Visual | None:
    """Numbered steps: sentences that say where they come in order, or a "then" list."""
    marked = _sequence_sentences(scene)
    if len(marked) >= 2 and (len(marked) >= 3 or re.match(r"first", marked[0][1], re.I) is None):
        items = tuple(VisualItem(shorten(s), reveal_at=i) for i, s in marked[:MAX_ITEMS])
        return Visual(VisualKind.STEPS, items)
    for index, sentence in enumerate(scene.narration):
        if re.search(r"\bthen\b", sentence) and (stages := enumeration(sentence)):
            items = tuple(VisualItem(upper_first(s), reveal_at=index) for s in stages)
            return Visual(VisualKind.STEPS, items)
    return None


def comparison(scene: Scene, context: Context) -> Visual | None:
    """Two or more things the scene describes on the same aspect, as a table."""
    asked = COMPARISON_QUESTION.search(context.question)
    if asked is None and not _CONTRAST.search(" ".join(scene.narration)):
        return None
    things: dict[str, tuple[int, str]] = {}
    for index, sentence in enumerate(scene.narration):
        match = _THING.match(sentence.strip().rstrip("."))
        if match is None:
            continue
        thing = (match.group("a") or match.group("b") or "").strip()
        rest = match.group("ra") or match.group("rb") or ""
        if _NOT_THINGS.match(thing):
            continue
        if thing and thing.lower() not in things and len(thing.split()) <= 4:
            things[thing.lower()] = (index, rest)
    names = list(things)
    if len(names) < 2:
        return None
    own = set().union(*(content_words(n) for n in names))
    rows: list[VisualItem] = []
    used: set[str] = set()  # a clause fills one row only
    for aspect in _shared_aspects(things, own):
        cells = tuple(_clause_with(things[n][1], aspect) for n in names)
        if sum(bool(c) for c in cells) < 2 or used & {c for c in cells if c}:
            continue
        used |= {c for c in cells if c}
        first = min(things[n][0] for n, c in zip(names, cells, strict=True) if c)
        word = _aspect_word(things, aspect)
        rows.append(VisualItem(word, cells=cells, reveal_at=first))
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: r.reveal_at)[:4]
    # Only the things some row says something about become columns.
    kept = [c for c in range(len(names)) if any(row.cells[c] for row in rows)]
    rows = [dataclasses.replace(r, cells=tuple(r.cells[c] for c in kept)) for r in rows]
    headings = tuple(upper_first(names[c]) for c in kept)
    return Visual(VisualKind.COMPARISON, tuple(rows), headings=headings)


def _shared_aspects(things: dict[str, tuple[int, str]], own: set[str]) -> list[str]:
    """Word stems at least two descriptions share, most shared first."""
    counts: dict[str, int] = {}
    for _, rest in things.values():
        for word in content_words(rest) - own:
            if not any(word.startswith(verb[:6]) for verb in _NOT_ASPECTS):
                counts[word] = counts.get(word, 0) + 1
    return sorted((w for w, n in counts.items() if n >= 2), key=lambda w: (-counts[w], w))


def _aspect_word(things: dict[str, tuple[int, str]], stem: str) -> str:
    for _, rest in things.values():
        for word in re.findall(r"[A-Za-z]+", rest):
            if word.lower().startswith(stem):
                return str(word).lower()
    return stem


def _clause_with(text: str, stem: str) -> str:
    for clause in re.split(r",\s*|\s+and\s+|;\s*", text):
        if any(w.startswith(stem) for w in re.findall(r"[a-z]+", clause.lower())):
            return shorten(clause, LABEL_WORDS + 2)
    return ""


def key_terms(scene: Scene, context: Context) -> Visual | None:
    """Term cards: the scene's "Term: definition" bullets and its sentences that define a
    glossary term."""
    cards: dict[str, VisualItem] = {}
    for index, sentence in enumerate(scene.narration):
        found = _definition(sentence, context.glossary_terms)
        if found is not None and found[0].lower() not in cards:
            cards[found[0].lower()] = VisualItem(found[0], found[1], reveal_at=index)
    for number, bullet in enumerate(scene.bullets):
        match = _TERM_BULLET.match(bullet)
        if match is None or match.group("term").lower() in cards:
            continue
        at = scene.reveal_at[number] if number < len(scene.reveal_at) else number
        term, definition = match.group("term"), match.group("definition")
        cards[term.lower()] = VisualItem(term, definition, reveal_at=at)
    items = sorted(cards.values(), key=lambda c: c.reveal_at)
    if len(items) < 2:
        return None
    return Visual(VisualKind.KEY_TERMS, tuple(items[:MAX_ITEMS]))


def _definition(sentence: str, glossary: frozenset[str]) -> tuple[str, str] | None:
    text = sentence.strip().rstrip(".")
    for pattern in (_DEFINES, _CALLED):
        match = pattern.match(text)
        if match is None:
            continue
        term = match.group("term").strip()
        if term.lower() in glossary:
            return upper_first(term), shorten(match.group("d"), DETAIL_WORDS)
    return None


DETECTORS: tuple[Detector, ...] = (
    formula,
    key_number,
    timeline,
    cycle,
    steps,
    comparison,
    key_terms,
)


def choose_visual(scene: Scene, context: Context) -> Visual | None:
    """The first kind whose rule the scene meets; None (bullets) when none does. A recap
    reviews the whole lesson, so it is shown as key terms or bullets only."""
    detectors = (key_terms,) if scene.kind is SceneKind.RECAP else DETECTORS
    for detector in detectors:
        visual = detector(scene, context)
        if visual is not None and visual.items and _reveal_order(visual.items):
            last = len(scene.narration) - 1
            if all(0 <= item.reveal_at <= last for item in visual.items):
                return visual
    return None


def attach_visuals(script: Script, question: str) -> Script:
    """The script with a visual on every concept and recap scene its content calls for; a scene
    that already has one (the check-for-understanding questions) keeps it."""
    context = Context(question, frozenset(entry.term.lower() for entry in script.glossary))
    scenes = tuple(
        dataclasses.replace(scene, visual=choose_visual(scene, context))
        if scene.visual is None and scene.kind in (SceneKind.CONCEPT, SceneKind.RECAP)
        else scene
        for scene in script.scenes
    )
    return dataclasses.replace(script, scenes=scenes)


class _Writer(Protocol):
    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script: ...


class VisualWriter:
    """A ``ScriptWriter`` that gives the scripts of another one their visuals."""

    def __init__(self, inner: _Writer) -> None:
        self.inner = inner

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        return attach_visuals(self.inner.write(request, retrieval, topic), request.question)

    def __getattr__(self, name: str) -> Any:
        # Whatever else the writer offers (a model writer's per-scene ``write_scene`` for the
        # scene pool) passes through: visuals are chosen once, on the whole script.
        return getattr(self.inner, name)


def with_visuals(build: Callable[..., _Writer]) -> Callable[..., VisualWriter]:
    """Decorates a writer factory so that every writer it builds draws visuals."""

    def wrapped(*args: object, **kwargs: object) -> VisualWriter:
        return VisualWriter(build(*args, **kwargs))

    wrapped.__doc__ = build.__doc__
    wrapped.__name__ = build.__name__
    return wrapped
