"""Building the four kinds of scene from planned sections.

Concept scenes narrate library sentences; the title, recap and credits scenes add only framing
("Let's explore...", "Let's review...") and restate what the concept scenes already said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script, SourceDocument
from vividly_ray.script.bullets import Summary, summarize
from vividly_ray.script.glossary import build_glossary
from vividly_ray.script.planning import Section
from vividly_ray.script.quality import bullet_problems
from vividly_ray.script.terms import term_key
from vividly_ray.script.titles import (
    ConceptTitle,
    TitleBook,
    concept_title,
    preview_sentence,
    title_key,
)
from vividly_ray.script.vocabulary import PREPOSITIONS, SUBORDINATORS

MAX_CONCEPT_BULLETS = 4
# The credits say where the lesson comes from in words at the grade: plain for young students,
# naming open educational resources from grade 7 on.
CREDITS_NARRATION = "Our sources and their licences are on the screen."
CREDITS_NARRATION_OLDER = (
    "This video was made from open educational resources; their licences are on screen."
)
CREDITS_OLDER_GRADE = 7
RECAP_OPENING = "Let's review what we learned."
RECAP_SENTENCE_WORDS = 14  # a longer key sentence is cut at its first comma for the recap
RECAP_LONGEST = 25  # a key sentence still longer gives way to a shorter one of its scene
# A recap sentence cut at a comma must not be left as only its "When ..." or "In ..." part.
_OPENERS = SUBORDINATORS | PREPOSITIONS


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
    reserved: frozenset[str]  # title keys a concept scene must not take (the topic's)
    known: frozenset[str] = frozenset()  # the documents' key terms, lowercase


def title_subtitle(framing: Framing, parts: int) -> str:
    """The line under the title: who it is for and what is ahead ("Grade 5 · 7 key ideas")."""
    grade = "Kindergarten" if framing.grade.level == 0 else f"Grade {framing.grade.label}"
    ideas = "1 key idea" if parts == 1 else f"{parts} key ideas"
    return f"{grade} \u00b7 {ideas}"


def title_scene(framing: Framing, titles: Sequence[ConceptTitle], parts: int) -> Scene:
    """The opening: what the video is about and a one-sentence preview of its parts."""
    preview = preview_sentence(titles) or f"We will go through it in {parts} short parts."
    return Scene(
        index=0,
        kind=SceneKind.TITLE,
        title=framing.title,
        bullets=(title_subtitle(framing, parts),),
        narration=(f"Let's explore {framing.phrase}.", preview),
    )


def _bullet_indices(summaries: Sequence[Summary], sentences: Sequence[str]) -> list[int]:
    """Which sentences get a bullet: up to four, one per term, preferring sentences that explain
    a term, then the opening one; a bullet that does not read as a complete phrase, or repeats
    a term the scene explains, only when the scene would otherwise have fewer than two."""
    explained = {s.reading.term.lower() for s in summaries if s.reading.term and s.defines}
    ranked = []
    for n, summary in enumerate(summaries):
        term = summary.reading.term.lower() if summary.reading.term else None
        weak = bool(bullet_problems(summary.text, sentences[n])) or (
            term in explained and not summary.defines
        )
        ranked.append((weak, not summary.defines, n != 0, n))
    chosen: list[int] = []
    terms: set[str] = set()
    for weak, *_, n in sorted(ranked):
        term = (summaries[n].reading.term or "").lower()
        if weak and len(chosen) >= 2:
            break
        if (term and term in terms and not weak) or summaries[n].text.lower() in {
            summaries[i].text.lower() for i in chosen
        }:
            continue
        chosen.append(n)
        terms.add(term)
        if len(chosen) == MAX_CONCEPT_BULLETS:
            break
    return sorted(chosen)


def concept_scene(
    index: int, section: Section, framing: Framing, book: TitleBook, last: bool
) -> tuple[Scene, ConceptTitle]:
    """A concept scene and its title; ``book`` records the titles used so far."""
    summaries = [summarize(s, framing.proper, framing.known) for s in section.sentences]
    shown = _bullet_indices(summaries, section.sentences)
    title = concept_title(section.sentences, summaries, book, last)
    scene = Scene(
        index=index,
        kind=SceneKind.CONCEPT,
        title=title.title,
        bullets=tuple(summaries[i].text for i in shown),
        narration=section.sentences,
        source_ids=section.source_ids,
        # The slide never stands empty: its first bullet is up from the start.
        reveal_at=(0, *shown[1:]) if shown else (),
        source_sentences=section.originals if any(section.originals) else (),
    )
    return scene, title


_LIST_GOES_ON = re.compile(r"^[^,]{1,40},\s*(and|or)\s", re.IGNORECASE)


def recap_sentence(sentence: str, term: str = "") -> str:
    """A key sentence, cut before its first comma when that leaves a main clause that still
    names ``term``."""
    if len(sentence.split()) <= RECAP_SENTENCE_WORDS or ", " not in sentence:
        return sentence
    # Only a clause comma cuts: not the comma inside "828,000", nor one that starts a list
    # ("how people, businesses, and governments choose").
    head, rest = (part.strip() for part in sentence.split(", ", 1))
    if _LIST_GOES_ON.match(rest):
        return sentence
    if term and not set(term_key(term)) <= set(term_key(head)):
        return sentence
    count = len(head.split())
    # "When two magnets come close together" cannot stand alone; "Every magnet has two ends" can.
    if 5 <= count <= RECAP_SENTENCE_WORDS and head.split()[0].lower() not in _OPENERS:
        return f"{head}."
    return sentence


def _source_of(scene: Scene, n: int) -> str:
    """The library sentence narration sentence ``n`` of ``scene`` was edited from, or ""."""
    return scene.source_sentences[n] if n < len(scene.source_sentences) else ""


def _restated(scene: Scene, n: int, text: str) -> tuple[str, str]:
    """``text`` restating narration sentence ``n`` of ``scene``, with the library sentence it
    comes from when the two differ ("" when it is the library's own words)."""
    said = scene.narration[n]
    return text, _source_of(scene, n) or ("" if text == said else said)


def _key_idea(scene: Scene, title: ConceptTitle) -> tuple[str, str]:
    """The scene's key sentence for the recap (see ``_restated``); a very long one gives way to
    a shorter sentence of the same scene."""
    n = title.key_sentence
    key = recap_sentence(scene.narration[n], title.title.split(" and ")[0])
    if len(key.split()) <= RECAP_LONGEST:
        return _restated(scene, n, key)
    for m, sentence in enumerate(scene.narration):
        shorter = recap_sentence(sentence)
        if len(shorter.split()) <= RECAP_LONGEST:
            return _restated(scene, m, shorter)
    return _restated(scene, n, key)


def recap_scene(index: int, concepts: Sequence[Scene], titles: Sequence[ConceptTitle]) -> Scene:
    """Every concept scene's key idea again, in order; the bullets are the scene titles."""
    ideas = [_key_idea(scene, title) for scene, title in zip(concepts, titles, strict=True)]
    restated = [text for text, _ in ideas]
    originals = ("", *(source for _, source in ideas))
    return Scene(
        index=index,
        kind=SceneKind.RECAP,
        title="Recap",
        bullets=tuple(scene.title for scene in concepts),
        narration=(RECAP_OPENING, *restated),
        source_ids=tuple(dict.fromkeys(i for scene in concepts for i in scene.source_ids)),
        reveal_at=tuple(range(1, len(concepts) + 1)),
        source_sentences=originals if any(originals) else (),
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


def credits_narration(grade: Grade | None = None) -> str:
    """The spoken credits line for ``grade`` (the plain one when no grade is given)."""
    older = grade is not None and grade.level >= CREDITS_OLDER_GRADE
    return CREDITS_NARRATION_OLDER if older else CREDITS_NARRATION


def credits_scene(
    index: int, sources: Sequence[SourceDocument], grade: Grade | None = None
) -> Scene:
    """The sources slide: every source with its licence on screen, one spoken line."""
    return Scene(
        index=index,
        kind=SceneKind.CREDITS,
        title="Sources",
        bullets=tuple(credit_line(source) for source in sources),
        narration=(credits_narration(grade),),
        source_ids=tuple(source.source_id for source in sources),
        reveal_at=tuple(0 for _ in sources),
    )


def _title_book(framing: Framing) -> TitleBook:
    topics = frozenset({framing.phrase.lower(), framing.title.lower()})
    return TitleBook(framing.reserved, framing.known, framing.proper, topics=topics)


def _closing(sections: Sequence[Section]) -> list[bool]:
    """Whether each section is the last drawn from its document: such a scene may sum it up."""
    return [
        n + 1 == len(sections) or sections[n + 1].source_ids != section.source_ids
        for n, section in enumerate(sections)
    ]


def _finish(framing: Framing, built: Sequence[tuple[Scene, ConceptTitle]]) -> Script:
    """The script around its concept scenes: title, recap and credits."""
    concepts = [scene for scene, _ in built]
    titles = [title for _, title in built]
    used = [
        framing.sources[i]
        for i in dict.fromkeys(i for scene in concepts for i in scene.source_ids)
        if i in framing.sources
    ]
    scenes = [
        title_scene(framing, titles, len(concepts)),
        *concepts,
        recap_scene(len(concepts) + 1, concepts, titles),
        credits_scene(len(concepts) + 2, used, framing.grade),
    ]
    return Script(
        title=framing.title,
        grade=framing.grade,
        target_seconds=framing.target_seconds,
        scenes=tuple(scenes),
        sources=tuple(used),
        glossary=build_glossary(concepts, framing.known),
    )


def assemble(framing: Framing, sections: Sequence[Section]) -> Script:
    """The whole script for planned concept sections."""
    book = _title_book(framing)
    closing = _closing(sections)
    built = [concept_scene(n + 1, s, framing, book, closing[n]) for n, s in enumerate(sections)]
    return _finish(framing, built)


def _copy_book(book: TitleBook) -> TitleBook:
    return replace(book, taken=set(book.taken), terms=list(book.terms), titles=set(book.titles))


_Opening = tuple[tuple[Section, bool], ...]  # the first sections and whether each closes


class Assembler:
    """``assemble`` for many plans of one script, remembering the concept scenes of every
    opening run of sections it has built: a scene's title depends only on the scenes before
    it, so plans that share their first sections share those scenes. The scripts are the
    ones ``assemble`` gives."""

    def __init__(self, framing: Framing) -> None:
        self.framing = framing
        self._built: dict[_Opening, tuple[Scene, ConceptTitle, TitleBook]] = {}

    def __call__(self, sections: Sequence[Section]) -> Script:
        book = _title_book(self.framing)
        closing = _closing(sections)
        built: list[tuple[Scene, ConceptTitle]] = []
        opening: _Opening = ()
        for n, section in enumerate(sections):
            opening = (*opening, (section, closing[n]))
            seen = self._built.get(opening)
            if seen is None:
                scene, title = concept_scene(n + 1, section, self.framing, book, closing[n])
                self._built[opening] = (scene, title, _copy_book(book))
            else:
                scene, title, after = seen
                book = _copy_book(after)
            built.append((scene, title))
        return _finish(self.framing, built)


def reserved_titles(*titles: str) -> frozenset[str]:
    """Title keys of the video's own topic, which no concept scene may take."""
    return frozenset(title_key(t) for t in titles if title_key(t))
