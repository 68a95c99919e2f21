"""Turning a scene reply into a draft, and writing a scene offline when the model's would not do.

A model may put two sentences in one narration item; they are split, and each keeps the item's
citations, so captions and timings still follow one sentence per item. Bullets appear on screen
at the sentence they share most words with, never earlier than the bullet before them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    Retrieval,
    RetrievedPassage,
    Scene,
    SceneKind,
    Usage,
)
from vividly_ray.library.text import tokenize
from vividly_ray.pipeline.ports import ScriptWriter
from vividly_ray.script.llm.client import JsonObject
from vividly_ray.script.llm.tasks import SceneDraft, SceneTask
from vividly_ray.script.llm.verifier import MAX_BULLETS, PACING_TOLERANCE
from vividly_ray.script.pacing import narration_seconds, split_sentences

OFFLINE = "offline"


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _ids(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else []
    return tuple(dict.fromkeys(i.strip() for i in items if isinstance(i, str) and i.strip()))


def reveal_positions(bullets: Sequence[str], narration: Sequence[str]) -> tuple[int, ...]:
    """For each bullet, the sentence at whose start it appears; the first is up from the start."""
    sentences = [set(tokenize(s)) for s in narration]
    positions: list[int] = []
    for n, bullet in enumerate(bullets):
        earliest = positions[-1] if positions else 0
        wanted = set(tokenize(bullet))
        best, most = earliest, 0
        for i in range(earliest, len(sentences)):
            shared = len(wanted & sentences[i])
            if shared > most:  # the first sentence with the most shared words
                best, most = i, shared
        positions.append(0 if n == 0 else best)
    return tuple(positions)


def read_scene(data: JsonObject, task: SceneTask, written_by: str, usage: Usage) -> SceneDraft:
    """The draft in a scene reply; whatever is missing or misshapen shows up as empty fields,
    for the verifier to name."""
    narration: list[str] = []
    citations: list[tuple[str, ...]] = []
    items = data.get("narration")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        cited = _ids(item.get("passage_ids"))
        for sentence in split_sentences(_text(item.get("sentence"))):
            narration.append(sentence)
            citations.append(cited)
    bullets_data = data.get("bullets")
    bullets = tuple(
        b for b in (_text(x) for x in (bullets_data if isinstance(bullets_data, list) else [])) if b
    )
    documents = {p.passage_id: p.source_id for p in task.passages}
    sources = (documents[i] for cited in citations for i in cited if i in documents)
    return SceneDraft(
        position=task.plan.position,
        title=_text(data.get("title")),
        bullets=bullets,
        narration=tuple(narration),
        citations=tuple(citations),
        source_ids=tuple(dict.fromkeys(sources)),
        written_by=written_by,
        reveal_at=reveal_positions(bullets, narration),
        usage=usage,
    )


def _fitting(concepts: Sequence[Scene], task: SceneTask) -> list[Scene]:
    """The leading offline scenes that fit the scene's share of the minutes (at least one)."""
    limit = task.plan.target_seconds * (1 + PACING_TOLERANCE)
    kept: list[Scene] = []
    for scene in concepts:
        narration = [s for k in kept for s in k.narration] + list(scene.narration)
        if kept and narration_seconds(narration, task.request.grade) > limit:
            break
        kept.append(scene)
    return kept


def _merged_bullets(scenes: Sequence[Scene]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Up to four bullets, each scene's first ones first, shown at their own sentences."""
    offsets = [sum(len(s.narration) for s in scenes[:n]) for n in range(len(scenes))]
    placed: list[tuple[int, int, str]] = []  # (rank within its scene, sentence, bullet)
    for scene, offset in zip(scenes, offsets, strict=True):
        spread = scene.reveal_at or tuple(range(len(scene.bullets)))
        for rank, (bullet, at) in enumerate(zip(scene.bullets, spread, strict=False)):
            placed.append((rank, offset + at, bullet))
    chosen = sorted(sorted(placed)[:MAX_BULLETS], key=lambda item: item[1])
    bullets = tuple(bullet for _, _, bullet in chosen)
    reveal = tuple(0 if n == 0 else at for n, (_, at, _) in enumerate(chosen))
    return bullets, reveal


def offline_draft(
    task: SceneTask, fallback: ScriptWriter, usage: Usage, problems: Sequence[str] = ()
) -> SceneDraft:
    """The scene written by the offline writer from the task's passages alone (an empty draft
    when they hold nothing it can narrate)."""
    retrieval = Retrieval(
        query=task.topic,
        # The outline chose every one of these passages for this scene: all rank equal.
        passages=tuple(RetrievedPassage(p, 1.0) for p in task.passages),
        sources=task.sources,
        query_terms=task.query_terms,
    )
    request = replace(task.request, minutes=task.plan.target_seconds / 60.0)
    empty = SceneDraft(
        position=task.plan.position,
        title=task.plan.title,
        bullets=(),
        narration=(),
        citations=(),
        source_ids=(),
        written_by=OFFLINE,
        usage=usage,
        problems=tuple(problems),
    )
    try:
        script = fallback.write(request, retrieval, task.topic)
    except StageFailed as error:
        return replace(empty, problems=(*problems, f"offline writer: {error.reason}"))
    kept = _fitting([s for s in script.scenes if s.kind is SceneKind.CONCEPT], task)
    if not kept:
        return empty
    bullets, reveal = _merged_bullets(kept)
    return replace(
        empty,
        bullets=bullets,
        narration=tuple(s for scene in kept for s in scene.narration),
        source_ids=tuple(dict.fromkeys(i for scene in kept for i in scene.source_ids)),
        reveal_at=reveal,
    )
