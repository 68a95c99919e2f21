"""Check for understanding: a short "pause and think" scene of three questions before the recap.

Every question is made from a sentence the lesson has already narrated, by fixed rules, and its
answer is that sentence:
- a definition ("Water stored beneath the ground is called groundwater.", also after an
  opening adverb: "Generally, friction is a force ...") asks "What is groundwater?" (from the
  script's glossary, so the term is one the lesson teaches);
- a cause ("Tides are caused mainly by the Moon's gravity.", "The real cause of the seasons is
  the tilt of Earth's axis.") asks "What causes tides?"; a "because" sentence whose main clause
  starts with a subject and an auxiliary ("Iron is magnetic because ...") asks "Why is iron
  magnetic?";
- a measured fact ("Light travels at about 300,000 kilometers per second.") asks "How fast does
  light travel?"; "X is about N km from Y" asks "How far is X from Y?";
- a date ("The spring equinox arrives around March 20.") asks "When does the spring equinox
  arrive?";
- failing enough of those, a statement about a key term of the lesson (a word of the video's
  title, a glossary term or a concept scene's title) asks whether it holds: "Momentum is
  conserved in every type of collision." asks "Is momentum conserved in every type of
  collision?".
The scene asks the three questions, says a pause line, then gives the answers; its visual lists
the questions and shows each answer as its sentence is spoken. A lesson with fewer than three
such sentences, or so short that the scene would take more than ``MAX_CHECK_SHARE`` of it, gets
no check scene.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from vividly_ray.domain.models import (
    CheckQuestion,
    Scene,
    SceneKind,
    Script,
    Visual,
    VisualItem,
    VisualKind,
)
from vividly_ray.library.text import tokenize
from vividly_ray.script.check_shapes import lower_opening, proper_names, shaped_question
from vividly_ray.script.editing import refers_back
from vividly_ray.script.pacing import scene_seconds, script_seconds
from vividly_ray.script.question_type import NUMBER_WITH_UNIT
from vividly_ray.script.terms import mentions, read, term_key

QUESTIONS = 3
FIRST_TIER, SHAPED_TIER, STATEMENT_TIER = 0, 1, 2  # facts and definitions; other shapes; yes/no
CHECK_TITLE = "Pause and Think"
# Framing in plain, short words: it is spoken at every grade.
CHECK_OPENING = "Let's stop and think about three questions."
CHECK_PAUSE = "Let's think, then check the answers."
MAX_CHECK_SHARE = 0.3  # of the requested length; a shorter lesson skips the check
MAX_ANSWER_WORDS = 22  # a longer answer makes the pause scene drag

_CAUSED_BY = re.compile(
    r"^(?P<effect>[A-Z][^,]{2,60}?) (?:is|are|was|were) (?:\w+ly )?caused (?:\w+ly )?by \S",
)
_CAUSE_OF = re.compile(
    r"^(?:The|One) (?:\w+ )?(?:cause|reason) (?:of|for) (?P<effect>[^,]{3,60}?) (?:is|was) \S",
)
_RESULTS_FROM = re.compile(
    r"^(?P<effect>[A-Z][^,]{2,60}?) (?:results?|(?:is|are) (?:\w+ly )?due) (?:from|to) \S",
)
_BECAUSE = re.compile(
    r"^(?P<subject>(?:The |A |An )?[A-Z]?[\w']+(?: [a-z][\w']+){0,2}) "
    r"(?P<aux>is|are|was|were|can|cannot|will|must) "
    r"(?P<rest>[^,]{2,60}?),? because \S",
)
_TRAVELS_AT = re.compile(
    r"^(?P<subject>[A-Z][\w' ]{1,40}?) (?P<verb>travels|moves|flies|spins|orbits|goes) "
    r"(?:at|through [\w ]+ at) (?:about |nearly |almost |roughly |over |more than )?\S",
)
_IS_FROM = re.compile(
    r"^(?P<subject>[A-Z][\w' ]{1,40}?) (?P<verb>is|are) (?:about |nearly |almost |roughly |over "
    r"|more than )?(?P<amount>[^,]+?) (?:away )?from (?P<place>[\w' ]{2,30})\.$",
)
_DISTANCE_UNITS = re.compile(
    r"\b(?:kilomet|km\b|miles?\b|meters?\b|metres?\b|light-years?|light years?|astronomical)",
    re.IGNORECASE,
)
_ARRIVES = re.compile(
    r"^(?P<subject>(?:The |A |An )?[A-Z]?[\w' ]{1,40}?) "
    r"(?P<verb>arrives|begins|starts|ends|happens|occurs|comes) (?:around|on|in|at|by) "
    r"(?P<when>[^,]*?\b(?:\d{3,4}|January|February|March|April|May|June|July|August|September"
    r"|October|November|December)\b[^,]*)\.$",
)
_STATEMENT = re.compile(
    r"^(?!(?:If|When|As|Because|Since|While|Although|Unless|Once|Before|After)\b)"
    r"(?P<subject>(?:The |A |An )?[A-Z][\w']*(?: [a-z][\w']+){0,3}) "
    r"(?P<aux>is|are|can|will|must) (?P<rest>(?!called\b|not\b)[a-z].{2,}?)\.$",
)
# A gloss that says how a term is, not what it is ("something familiar", "the same at all
# points", "one of the most important concepts"); "anything that slows ..." does say it.
_VAGUE_GLOSS = re.compile(
    r"^(?:(?:something|anything)\b(?!.*\b(?:that|which|who)\b)|the same\b|so\b"
    r"|very\b|too\b|similar\b|different\b)",
    re.IGNORECASE,
)
_ADVERB_OPENING = re.compile(
    r"^(?:[A-Z][a-z]+ly|In general), (?=[a-z])"
)  # "Generally, friction is"


@dataclass(frozen=True)
class _Found:
    question: str
    answer: str
    scene_index: int
    tier: int = FIRST_TIER  # asked only when the tiers before it give too few questions


def _lower_opening(text: str) -> str:
    """A sentence's opening words for use inside a question ("The Moon" stays, "Tides" not)."""
    return lower_opening(text)


