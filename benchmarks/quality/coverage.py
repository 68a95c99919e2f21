"""Concept coverage against an answer key, and concept scenes that cover none of its concepts.

An answer key lists a question's concepts; each concept is a list of alternative regular
expressions, any one of which counts (matched case-insensitively, anywhere in the text).

- Coverage: the share of concepts with a match in the lesson text, which is the script title and,
  for every scene but the credits, its title, bullets and narration (the credits list sources,
  not lesson content).
- Off-topic concept scene: a CONCEPT scene whose narration and bullets match none of the
  concepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.domain.models import Scene, SceneKind, Script

Concept = tuple[re.Pattern[str], ...]


def compile_concepts(raw: Sequence[Sequence[str]]) -> tuple[Concept, ...]:
    """An answer key's concepts as compiled alternatives."""
    return tuple(
        tuple(re.compile(pattern, re.IGNORECASE) for pattern in alternatives)
        for alternatives in raw
    )


def matches(concept: Concept, text: str) -> bool:
    return any(pattern.search(text) for pattern in concept)


def lesson_text(script: Script) -> str:
    """Everything the lesson says or shows, but the credits."""
    parts = [script.title]
    for scene in script.scenes:
        if scene.kind is not SceneKind.CREDITS:
            parts += [scene.title, *scene.bullets, *scene.narration]
    return "\n".join(parts)


def scene_text(scene: Scene) -> str:
    return "\n".join((*scene.narration, *scene.bullets))


@dataclass(frozen=True)
class Coverage:
    """Which concepts of the key the lesson mentions."""

    concepts: int
    matched: int
    missing: tuple[str, ...]  # each missing concept as its alternatives joined by "|"

    @property
    def share(self) -> float:
        return self.matched / self.concepts if self.concepts else 1.0


def concept_coverage(script: Script, concepts: Sequence[Concept]) -> Coverage:
    text = lesson_text(script)
    missing = tuple(
        "|".join(p.pattern for p in concept) for concept in concepts if not matches(concept, text)
    )
    return Coverage(len(concepts), len(concepts) - len(missing), missing)


def off_topic_scenes(script: Script, concepts: Sequence[Concept]) -> list[str]:
    """Titles of the concept scenes that mention no concept of the key."""
    if not concepts:
        return []
    return [
        scene.title
        for scene in script.scenes
        if scene.kind is SceneKind.CONCEPT
        and not any(matches(concept, scene_text(scene)) for concept in concepts)
    ]
