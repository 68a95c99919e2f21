"""Building the four kinds of scene from planned sections.

Concept scenes narrate library sentences; the title, recap and credits scenes add only framing
("Let's explore...", "Let's review...") and restate what the concept scenes already said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script, SourceDocument
from vividly_ray.library.text import STOPWORDS, stem, words
from vividly_ray.script.bullets import SUBORDINATE_OPENERS, Summary, compress, summarize
from vividly_ray.script.selection import Section

MAX_CONCEPT_BULLETS = 4
CREDITS_NARRATION = (
    "This video was made from open educational resources; the sources are on screen."
)
RECAP_OPENING = "Let's review what we learned."
RECAP_SENTENCE_WORDS = 14  # a longer opening sentence is cut at its first comma for the recap


@dataclass(frozen=True)
class Framing:
    """What every scene needs to know about the script as a whole."""

    title: str
    phrase: str  # the topic in running text: "the water cycle"
    grade: Grade
    target_seconds: float
    sources: Mapping[str, SourceDocument]
    proper: frozenset[str]  # words that keep a capital letter inside a sentence
    query: frozenset[str]  # search tokens of the question
    reserved: frozenset[str]  # lowercased titles a concept scene must not take (the topic's)


def running_text(title: str, proper: frozenset[str]) -> str:
    """A title as it reads inside a sentence: "The Water Cycle" -> "the water cycle"."""
    return " ".join(
        word if word in proper or word[1:2].isupper() else word.lower() for word in title.split()
    )


def _join(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])}, and {items[-1]}"


def title_scene(framing: Framing, key_terms: Sequence[str], parts: int) -> Scene:
    """The opening: what the video is about and a one-sentence preview of its parts."""
    narration = [f"Let's explore {framing.phrase}."]
    if key_terms:
        listed = [running_text(t, framing.proper) for t in key_terms[:3]]
        narration.append(f"We will look at {_join(listed)}.")
    else:
        narration.append(f"We will go through it in {parts} short parts.")
    return Scene(
        index=0, kind=SceneKind.TITLE, title=framing.title, bullets=(), narration=tuple(narration)
    )


def _bullet_indices(summaries: Sequence[Summary]) -> list[int]:
    """Which sentences get a bullet: the first, then those that define a term."""
    if len(summaries) <= MAX_CONCEPT_BULLETS:
        return list(range(len(summaries)))
    rest = sorted(range(1, len(summaries)), key=lambda i: (summaries[i].term is None, i))
    return sorted([0, *rest[: MAX_CONCEPT_BULLETS - 1]])


def _salient_word(sentences: Sequence[str], framing: Framing) -> str | None:
    """The content word a scene repeats most (at least twice), outside the question's words."""
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for sentence in sentences:
        for word in words(sentence):
            if word in STOPWORDS or len(word) < 4 or stem(word) in framing.query:
                continue
            counts[stem(word)] += 1
            forms.setdefault(stem(word), Counter())[word] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if not ranked or ranked[0][1] < 2:
        return None
    form = sorted(forms[ranked[0][0]].items(), key=lambda item: (-item[1], item[0]))[0][0]
    return form.capitalize()


def _concept_title(
    section: Section, summaries: Sequence[Summary], framing: Framing, taken: set[str], first: bool
) -> tuple[str, bool]:
    """A short scene title and whether it names a key term (rather than a fallback)."""
    # Named terms first ("is called stomata"), then subjects of "X is ..." sentences.
    terms: list[str] = [s.term for s in summaries if s.term and s.defines]
    terms += [s.term for s in summaries if s.term and not s.defines]
    salient = _salient_word(section.sentences, framing)
    terms += [salient] if salient else []
    documents = [framing.sources[i].title for i in section.source_ids if i in framing.sources]
    fallbacks = [*documents, *(["Introduction"] if first else [])]
    fallbacks += [f"{title} (continued)" for title in documents]
    fallbacks.append(compress(section.sentences[0], 4))
    for option, named in [*((t, True) for t in terms), *((f, False) for f in fallbacks)]:
        key = _title_key(option)
        if key not in taken and option.lower() not in framing.reserved:
            taken.add(key)
            return option, named
    return fallbacks[-1], False