def _plural(term: str) -> bool:
    last = term.split()[-1].lower()
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def definition_question(term: str, sentence: str) -> str:
    article = read(_ADVERB_OPENING.sub("", sentence)).article
    if re.search(rf"\b(?:its|their|our|his|her) {re.escape(term)}\b", sentence, re.IGNORECASE):
        article = "the"  # "... called its axis": "What is the axis?"
    # "A lens is ..." names one thing, whatever its last letter.
    singular = re.search(rf"\b{re.escape(term)} (?:is|was)\b", sentence, re.IGNORECASE)
    plural = _plural(term) and (article or "").lower() not in {"a", "an"} and not singular
    named = f"{article} {term}" if article and not plural else term
    return f"What {'are' if plural else 'is'} {named}?"


@lru_cache(maxsize=16384)
def fact_question(sentence: str) -> str | None:
    """A question that ``sentence`` answers by cause or by measure, or None."""
    text = sentence.strip()
    for pattern in (_CAUSED_BY, _CAUSE_OF, _RESULTS_FROM):
        match = pattern.match(text)
        if match:
            return f"What causes {_lower_opening(match.group('effect'))}?"
    match = _BECAUSE.match(text)
    if match:
        subject = _lower_opening(match.group("subject"))
        return f"Why {match.group('aux')} {subject} {match.group('rest')}?"
    if NUMBER_WITH_UNIT.search(text) is None:
        return None
    match = _TRAVELS_AT.match(text)
    if match:
        verb = match.group("verb")
        base = {"flies": "fly", "goes": "go"}.get(verb, verb[:-1])
        return f"How fast does {_lower_opening(match.group('subject'))} {base}?"
    match = _IS_FROM.match(text)
    if match and _DISTANCE_UNITS.search(match.group("amount")):
        subject = _lower_opening(match.group("subject"))
        return f"How far {match.group('verb')} {subject} from {match.group('place')}?"
    return None


@lru_cache(maxsize=16384)
def date_question(sentence: str) -> str | None:
    """ "The spring equinox arrives around March 20." -> "When does the spring equinox arrive?" """
    match = _ARRIVES.match(sentence.strip())
    if match is None:
        return None
    verb = match.group("verb")
    base = verb[:-2] if verb.endswith("es") and verb[-3] in "sx" else verb[:-1]
    return f"When does {_lower_opening(match.group('subject'))} {base}?"


