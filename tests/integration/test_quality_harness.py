"""The lesson-quality harness runs end to end and its checks catch what they are meant to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.quality.check_scene import check_scene_result
from benchmarks.quality.cli import main
from benchmarks.quality.grounding import measure_grounding
from benchmarks.quality.lessons import LessonMaker, Query, load_library
from benchmarks.quality.readability import fk_grade, measure, syllables
from benchmarks.quality.slides_check import check_slides, measure_frame
from benchmarks.quality.titles import is_chopped_title
from benchmarks.quality.wording import figure_reference, fragment_problem
from tests.conftest import SHARED
from vividly_ray.domain.models import (
    CheckQuestion,
    Grade,
    Passage,
    RenderSpec,
    Retrieval,
    RetrievedPassage,
    Scene,
    SceneKind,
    Script,
    Visual,
    VisualItem,
    VisualKind,
)
from vividly_ray.media.theme import contrast_ratio
from vividly_ray.script.question_type import NUMBER_WITH_UNIT

pytestmark = pytest.mark.integration

QUERIES = [
    {"student_query": "Explain the water cycle", "grade_level": "5", "duration_minutes": 1},
    {"student_query": "What is photosynthesis?", "grade_level": "7", "duration_minutes": 1},
    {"student_query": "How do magnets work?", "grade_level": "4", "duration_minutes": 1},
    {"student_query": "How fast does light travel?", "grade_level": "9", "duration_minutes": 2},
    {"student_query": "explain it", "grade_level": "5", "duration_minutes": 1, "expect": "clarify"},
]
KEYS = [
    {"student_query": "Explain the water cycle", "concepts": [["evaporat"], ["condens"]]},
    {"student_query": "What is photosynthesis?", "concepts": [["sunlight", "light"], ["oxygen"]]},
    {"student_query": "How do magnets work?", "concepts": [["pole"], ["attract"]]},
]
TOTALS = {
    "decision_accuracy",
    "lessons",
    "too_little_material",
    "mean_concept_coverage",
    "off_topic_scenes",
    "figure_references",
    "fragments",
    "chopped_titles",
    "mean_abs_fk_minus_grade",
    "reading_level_misses",
    "grounded_share",
    "scenes_without_source",
    "duration_misses",
    "caption_violations",
    "slides",
    "attribution_misses",
    "check_scenes",
    "check_misses",
}
METRICS = {
    "coverage",
    "off_topic_scenes",
    "figure_references",
    "fragments",
    "title",
    "reading",
    "grounding",
    "duration",
    "captions",
    "slides",
    "attribution",
    "check",
}
TARGETS = {
    "concept coverage",
    "off-topic scenes",
    "figure references",
    "fragments",
    "chopped-question titles",
    "reading level",
    "duration",
    "grounding",
}


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), "utf-8")
    return path


def _run(argv: list[str], out: Path) -> tuple[int, dict[str, Any]]:
    code = main([*argv, "--json", str(out)])
    return code, json.loads(out.read_text("utf-8"))


def test_harness_reports_every_metric_on_the_starter_library(tmp_path: Path) -> None:
    queries = _jsonl(tmp_path / "queries.jsonl", QUERIES)
    keys = _jsonl(tmp_path / "keys.jsonl", KEYS)
    code, report = _run(["--queries", str(queries), "--keys", str(keys)], tmp_path / "q.json")

    assert code == 0
    assert set(report["totals"]) >= TOTALS
    assert {goal["target"] for goal in report["targets"]} == TARGETS
    rows = report["rows"]
    assert [row["outcome"] for row in rows] == ["lesson"] * 4 + ["clarify"]
    assert all(row["decision_ok"] for row in rows)
    for row in rows[:4]:
        assert set(row["metrics"]) >= METRICS
        assert row["metrics"]["slides"]["frames"] > 0
        assert row["metrics"]["captions"]["word_coverage"] == 1.0
    total = report["totals"]
    assert total["lessons"] == 4
    # The two-minute lesson has its pause-and-think scene; the one-minute lessons may skip it.
    check = rows[3]["metrics"]["check"]
    assert check["expected"] and check["complete"] and check["answers_in_narration"] == 3
    assert total["check_misses"] == 0
    assert total["slides"]["min_contrast"] >= 4.5  # the default theme passes WCAG AA
    assert total["attribution_misses"] == 0
    assert 0.0 < total["slides"]["frame_use_mean"] <= 1.0

    missed = any(not goal["met"] for goal in report["targets"])
    checked = main(
        ["--queries", str(queries), "--keys", str(keys), "--limit", "3", "--no-slides", "--check"]
    )
    assert checked == (1 if missed else 0)


def test_checks_catch_crafted_problems() -> None:
    assert figure_reference("As shown in Figure 3, the ball falls.") is not None
    assert figure_reference("The table below lists the planets.") is not None
    assert figure_reference("Plants need sunlight to make food.") is None
    assert fragment_problem("Plants make their food using the", []) is not None
    assert fragment_problem("These areas are called poles.", []) is not None
    assert fragment_problem("These areas are called poles.", ["A magnet has two ends."]) is None
    assert fragment_problem("Water falls as rain, snow or hail.", []) is None
    assert is_chopped_title("Fast Does a Lever", "How fast does a lever work?")
    assert is_chopped_title("Lever work", "How does a lever work?")
    assert is_chopped_title("3", "Create a 3-minute video about rain")
    assert not is_chopped_title("The Water Cycle", "Explain the water cycle")
    assert is_chopped_title("Ball fall", "Why does a ball fall to the ground?")
    assert not is_chopped_title(
        "Why Balls Fall to the Ground", "Why does a ball fall to the ground?"
    )
    assert not is_chopped_title("Electric Circuits", "How does an electric circuit work?")
    assert not is_chopped_title("What Comets Are Made Of", "What is a comet made of?")
    assert is_chopped_title("Why Does a Comet Is Made Of", "What is a comet made of?")
    assert syllables("photosynthesis") == 5 and syllables("cat") == 1
    assert fk_grade("The cat sat on the mat. The dog ran to the sun.") < 1
    assert measure(["The mitochondrion synthesizes adenosine triphosphate."]).fk_grade > 12
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)


def test_frame_measures_contrast_frame_use_and_title_safe_area() -> None:
    frame = np.full((100, 200, 3), 255, dtype=np.uint8)
    frame[40:60, 50:150] = 0  # a black block well inside the frame
    inside = measure_frame(frame, (255, 255, 255))
    assert inside.min_contrast == pytest.approx(21.0)
    assert inside.bbox_share == pytest.approx(0.1)
    assert inside.outside_safe_pixels == 0
    frame[0:2, 0:2] = 0  # a mark in the corner, outside the central 90%
    assert measure_frame(frame, (255, 255, 255)).outside_safe_pixels == 4


def test_text_cut_by_the_fitter_is_reported_as_overflow(tmp_path: Path) -> None:
    crowded = Scene(
        index=1,
        kind=SceneKind.CONCEPT,
        title="A crowded slide",
        bullets=tuple(f"Bullet number {n} says a good deal more than fits" for n in range(40)),
        narration=("One sentence to time the slide by.",),
        source_ids=("x",),
    )
    script = Script("Crowded", Grade(5), 60.0, (crowded,), ())
    result = check_slides(script, RenderSpec(640, 360), tmp_path)
    assert result.overflow == ["1: A crowded slide"]


def test_a_quantity_question_is_answered_first_with_its_number_and_unit() -> None:
    library = load_library([])
    run = LessonMaker(library).run(Query("How fast does light travel?", "9", 2, "proceed"))
    assert run.script is not None
    first = next(s for s in run.script.scenes if s.kind is SceneKind.CONCEPT)
    assert NUMBER_WITH_UNIT.search(first.narration[0]), first.narration
    assert "per second" in first.narration[0]


def test_check_scene_metric_catches_an_answer_that_was_never_narrated() -> None:
    concept = Scene(1, SceneKind.CONCEPT, "Tides", (), ("Tides rise twice a day.",), ("x",))
    check = Scene(
        2,
        SceneKind.CHECK,
        "Pause and Think",
        (),
        ("Let's pause.", "What causes tides?", "The Moon causes tides."),
        visual=Visual(VisualKind.QUESTIONS, (VisualItem("What causes tides?"),)),
    )
    asked = CheckQuestion("What causes tides?", "The Moon causes tides.", 1)
    script = Script("Tides", Grade(6), 120.0, (concept, check), (), checks=(asked,))
    result = check_scene_result(script)
    assert result.present and not result.complete
    assert result.answers_in_narration == 0


def test_grounding_counts_an_edited_sentence_by_its_recorded_source() -> None:
    source = "Every magnet has two ends, and each end is called a pole."
    passage = Passage("p1", "magnets", "Magnets", f"Magnets are useful. {source}")
    retrieval = Retrieval("magnets", (RetrievedPassage(passage, 1.0),), ())
    scene = Scene(
        index=1,
        kind=SceneKind.CONCEPT,
        title="Poles",
        bullets=(),
        narration=("Each end is called a pole.", "Each end is called a banana."),
        source_ids=("magnets",),
        source_sentences=(source, source),
    )
    grounding = measure_grounding(Script("Magnets", Grade(4), 60.0, (scene,), ()), retrieval)
    assert grounding.claims == 2 and grounding.supported == 1
    assert grounding.unsupported == ["Each end is called a banana."]


def test_grounding_counts_a_sentence_no_passage_supports() -> None:
    text = "Evaporation turns liquid water into water vapor. The sun powers the water cycle."
    passage = Passage("p1", "water", "The Water Cycle", text)
    retrieval = Retrieval("water cycle", (RetrievedPassage(passage, 1.0),), ())
    scene = Scene(
        index=1,
        kind=SceneKind.CONCEPT,
        title="Evaporation",
        bullets=(),
        narration=(
            "Evaporation turns liquid water into water vapor.",
            "Clouds are made of cotton candy and float on music.",
        ),
        source_ids=("water",),
    )
    script = Script("The Water Cycle", Grade(5), 60.0, (scene,), ())
    grounding = measure_grounding(script, retrieval)
    assert (grounding.claims, grounding.supported) == (2, 1)
    assert grounding.unsupported == ["Clouds are made of cotton candy and float on music."]


@pytest.mark.skipif(
    not (SHARED / "eval" / "queries-dev.jsonl").exists(),
    reason=f"the shared evaluation set and OpenStax books are not at {SHARED}",
)
def test_harness_on_dev_questions_with_the_openstax_books(tmp_path: Path) -> None:
    argv = [
        "--queries",
        str(SHARED / "eval" / "queries-dev.jsonl"),
        "--keys",
        str(SHARED / "eval" / "answer-keys-dev.jsonl"),
        "--library",
        str(SHARED / "oer" / "openstax-physics.jsonl"),
        "--library",
        str(SHARED / "oer" / "openstax-astronomy-2e.jsonl"),
        "--limit",
        "3",
    ]
    code, report = _run(argv, tmp_path / "dev.json")
    assert code == 0
    assert len(report["rows"]) == 3
    assert report["inputs"]["documents"] > 250
    assert report["totals"]["keyed_lessons"] + len(report["totals"]["too_little_material"]) == 3
    assert report["totals"]["mean_concept_coverage"] is not None
