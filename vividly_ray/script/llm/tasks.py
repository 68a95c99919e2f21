"""The data that crosses from the planner to the scene writers and back.

Scene writing may run on other processes or machines (a pool of replicas), so a task carries
everything its scene needs, the passages with their ids included, and both a task and its draft
are frozen dataclasses of plain values: picklable, and free of clients, locks or callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass

from vividly_ray.domain.models import (
    Passage,
    Scene,
    SceneKind,
    SourceDocument,
    Usage,
    VideoRequest,
)


@dataclass(frozen=True)
class PlannedScene:
    """One concept scene of the outline: what it is for and which passages it may use.

    ``target_seconds`` is the scene's share of the requested minutes, and ``sentences`` how many
    narration sentences fill that share at the grade's speaking rate.
    """

    position: int  # the scene's index in the script (the title scene is 0)
    title: str
    purpose: str
    passage_ids: tuple[str, ...]
    target_seconds: float
    sentences: int


@dataclass(frozen=True)
class Outline:
    """The planned video: its title and its concept scenes in order."""

    title: str
    scenes: tuple[PlannedScene, ...]


@dataclass(frozen=True)
class SceneTask:
    """Everything needed to write one concept scene anywhere: the request, the whole outline
    (for context), this scene's plan, and only the passages (and their documents) it may use."""

    request: VideoRequest
    topic: str
    outline: Outline
    plan: PlannedScene
    passages: tuple[Passage, ...]
    sources: tuple[SourceDocument, ...]
    query_terms: tuple[str, ...] = ()  # what retrieval searched with (the offline writer needs it)


@dataclass(frozen=True)
class SceneDraft:
    """A written concept scene, or an empty one when nothing could be written for its plan.

    ``citations`` holds the passage ids each narration sentence cites (empty for a scene the
    offline writer wrote, whose sentences are the library's own); ``problems`` says why the
    model's versions were turned down when the scene fell back.
    """

    position: int
    title: str
    bullets: tuple[str, ...]
    narration: tuple[str, ...]
    citations: tuple[tuple[str, ...], ...]
    source_ids: tuple[str, ...]
    written_by: str
    reveal_at: tuple[int, ...] = ()
    usage: Usage = Usage()
    problems: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.narration

    @property
    def passage_ids(self) -> tuple[str, ...]:
        """Every passage the scene cites, first citation first."""
        return tuple(dict.fromkeys(i for cited in self.citations for i in cited))

    def scene(self, index: int) -> Scene:
        return Scene(
            index=index,
            kind=SceneKind.CONCEPT,
            title=self.title,
            bullets=self.bullets,
            narration=self.narration,
            source_ids=self.source_ids,
            reveal_at=self.reveal_at,
            written_by=self.written_by,
        )