def _title_key(title: str) -> str:
    """Titles that differ only in word endings ("Pole", "Poles") count as the same title."""
    return " ".join(stem(word) for word in words(title))


def concept_scene(
    index: int, section: Section, framing: Framing, taken: set[str]
) -> tuple[Scene, bool]:
    """A concept scene and whether its title names a key term."""
    summaries = [summarize(sentence, framing.proper) for sentence in section.sentences]
    bullets: list[str] = []
    reveal_at: list[int] = []
    for i in _bullet_indices(summaries):
        text = summaries[i].text
        if text.lower() not in {b.lower() for b in bullets}:
            bullets.append(text)
            reveal_at.append(i)
    title, named = _concept_title(section, summaries, framing, taken, first=index == 1)
    scene = Scene(
        index=index,
        kind=SceneKind.CONCEPT,
        title=title,
        bullets=tuple(bullets),
        narration=section.sentences,
        source_ids=section.source_ids,
        reveal_at=tuple(reveal_at),
    )
    return scene, named


def recap_sentence(sentence: str) -> str:
    """A concept's opening sentence, cut before its first comma when that leaves a main clause."""
    if len(sentence.split()) <= RECAP_SENTENCE_WORDS or "," not in sentence:
        return sentence
    head = sentence.split(",", 1)[0].strip()
    count = len(head.split())
    # "When two magnets come close together" cannot stand alone; "Every magnet has two ends" can.
    if 5 <= count <= RECAP_SENTENCE_WORDS and head.split()[0].lower() not in SUBORDINATE_OPENERS:
        return f"{head}."
    return sentence


def recap_scene(index: int, concepts: Sequence[Scene]) -> Scene:
    narration = [RECAP_OPENING] + [recap_sentence(scene.narration[0]) for scene in concepts]
    return Scene(
        index=index,
        kind=SceneKind.RECAP,
        title="Recap",
        bullets=tuple(scene.title for scene in concepts),
        narration=tuple(narration),
        source_ids=tuple(dict.fromkeys(i for scene in concepts for i in scene.source_ids)),
        reveal_at=tuple(range(1, len(concepts) + 1)),
    )


def credit_line(source: SourceDocument) -> str:
    """One source on the credits slide: title, attribution, licence and link, each once."""
    line = source.attribution
    if not line.lower().startswith(source.title.lower()):
        line = f"{source.title}. {line}"
    if source.license.lower() not in line.lower():
        line = f"{line} ({source.license})"
    if source.source_url and source.source_url not in line:
        line = f"{line} {source.source_url}"
    return line


def credits_scene(index: int, sources: Sequence[SourceDocument]) -> Scene:
    return Scene(
        index=index,
        kind=SceneKind.CREDITS,
        title="Sources",
        bullets=tuple(credit_line(source) for source in sources),
        narration=(CREDITS_NARRATION,),
        source_ids=tuple(source.source_id for source in sources),
        reveal_at=tuple(0 for _ in sources),
    )


def assemble(framing: Framing, sections: Sequence[Section]) -> Script:
    """The whole script for planned concept sections."""
    taken: set[str] = set()
    built = [concept_scene(n + 1, s, framing, taken) for n, s in enumerate(sections)]
    concepts = [scene for scene, _ in built]
    key_terms = [scene.title for scene, named in built if named]
    used = [
        framing.sources[i]
        for i in dict.fromkeys(i for scene in concepts for i in scene.source_ids)
        if i in framing.sources
    ]
    scenes = [
        title_scene(framing, key_terms, len(concepts)),
        *concepts,
        recap_scene(len(concepts) + 1, concepts),
        credits_scene(len(concepts) + 2, used),
    ]
    return Script(
        title=framing.title,
        grade=framing.grade,
        target_seconds=framing.target_seconds,
        scenes=tuple(scenes),
        sources=tuple(used),
    )
