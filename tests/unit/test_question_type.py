"""The question's type is read from its wording, and each type values its own kind of answer."""

from __future__ import annotations

import pytest

from vividly_ray.script.question_type import QuestionType, classify, plan_for

CASES = [
    ("How fast does light travel?", QuestionType.QUANTITY),
    ("How many bones are in the human body?", QuestionType.QUANTITY),
    ("Why did the Civil War start?", QuestionType.CAUSES),
    ("What causes the tides?", QuestionType.CAUSES),
    ("What was the Louisiana Purchase and why did it matter?", QuestionType.DEFINITION),
    ("Photosynthesis", QuestionType.DEFINITION),
    ("How does a lever make work easier?", QuestionType.MECHANISM),
    ("How do we know how far away stars are?", QuestionType.MECHANISM),
    ("How are stars born?", QuestionType.PROCESS),
    ("How do volcanoes form?", QuestionType.PROCESS),
    ("What is the difference between speed and velocity?", QuestionType.COMPARISON),
    ("Compare weather and climate", QuestionType.COMPARISON),
    ("What are the parts of a cell?", QuestionType.PARTS),
]


@pytest.mark.parametrize(("question", "kind"), CASES)
def test_each_wording_gets_its_type(question: str, kind: QuestionType) -> None:
    assert classify(question) is kind


def test_a_quantity_wants_a_number_in_the_asked_dimension() -> None:
    plan = plan_for("How fast does light travel?")
    assert plan.dimension == "fast"
    speed = plan.answers("Light travels at about 300,000 kilometers per second.")
    length = plan.answers("A light-year is about 9.5 trillion kilometers.")
    assert speed == 1.0 and 0 < length < speed
    assert plan.answers("Light is a form of energy.") == 0.0


def test_a_why_question_values_causes() -> None:
    plan = plan_for("Why do we have seasons?")
    assert plan.answers("Seasons happen because Earth's axis is tilted.") > plan.answers(
        "Summer brings long days."
    )
