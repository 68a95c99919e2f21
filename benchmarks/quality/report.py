"""Totals over every row, the issue's targets with whether each is met, and the printed table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

Row = dict[str, Any]


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _sum(lessons: Sequence[Row], pick: Callable[[dict[str, Any]], float]) -> int:
    return int(sum(pick(row["metrics"]) for row in lessons))


def totals(rows: Sequence[Row]) -> dict[str, Any]:
    """Aggregate figures of a run (each defined in docs/quality.md)."""
    lessons = [row for row in rows if row["metrics"] is not None]
    keyed = [row for row in lessons if row["metrics"]["coverage"]["keyed"]]
    graded = [row for row in lessons if row["metrics"]["reading"]["difference"] is not None]
    drawn = [row["metrics"]["slides"] for row in lessons if row["metrics"]["slides"]]
    claims = _sum(lessons, lambda m: m["grounding"]["claims"])
    supported = _sum(lessons, lambda m: m["grounding"]["supported"])
    captions: Counter[str] = Counter()
    for row in lessons:
        captions.update(row["metrics"]["captions"]["violations"])
    outcomes = Counter(row["outcome"] for row in rows)
    keyed_questions = [row for row in rows if row["expect"] == "proceed" and row["keyed"]]
    return {
        "questions": len(rows),
        "decisions_correct": sum(row["decision_ok"] for row in rows),
        "decision_accuracy": round(sum(row["decision_ok"] for row in rows) / len(rows), 3)
        if rows
        else None,
        "wrong_decisions": [
            f"{row['question']}: expected {row['expect']}, got {row['decision'] or '-'}"
            for row in rows
            if not row["decision_ok"]
        ],
        "outcomes": dict(sorted(outcomes.items())),
        "lessons": len(lessons),
        "too_little_material": [
            f"{row['question']}: {row['reason']}"
            for row in rows
            if row["outcome"] == "too_little_material"
        ],
        "mean_concept_coverage": _mean([r["metrics"]["coverage"]["share"] for r in keyed]),
        "mean_concept_coverage_missing_as_zero": _mean(
            [r["metrics"]["coverage"]["share"] if r["metrics"] else 0.0 for r in keyed_questions]
        ),
        "keyed_lessons": len(keyed),
        "off_topic_scenes": _sum(lessons, lambda m: m["off_topic_scenes"]["count"]),
        "figure_references": _sum(lessons, lambda m: m["figure_references"]["count"]),
        "fragments": _sum(lessons, lambda m: m["fragments"]["count"]),
        "bullet_fragments": _sum(lessons, lambda m: m["bullet_fragments"]["count"]),
        "chopped_titles": _sum(lessons, lambda m: m["title"]["chopped"]),
        "chopped_scene_titles": _sum(lessons, lambda m: m["chopped_scene_titles"]["count"]),
        "mean_abs_fk_minus_grade": _mean(
            [abs(r["metrics"]["reading"]["difference"]) for r in graded]
        ),
        "mean_fk_minus_grade": _mean([r["metrics"]["reading"]["difference"] for r in graded]),
        "reading_level_misses": _sum(lessons, lambda m: not m["reading"]["within"]),
        "claims": claims,
        "grounded_claims": supported,
        "grounded_share": round(supported / claims, 4) if claims else None,
        "misattributed_claims": _sum(lessons, lambda m: m["grounding"]["misattributed"]),
        "scenes_without_source": _sum(
            lessons, lambda m: len(m["grounding"]["scenes_without_source"])
        ),
        "duration_misses": _sum(lessons, lambda m: not m["duration"]["within_10pct"]),
        "mean_abs_duration_error": _mean(
            [abs(r["metrics"]["duration"]["relative_error"]) for r in lessons]
        ),
        "caption_cues": _sum(lessons, lambda m: m["captions"]["cues"]),
        "caption_violations": _sum(lessons, lambda m: m["captions"]["violating_cues"]),
        "caption_violations_by_rule": dict(sorted(captions.items())),
        "caption_min_word_coverage": min(
            (r["metrics"]["captions"]["word_coverage"] for r in lessons), default=None
        ),
        "slides": _slide_totals(drawn),
        "attribution_misses": _sum(lessons, lambda m: m["attribution"]["count"]),
        "check_scenes": _sum(lessons, lambda m: m["check"]["complete"]),
        "check_misses": _sum(
            lessons, lambda m: m["check"]["expected"] and not m["check"]["complete"]
        ),
        "check_answers_in_narration": _sum(lessons, lambda m: m["check"]["answers_in_narration"]),
    }


def _slide_totals(drawn: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    if not drawn:
        return None
    kinds: dict[str, list[float]] = {}
    visuals: dict[str, list[float]] = {}
    for slides in drawn:
        for kind, share in slides["frame_use_by_kind"].items():
            kinds.setdefault(kind, []).append(share)
        for kind, share in slides.get("frame_use_by_visual", {}).items():
            visuals.setdefault(kind, []).append(share)
    return {
        "frames": sum(s["frames"] for s in drawn),
        "min_contrast": min(s["min_contrast"] for s in drawn),
        "min_text_px": min(s["min_text_px"] for s in drawn),
        "min_text_share_of_height": min(s["min_text_share_of_height"] for s in drawn),
        "outside_title_safe_frames": sum(s["outside_title_safe_frames"] for s in drawn),
        "overflow_scenes": sum(len(s["overflow_scenes"]) for s in drawn),
        "frame_use_mean": _mean([s["frame_use_mean"] for s in drawn]),
        "frame_use_by_kind": {kind: _mean(v) for kind, v in sorted(kinds.items())},
        "frame_use_by_visual": {kind: _mean(v) for kind, v in sorted(visuals.items())},
        "text_bbox_share_mean": _mean([s["text_bbox_share_mean"] for s in drawn]),
        "text_area_share_mean": _mean([s["text_area_share_mean"] for s in drawn]),
    }


def _target(name: str, wanted: str, value: Any, met: bool) -> dict[str, Any]:
    return {"target": name, "wanted": wanted, "value": value, "met": bool(met)}


def targets(total: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets; ``--check`` fails when any is missed."""
    coverage = total["mean_concept_coverage"]
    grounded = total["grounded_share"]
    return [
        _target(
            "concept coverage", "mean >= 0.9", coverage, coverage is not None and coverage >= 0.9
        ),
        _target("off-topic scenes", "0", total["off_topic_scenes"], total["off_topic_scenes"] == 0),
        _target(
            "figure references", "0", total["figure_references"], total["figure_references"] == 0
        ),
        _target("fragments", "0", total["fragments"], total["fragments"] == 0),
        _target(
            "chopped-question titles", "0", total["chopped_titles"], total["chopped_titles"] == 0
        ),
        _target(
            "reading level",
            "every lesson within 1.5 grades (K-2: short sentences, common words)",
            total["reading_level_misses"],
            total["reading_level_misses"] == 0,
        ),
        _target(
            "duration",
            "every lesson within 10% (or an honest too-little-material failure)",
            total["duration_misses"],
            total["duration_misses"] == 0,
        ),
        _target(
            "grounding",
            "100% of claims supported, no concept scene without a source",
            {"share": grounded, "scenes_without_source": total["scenes_without_source"]},
            grounded in (None, 1.0) and total["scenes_without_source"] == 0,
        ),
    ]


