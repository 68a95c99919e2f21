"""The title slide says who the video is for and how many ideas are ahead."""

from __future__ import annotations

from vividly_ray.domain.models import SceneKind
from vividly_ray.library.store import load_index
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.validation.limits import parse_request


def _title_scene(question: str, grade: str) -> tuple[str, int]:
    request = parse_request(question, grade, 2)
    script = OfflineScriptWriter().write(
        request, load_index(None).retrieve(question, request.grade)
    )
    title = script.scenes[0]
    assert title.kind is SceneKind.TITLE
    concepts = sum(1 for s in script.scenes if s.kind is SceneKind.CONCEPT)
    (subtitle,) = title.bullets
    return subtitle, concepts


def test_subtitle_names_the_grade_and_counts_the_concept_scenes() -> None:
    subtitle, concepts = _title_scene("Explain the water cycle", "5")
    assert subtitle == f"Grade 5 \u00b7 {concepts} key ideas"


def test_kindergarten_is_spelled_out() -> None:
    subtitle, _ = _title_scene("What are the continents and oceans?", "K")
    assert subtitle.startswith("Kindergarten \u00b7 ")


def _doc(title: str) -> object:
    from vividly_ray.domain.models import SourceDocument

    return SourceDocument(title.lower(), title, "science", "6-8", "CC0-1.0", title)


def test_a_question_clause_never_becomes_the_title_when_a_source_names_the_topic() -> None:
    from vividly_ray.script.offline_writer import _title

    lesson = [(_doc("Simple Machines"), 0.5), (_doc("Levers and Mechanical Advantage"), 0.5)]
    assert _title("lever make work easier", lesson, frozenset())[0] == (  # type: ignore[arg-type]
        "Levers and Mechanical Advantage"
    )
    light = [(_doc("The Speed of Light"), 0.9)]
    assert _title("fast does light travel", light, frozenset())[0] == "The Speed of Light"  # type: ignore[arg-type]


def test_without_a_naming_source_the_topic_is_the_title() -> None:
    from vividly_ray.script.offline_writer import _title

    assert _title("sky blue", [(_doc("Rainbows"), 1.0)], frozenset())[0] == "Sky blue"  # type: ignore[arg-type]
    assert _title("tides", [], frozenset())[0] == "Tides"
