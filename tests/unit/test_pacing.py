"""Spoken-length estimates and the sentence splitter."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import Grade, Scene, SceneKind, Script
from vividly_ray.script.pacing import (
    narration_seconds,
    scene_seconds,
    script_seconds,
    split_sentences,
    spoken_words,
    text_seconds,
)
from vividly_ray.speech.timing import (
    SCENE_LEAD_SECONDS,
    SCENE_TAIL_SECONDS,
    SENTENCE_GAP_SECONDS,
    words_per_second,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Water evaporates. Clouds form! Does it rain? Yes.",
            ["Water evaporates.", "Clouds form!", "Does it rain?", "Yes."],
        ),
        (
            "The rock weighs 2.5 kilograms. It is heavy.",
            ["The rock weighs 2.5 kilograms.", "It is heavy."],
        ),
        (
            "Dr. Lee studies rocks, e.g. granite. She works in the U.S. Army labs.",
            ["Dr. Lee studies rocks, e.g. granite.", "She works in the U.S. Army labs."],
        ),
        ("J. R. Smith measured it. Then he left.", ["J. R. Smith measured it.", "Then he left."]),
        ('She said "stop." Then it stopped.', ['She said "stop."', "Then it stopped."]),
        (
            "It is 152 AU from the Sun.To compare, Pluto is 40 AU away.",
            ["It is 152 AU from the Sun.", "To compare, Pluto is 40 AU away."],
        ),
        (
            "First paragraph without a stop\n\nSecond one.",
            ["First paragraph without a stop", "Second one."],
        ),
        ("Speed is 3 m/s. 4 more follow.", ["Speed is 3 m/s.", "4 more follow."]),
        ("  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_numbers_count_as_two_spoken_words() -> None:
    assert spoken_words("In 1687 Newton wrote 3 laws.") == 7


def test_narration_seconds_follows_the_timing_constants() -> None:
    grade = Grade(7)
    sentences = ["One two three four five six.", "Seven eight nine."]
    expected = (
        SCENE_LEAD_SECONDS + 9 / words_per_second(grade) + SENTENCE_GAP_SECONDS + SCENE_TAIL_SECONDS
    )
    assert narration_seconds(sentences, grade) == pytest.approx(expected)
    assert text_seconds(" ".join(sentences), grade) == pytest.approx(expected)
    assert narration_seconds([], grade) == pytest.approx(SCENE_LEAD_SECONDS + SCENE_TAIL_SECONDS)


def test_younger_students_hear_slower_narration() -> None:
    text = "The water cycle moves water between the oceans, the sky, and the land."
    assert (
        text_seconds(text, Grade(1)) > text_seconds(text, Grade(4)) > text_seconds(text, Grade(9))
    )


def test_script_seconds_is_the_sum_of_its_scenes() -> None:
    grade = Grade(5)
    scenes = tuple(
        Scene(index=i, kind=SceneKind.CONCEPT, title=f"S{i}", bullets=(), narration=(text,))
        for i, text in enumerate(["Rain falls from clouds.", "Rivers carry water to the sea."])
    )
    script = Script(title="T", grade=grade, target_seconds=60, scenes=scenes, sources=())
    assert script_seconds(script) == pytest.approx(sum(scene_seconds(s, grade) for s in scenes))
