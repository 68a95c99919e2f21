"""The script's glossary: each key term with the sentence that first explains it.

Only the concept scenes teach, so only their narration is read; a term is entered the first
time a sentence defines it (names it, explains it or classes it, as ``terms.read`` sees it),
so the glossary follows the order of the video and every definition is a sentence the
student hears.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vividly_ray.domain.models import GlossaryEntry, Scene, SceneKind
from vividly_ray.script.terms import read, term_key

MAX_ENTRIES = 12


def build_glossary(scenes: Sequence[Scene], known: Iterable[str] = ()) -> tuple[GlossaryEntry, ...]:
    vocabulary = frozenset(known)
    seen: set[tuple[str, ...]] = set()
    entries: list[GlossaryEntry] = []
    for scene in scenes:
        if scene.kind is not SceneKind.CONCEPT:
            continue
        for sentence in scene.narration:
            reading = read(sentence, vocabulary)
            if not reading.defines or not reading.term:
                continue
            key = term_key(reading.term)
            if not key or key in seen:
                continue
            seen.add(key)
            term = _as_written(reading.term, sentence)
            entries.append(GlossaryEntry(term, sentence, scene.index))
            if len(entries) == MAX_ENTRIES:
                return tuple(entries)
    return tuple(entries)


def _as_written(term: str, sentence: str) -> str:
    """The term in lowercase when its capital only starts the sentence ("Evaporation happens
    ..." -> "evaporation"); names and initialisms ("B cells", "DNA") keep theirs."""
    first = term.split()[0]
    if sentence.startswith(term) and first[1:].islower() and len(first) > 1:
        return term[:1].lower() + term[1:]
    return term
