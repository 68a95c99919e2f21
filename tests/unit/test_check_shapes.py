"""Question shapes read from one narrated sentence: why, what for, how, how old, when, parts."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script
from vividly_ray.library.text import tokenize
from vividly_ray.script.check_shapes import (
    lower_opening,
    proper_names,
    shaped_question,
    why_question,
)
from vividly_ray.script.checks import (
    add_check_scene,
    choose_questions,
    definition_question,
    statement_question,
)


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        (
            "Rockets do not need air to push against, so rockets work in the vacuum of space.",
            "Why do rockets work in the vacuum of space?",
        ),
        (
            "The light from a star spreads out as it travels, so the star looks dimmer from "
            "farther away.",
            "Why does the star look dimmer from farther away?",
        ),
        (
            "Parallax stops working for stars that are very far away, because the shift becomes "
            "too small to detect.",
            "Why does parallax stop working for stars that are very far away?",
        ),
        (
            "Since red light is scattered less than blue light, the Sun appears red at sunset.",
            "Why does the Sun appear red at sunset?",
        ),
        (
            "Because no light comes out, a black hole itself is invisible.",
            "Why is a black hole itself invisible?",
        ),
        (
            "A parachute uses a large surface to catch lots of air resistance.",
            "Why does a parachute use a large surface?",
        ),
        ("A prism is often used to split white light.", "What is a prism used for?"),
        (
            "One way to estimate the age of a surface is by counting its impact craters.",
            "How can you estimate the age of a surface?",
        ),
        (
            "Our best-known example of a large crater, Meteor Crater in Arizona, is about 50,000 "
            "years old.",
            "How old is Meteor Crater in Arizona?",
        ),
        (
            "A double rainbow forms when light reflects twice inside each raindrop.",
            "When does a double rainbow form?",
        ),
        ("Rainbows happen when sunlight meets raindrops.", "When do rainbows happen?"),
        (
            "Its axis is tilted a lot, so the planet has four long seasons.",
            "Why does the planet have four long seasons?",
        ),
        (
            "Each chloroplast contains a green pigment called chlorophyll.",
            "What does each chloroplast contain?",
        ),
        ("A comet is made mostly of ice and dust.", "What is a comet made of?"),
        (
            "Jupiter’s largest moons are Ganymede and Callisto.",
            "What are Jupiter’s largest moons?",
        ),
        ("Rockets move forward by pushing gas backward.", "How do rockets move forward?"),
        (
            "At the summer solstice, the Sun is higher in the sky.",
            "What happens at the summer solstice?",
        ),
        (
            "The third law explains how rockets fly, even in empty space.",
            "What explains how rockets fly, even in empty space?",
        ),
        ("The Saturn V stood about 111 meters tall.", "How tall was the Saturn V?"),
        (
            "The trip from Earth to the Moon took about three days.",
            "How long did the trip from Earth to the Moon take?",
        ),
        (
            "Kepler’s first law: Each planet moves around the Sun in an ellipse.",
            "What does Kepler’s first law say?",
        ),
    ],
)
def test_a_sentence_of_a_known_shape_gives_a_natural_question(sentence: str, question: str) -> None:
    assert shaped_question(sentence) == question


@pytest.mark.parametrize(
    "sentence",
    [
        # The clause points back at something the cause said, so it cannot stand alone.
        "In outer space, there is almost no air, so sound cannot travel there at all.",
        "Light follows those bends, so very massive objects can bend light significantly.",
        # The subject holds a clause of its own: its verb is not the one asked about.
        "A compass is a tool that uses Earth's magnetism to help people find their way.",
        "Newton's second law explains what happens when the net force is not zero.",
        # A past-tense main clause is not turned around.
        "Kepler found that Mars moves in an ellipse, because the data demanded it.",
        # A pronoun subject names nothing on its own.
        "It looks dim, because it is far away.",
        # Only a name keeps its capital after "so"; a pronoun or "you" clause is not asked about.
        "Mars is cold, so Scientists study it.",
        "At the bottom right, you see an image of the nebula.",
        "At the same time, the Moon moves along its orbit.",
        # The verb before "by" is not one read safely.
        "The Moon is lit by shining sunlight.",
        "Summer is warm.",
    ],
)
def test_a_sentence_read_unsafely_gives_no_question(sentence: str) -> None:
    assert shaped_question(sentence) is None


def test_a_verb_must_agree_with_the_subjects_head_noun() -> None:
    assert (
        why_question("sound waves travel through air") == "Why do sound waves travel through air?"
    )
    assert why_question("the light from a star spreads out") == (
        "Why does the light from a star spread out?"
    )
    assert why_question("the magnets pulls hard") is None


def test_names_keep_their_capital_inside_a_question() -> None:
    proper = proper_names(["Mars travels around the Sun.", "We can see Mars at night."])
    assert "Mars" in proper and "Sun" in proper
    assert lower_opening("Mars travels", proper) == "Mars travels"
    assert lower_opening("Tides rise", proper) == "tides rise"
    assert lower_opening("Newton's law", proper) == "Newton's law"
    assert lower_opening("The Moon", proper) == "the Moon"
    assert (
        shaped_question("Mars looks red, because its dust holds iron.", proper)
        == "Why does Mars look red?"
    )


def _scene(index: int, kind: SceneKind, *narration: str) -> Scene:
    return Scene(index, kind, f"Scene {index}", (), narration, ("doc",))


def _script(*concepts: tuple[str, ...]) -> Script:
    scenes = (
        _scene(0, SceneKind.TITLE, "Let's explore rockets."),
        *(_scene(n, SceneKind.CONCEPT, *narration) for n, narration in enumerate(concepts, 1)),
        _scene(len(concepts) + 1, SceneKind.RECAP, "Let's review what we learned."),
    )
    return Script("Rockets", Grade(8), 180.0, scenes, ())


def test_shaped_questions_complete_a_check_the_first_shapes_leave_short() -> None:
    script = _script(
        ("A rocket is a vehicle that moves by pushing hot gas out of its engine.",),
        ("Rockets do not need air to push against, so rockets work in the vacuum of space.",),
        ("A parachute uses a large surface to catch lots of air resistance.",),
    )
    checked = add_check_scene(script)
    assert [c.question for c in checked.checks] == [
        "What is a rocket?",
        "Why do rockets work in the vacuum of space?",
        "Why does a parachute use a large surface?",
    ]
    for check in checked.checks:
        assert check.answer in checked.scenes[check.scene_index].narration


def test_definitions_come_before_other_shapes_when_there_are_enough() -> None:
    script = _script(
        ("Thrust is the push that moves a rocket forward.",),
        ("Drag is the force of air that slows a rocket down.",),
        (
            "Rockets do not need air to push against, so rockets work in the vacuum of space.",
            "Gravity is the force that pulls a rocket back toward Earth.",
        ),
    )
    questions = [c.question for c in choose_questions(script)]
    assert questions == ["What is thrust?", "What is drag?", "What is gravity?"]


def test_a_singular_term_ending_in_s_is_asked_about_as_one_thing() -> None:
    sentence = "A lens is a transparent piece of material that bends light."
    assert definition_question("lens", sentence) == "What is a lens?"


def test_a_sentence_opening_on_a_condition_is_not_turned_into_a_yes_or_no_question() -> None:
    words = frozenset(tokenize("light lens"))
    sentence = "If the light rays are parallel as they enter, the lens brings them together."
    assert statement_question(sentence, words) is None
    assert statement_question("The lens is curved on both sides.", words) == (
        "Is the lens curved on both sides?"
    )


def test_names_are_asked_about_by_what_the_sentence_says_they_are() -> None:
    proper = proper_names(["Ganymede and Mars are worlds.", "We see Ganymede and Mars."])
    assert (
        shaped_question("Ganymede, the largest moon in the solar system, has craters.", proper)
        == "What is the largest moon in the solar system?"
    )
    assert shaped_question("Tides, the rise and fall of the sea, come twice a day.", proper) is None
    assert (
        shaped_question("Mars has a tilt like Earth's, so Mars has four seasons.", proper)
        == "Why does Mars have four seasons?"
    )