def statement_question(sentence: str, key_words: frozenset[str]) -> str | None:
    """ "Momentum is conserved in every type of collision." -> "Is momentum conserved in every
    type of collision?", when the sentence's subject names one of the lesson's ``key_words``."""
    match = _STATEMENT.match(sentence.strip())
    if match is None or not set(tokenize(match.group("subject"))) & key_words:
        return None
    if _VAGUE_GLOSS.match(match.group("rest")):
        return None  # "Is heat something familiar to all of us?" asks nothing
    subject = _lower_opening(match.group("subject"))
    return f"{match.group('aux').capitalize()} {subject} {match.group('rest')}?"


@lru_cache(maxsize=16384)
def _answerable(sentence: str) -> bool:
    return (
        not refers_back(sentence)
        and len(sentence.split()) <= MAX_ANSWER_WORDS
        and sentence.rstrip().endswith(".")
    )


def _questions(
    sentence: str, defined: dict[str, str], proper: frozenset[str], key_words: frozenset[str]
) -> list[tuple[str, int, bool]]:
    """Every question ``sentence`` answers, with its tier and whether it asks for a definition,
    best first: a sentence whose first question is asked already (two scenes that both give
    the cause) can still give another."""
    asked: list[tuple[str, int, bool]] = []
    if question := fact_question(sentence) or date_question(sentence):
        asked.append((question, FIRST_TIER, False))
    term = defined.get(sentence) or _defined_term(_ADVERB_OPENING.sub("", sentence), proper)
    if term:
        asked.append((definition_question(term, sentence), FIRST_TIER, True))
    if question := shaped_question(sentence, proper):
        asked.append((question, SHAPED_TIER, False))
    if question := statement_question(sentence, key_words):
        asked.append((question, STATEMENT_TIER, False))
    return asked


def _found(script: Script) -> list[_Found]:
    """Every question the narration answers, scene by scene; facts before definitions."""
    concepts = [scene for scene in script.scenes if scene.kind is SceneKind.CONCEPT]
    defined = {
        entry.definition: entry.term for entry in script.glossary if _defines(entry.definition)
    }
    key_words = frozenset(
        word
        for text in [script.title, *(e.term for e in script.glossary), *(s.title for s in concepts)]
        for word in tokenize(text)
    )
    proper = proper_names(s for scene in script.scenes for s in scene.narration)
    found: list[_Found] = []
    later: list[_Found] = []  # other shapes, then yes-or-no questions
    for scene in concepts:
        facts: list[_Found] = []
        definitions: list[_Found] = []
        for sentence in scene.narration:
            if not _answerable(sentence):
                continue
            for question, tier, definition in _questions(sentence, defined, proper, key_words):
                item = _Found(question, sentence, scene.index, tier)
                (later if tier != FIRST_TIER else definitions if definition else facts).append(item)
        # Short answers first: the pause scene repeats them.
        found += sorted(facts, key=_length) + sorted(definitions, key=_length)
    return found + sorted(later, key=lambda item: (item.tier, _length(item)))


def _length(item: _Found) -> int:
    return len(item.answer.split())


@lru_cache(maxsize=16384)
def _defines(sentence: str) -> bool:
    """Whether a sentence read as a definition says what its term is: not "Heat is something
    familiar to all of us.", "The current is the same at all points.", "Halley was a
    contributor to the sciences." (a past fact about a name), nor "People call meteors shooting
    stars, even though meteors have nothing to do with stars." (the term is inside its gloss)."""
    reading = read(_ADVERB_OPENING.sub("", sentence))
    if not reading.defines or not reading.term or _VAGUE_GLOSS.match(reading.gloss):
        return False
    term = re.escape(reading.term)
    past = re.match(rf"(?:(?:the|a|an) )?{term} (?:was|were)\b", sentence, re.IGNORECASE)
    return past is None and not mentions(tokenize(reading.gloss), term_key(reading.term))


@lru_cache(maxsize=16384)
def _defined_term(sentence: str, proper: frozenset[str] = frozenset()) -> str | None:
    """The term a sentence defines, as written inside a question ("Halley's Comet" keeps its
    capital), or None."""
    if not _defines(sentence):
        return None
    term = read(sentence).term or ""
    first = term.split()[0]
    name = re.sub(r"['\u2019]s$", "", first)
    # A possessive name keeps its capital, as in ``lower_opening``.
    lowered = name == first and first[1:].islower() and len(first) > 1 and name not in proper
    if sentence.startswith(term) and lowered:
        term = term[:1].lower() + term[1:]
    return term


