"""The pause-and-think scene asks three questions the narration has already answered."""

from __future__ import annotations

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script, VisualKind
from vividly_ray.script.checks import add_check_scene, choose_questions, fact_question


def _scene(index: int, kind: SceneKind, *narration: str) -> Scene:
    return Scene(index, kind, f"Scene {index}", (), narration, ("doc",))


def _script(minutes: float) -> Script:
    scenes = (
        _scene(0, SceneKind.TITLE, "Let's explore tides."),
        _scene(1, SceneKind.CONCEPT, "Tides are caused mainly by the Moon's gravity.", "Waves."),
        _scene(2, SceneKind.CONCEPT, "Gravity is the force of attraction between objects."),
        _scene(3, SceneKind.CONCEPT, "Light travels at about 300,000 kilometers per second."),
        _scene(4, SceneKind.RECAP, "Let's review what we learned."),
        _scene(5, SceneKind.CREDITS, "Sources are on screen."),
    )
    return Script("Tides", Grade(6), minutes * 60.0, scenes, ())


def test_questions_are_made_from_causes_numbers_and_definitions() -> None:
    assert fact_question("Tides are caused mainly by the Moon's gravity.") == "What causes tides?"
    assert (
        fact_question("Light travels at about 300,000 kilometers per second.")
        == "How fast does light travel?"
    )
    assert fact_question("Summer is warm.") is None


def test_a_check_scene_goes_before_the_recap_with_answers_from_the_narration() -> None:
    script = add_check_scene(_script(3))
    kinds = [scene.kind for scene in script.scenes]
    assert kinds[-3:] == [SceneKind.CHECK, SceneKind.RECAP, SceneKind.CREDITS]
    assert [scene.index for scene in script.scenes] == list(range(len(script.scenes)))
    check = script.scenes[4]
    assert [c.question for c in script.checks] == [
        "What causes tides?",
        "What is gravity?",
        "How fast does light travel?",
    ]
    for question in script.checks:
        assert question.answer in script.scenes[question.scene_index].narration
        assert question.question in check.narration and question.answer in check.narration
    assert check.visual is not None and check.visual.kind is VisualKind.QUESTIONS
    for item in check.visual.items:
        assert check.narration[item.reveal_at] == item.detail


def test_a_short_lesson_or_too_few_answers_gets_no_check() -> None:
    short = _script(0.5)
    assert add_check_scene(short) == short
    script = _script(3)
    two = Script(script.title, script.grade, 180.0, script.scenes[:3] + script.scenes[4:], ())
    assert add_check_scene(two) == two


def test_dates_and_statements_about_key_terms_fill_the_check() -> None:
    scenes = (
        _scene(0, SceneKind.TITLE, "Let's explore momentum."),
        _scene(1, SceneKind.CONCEPT, "Momentum is conserved in every type of collision."),
        _scene(2, SceneKind.CONCEPT, "The spring equinox arrives around March 20."),
        _scene(3, SceneKind.CONCEPT, "Generally, friction is a force that slows things down."),
        _scene(4, SceneKind.RECAP, "Let's review what we learned."),
    )
    script = add_check_scene(Script("Momentum", Grade(8), 180.0, scenes, ()))
    assert [c.question for c in script.checks] == [
        "Is momentum conserved in every type of collision?",
        "When does the spring equinox arrive?",
        "What is friction?",
    ]
    for question in script.checks:
        assert question.answer in script.scenes[question.scene_index].narration


def test_a_question_asked_already_gives_way_to_another_the_narration_answers() -> None:
    scenes = (
        _scene(0, SceneKind.TITLE, "Let's explore seasons."),
        _scene(1, SceneKind.CONCEPT, "The real cause of the seasons is the tilt of Earth's axis."),
        _scene(2, SceneKind.CONCEPT, "Earth spins around an imaginary line called its axis."),
        _scene(
            3,
            SceneKind.CONCEPT,
            "The seasons are actually caused by the tilt of Earth's axis.",
            "The familiar cycle of the seasons results from the tilt of Earth's axis.",
            "At the summer solstice, the Sun is higher in the sky.",
        ),
        _scene(4, SceneKind.RECAP, "Let's review what we learned."),
    )
    script = add_check_scene(Script("Seasons", Grade(6), 120.0, scenes, ()))
    assert [c.question for c in script.checks] == [
        "What causes the seasons?",
        "What is the axis?",
        "What happens at the summer solstice?",
    ]
    for question in script.checks:
        assert question.answer in script.scenes[question.scene_index].narration


def test_only_sentences_that_say_what_a_term_is_give_a_definition_question() -> None:
    scenes = (
        _scene(0, SceneKind.TITLE, "Let's explore heat."),
        _scene(1, SceneKind.CONCEPT, "Heat is something familiar to all of us."),
        _scene(2, SceneKind.CONCEPT, "The current is the same at all points in this circuit."),
        _scene(3, SceneKind.CONCEPT, "Halley was a prolific contributor to the sciences."),
        _scene(4, SceneKind.CONCEPT, "Halley's Comet is a comet that returns every 76 years."),
        _scene(5, SceneKind.CONCEPT, "Conduction is the transfer of heat by direct contact."),
        _scene(6, SceneKind.RECAP, "Let's review what we learned."),
    )
    script = Script("Heat", Grade(6), 180.0, scenes, ())
    assert [c.question for c in choose_questions(script)] == [
        "What is Halley's Comet?",
        "What is conduction?",
    ]
