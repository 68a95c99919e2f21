"""Every metric of one question, as the JSON row the report holds.

A row always has the question, the expected and actual decision and the outcome; a row whose
outcome is a lesson also has ``metrics`` (one entry per metric of docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vividly_ray.domain.models import Script, render_spec
from vividly_ray.script.pacing import split_sentences

from .attribution import attribution_misses
from .captions_check import check_captions
from .check_scene import SHORTEST_CHECKED_MINUTES, check_scene_result
from .coverage import compile_concepts, concept_coverage, off_topic_scenes
from .grounding import measure_grounding
from .lessons import LessonRun, Outcome
from .readability import measure, reading_report
from .slides_check import check_slides
from .timing import measure_duration
from .titles import chopped_title_reasons
from .wording import bullet_problem, figure_reference, fragment_problem

EXAMPLES = 8  # examples kept per metric and row, so the JSON stays readable


def _figure_references(script: Script) -> list[dict[str, Any]]:
    found = []
    for scene in script.scenes:
        for kind, texts in (("narration", scene.narration), ("bullet", scene.bullets)):
            for text in texts:
                words = figure_reference(text)
                if words:
                    found.append({"scene": scene.index, "in": kind, "words": words, "text": text})
    return found


def _fragments(script: Script) -> list[dict[str, Any]]:
    found = []
    for scene in script.scenes:
        for number, sentence in enumerate(scene.narration):
            problem = fragment_problem(sentence, scene.narration[:number])
            if problem:
                found.append({"scene": scene.index, "reason": problem, "text": sentence})
    return found


def _bullet_fragments(script: Script) -> list[dict[str, Any]]:
    return [
        {"scene": scene.index, "reason": problem, "text": bullet}
        for scene in script.scenes
        for bullet in scene.bullets
        if (problem := bullet_problem(bullet))
    ]


def _counted(items: Sequence[Any]) -> dict[str, Any]:
    return {"count": len(items), "examples": list(items[:EXAMPLES])}


def lesson_metrics(
    run: LessonRun,
    concepts: Sequence[Sequence[str]] | None,
    *,
    slides: bool,
    scratch: Path,
    keep: Path | None = None,
) -> dict[str, Any]:
    """The metrics of a run that produced a script."""
    script, request, retrieval = run.script, run.request, run.retrieval
    if script is None or request is None or retrieval is None:
        raise ValueError(f"{run.query.student_query!r} ended {run.outcome}, with no script")
    compiled = compile_concepts(concepts or [])
    coverage = concept_coverage(script, compiled)
    grounding = measure_grounding(script, retrieval)
    # A narration item is meant to be one sentence; a few hold more, and are counted as such.
    narration = [
        s for scene in script.scenes for item in scene.narration for s in split_sentences(item)
    ]
    scene_titles = [
        {"scene": scene.index, "title": scene.title, "reasons": reasons}
        for scene in script.scenes[1:]
        if (reasons := chopped_title_reasons(scene.title))
    ]
    title_reasons = chopped_title_reasons(script.title, request.question)
    metrics: dict[str, Any] = {
        "coverage": {
            "keyed": concepts is not None,
            "share": round(coverage.share, 3) if concepts is not None else None,
            "concepts": coverage.concepts,
            "matched": coverage.matched,
            "missing": list(coverage.missing),
        },
        "off_topic_scenes": _counted(off_topic_scenes(script, compiled)),
        "figure_references": _counted(_figure_references(script)),
        "fragments": _counted(_fragments(script)),
        "bullet_fragments": _counted(_bullet_fragments(script)),
        "title": {"text": script.title, "chopped": bool(title_reasons), "reasons": title_reasons},
        "chopped_scene_titles": _counted(scene_titles),
        "reading": reading_report(measure(narration), request.grade.level),
        "grounding": {
            "claims": grounding.claims,
            "supported": grounding.supported,
            "exact": grounding.exact,
            "overlap": grounding.overlap,
            "edited": grounding.edited,
            "share": round(grounding.share, 4),
            "misattributed": grounding.misattributed,
            "unsupported": grounding.unsupported[:EXAMPLES],
            "scenes_without_source": grounding.scenes_without_source,
        },
        "duration": measure_duration(script, request.minutes).to_dict(),
        "captions": check_captions(script).to_dict(),
        "slides": None,
        "attribution": _counted(attribution_misses(request, script)),
        "check": {
            **check_scene_result(script).to_dict(),
            "expected": request.minutes >= SHORTEST_CHECKED_MINUTES,
        },
        "sources": len(script.sources),
    }
    if slides:
        metrics["slides"] = check_slides(script, render_spec(request), scratch, keep).to_dict()
    return metrics


def evaluate(
    run: LessonRun,
    keys: dict[str, list[list[str]]],
    *,
    slides: bool,
    scratch: Path,
    keep: Path | None = None,
) -> dict[str, Any]:
    """The JSON row of one question."""
    query = run.query
    row: dict[str, Any] = {
        "question": query.student_query,
        "grade": str(query.grade_level),
        "minutes": query.duration_minutes,
        "expect": query.expect,
        "decision": run.decision,
        "decision_ok": run.decision == query.expect,
        "keyed": query.student_query in keys,
        "outcome": run.outcome.value,
        "reason": run.reason,
        "topic": run.assessment.topic if run.assessment else "",
        "passages": len(run.retrieval.passages) if run.retrieval else 0,
        "seconds": round(run.seconds, 3),
        "title": run.script.title if run.script else None,
        "scenes": len(run.script.scenes) if run.script else 0,
        "metrics": None,
    }
    if run.outcome is Outcome.LESSON:
        concepts = keys.get(query.student_query)
        row["metrics"] = lesson_metrics(run, concepts, slides=slides, scratch=scratch, keep=keep)
    return row