def _asks(question: str) -> tuple[str, frozenset[str]]:
    """What kind of question it is ("what is", "what causes", "why") and its content words."""
    first, second = (question.lower().split() + [""])[:2]
    kind = f"{first} is" if second in {"is", "are", "was", "were"} else first
    return ("what causes" if second == "causes" else kind), frozenset(tokenize(question))


def _same(kind: str, words: frozenset[str], other_kind: str, other: frozenset[str]) -> bool:
    """Whether two questions ask the same thing: "What is a rainbow?" and "What are rainbows?"
    do, and so do "What causes the seasons?" and "What causes the familiar cycle of the
    seasons?" (one effect said more fully); "What is a wave?" and "What are mechanical
    waves?" do not."""
    if kind != other_kind:
        return False
    return words == other or (kind != "what is" and (words <= other or other <= words))


def choose_questions(script: Script) -> list[_Found]:
    """Three questions, from as many different scenes as possible, in the lesson's order."""
    found = _found(script)
    chosen: list[_Found] = []
    asked: list[tuple[str, frozenset[str]]] = []
    passes = [(tier, spread) for tier in range(STATEMENT_TIER + 1) for spread in (True, False)]
    for tier, spread in passes:
        for item in found:
            if item.tier > tier:
                continue
            scenes = {c.scene_index for c in chosen}
            if len(chosen) == QUESTIONS:
                break
            kind, words = _asks(item.question)
            if any(_same(kind, words, k, w) for k, w in asked) or item.answer in {
                c.answer for c in chosen
            }:
                continue
            if spread and item.scene_index in scenes:
                continue
            chosen.append(item)
            asked.append((kind, words))
    return sorted(chosen, key=lambda c: (c.scene_index, found.index(c)))


def check_scene(index: int, chosen: list[_Found], written_by: str = "offline") -> Scene:
    """The pause-and-think scene: the questions, a pause line, then each answer."""
    questions = tuple(c.question for c in chosen)
    answers = tuple(c.answer for c in chosen)
    narration = (CHECK_OPENING, *questions, CHECK_PAUSE, *answers)
    first_answer = 2 + len(questions)
    items = tuple(
        VisualItem(label=c.question, detail=c.answer, reveal_at=first_answer + n)
        for n, c in enumerate(chosen)
    )
    return Scene(
        index=index,
        kind=SceneKind.CHECK,
        title=CHECK_TITLE,
        bullets=questions,
        narration=narration,
        reveal_at=tuple(range(1, len(questions) + 1)),
        written_by=written_by,
        visual=Visual(VisualKind.QUESTIONS, items),
    )


def add_check_scene(script: Script, limit_seconds: float | None = None) -> Script:
    """``script`` with a check scene before its recap and ``checks`` filled, or unchanged when
    the narration gives fewer than three questions, when the scene would take more than
    ``MAX_CHECK_SHARE`` of the requested length, or when the script would then run past
    ``limit_seconds``. A script that already has a check scene is returned as it is."""
    if any(scene.kind is SceneKind.CHECK for scene in script.scenes):
        return script
    chosen = choose_questions(script)
    if len(chosen) < QUESTIONS:
        return script
    at = next(
        (n for n, s in enumerate(script.scenes) if s.kind in (SceneKind.RECAP, SceneKind.CREDITS)),
        len(script.scenes),
    )
    recap = script.scenes[at] if at < len(script.scenes) else None
    scene = check_scene(at, chosen, recap.written_by if recap else "offline")
    if scene_seconds(scene, script.grade) > MAX_CHECK_SHARE * script.target_seconds:
        return script
    scenes = (
        *script.scenes[:at],
        scene,
        *(replace(s, index=s.index + 1) for s in script.scenes[at:]),
    )
    checked = replace(
        script,
        scenes=scenes,
        checks=tuple(CheckQuestion(c.question, c.answer, c.scene_index) for c in chosen),
    )
    if limit_seconds is not None and script_seconds(checked) > limit_seconds:
        return script
    return checked