def other_checks(total: dict[str, Any]) -> list[dict[str, Any]]:
    """Further checks reported beside the targets (not part of ``--check``)."""
    slides = total["slides"] or {}
    checks = [
        _target(
            "decisions",
            "all as expected",
            total["decision_accuracy"],
            total["decision_accuracy"] in (None, 1.0),
        ),
        _target(
            "caption cues",
            "no rule broken",
            total["caption_violations"],
            total["caption_violations"] == 0,
        ),
        _target(
            "caption word coverage",
            "1.0",
            total["caption_min_word_coverage"],
            total["caption_min_word_coverage"] in (None, 1.0),
        ),
        _target(
            "attribution", "0 misses", total["attribution_misses"], total["attribution_misses"] == 0
        ),
        _target(
            "check for understanding",
            "every lesson of 2+ minutes: 3 questions answered by its narration",
            total["check_misses"],
            total["check_misses"] == 0,
        ),
    ]
    if slides:
        checks += [
            _target(
                "slide contrast",
                ">= 4.5 (WCAG AA)",
                slides["min_contrast"],
                slides["min_contrast"] >= 4.5,
            ),
            _target(
                "title-safe area",
                "0 frames outside",
                slides["outside_title_safe_frames"],
                slides["outside_title_safe_frames"] == 0,
            ),
            _target(
                "slide overflow",
                "0 scenes",
                slides["overflow_scenes"],
                slides["overflow_scenes"] == 0,
            ),
        ]
    return checks
