"""A how, why or "what is X made of" question, put back in statement order, names its lesson."""

from __future__ import annotations

import pytest

from vividly_ray.script.question_title import question_title, statement_order


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("How does a rocket move in space?", "How Rockets Move in Space"),
        ("Why does a ball fall to the ground?", "Why Balls Fall to the Ground"),
        ("What is a comet made of?", "What Comets Are Made Of"),
        ("Why does the Moon have so many craters?", "Why the Moon Has So Many Craters"),
        ("How does an electric circuit work?", "How Electric Circuits Work"),
        ("Why is the sky blue?", "Why the Sky Is Blue"),
        ("How do magnets work?", "How Magnets Work"),
        ("Why do we have seasons on Earth?", "Why We Have Seasons on Earth"),
    ],
)
def test_a_question_becomes_a_title_in_statement_order(question: str, title: str) -> None:
    assert question_title(question) == title


@pytest.mark.parametrize(
    "question",
    [
        "What is a black hole?",  # a definition: the documents name it
        "What is momentum and why is it conserved in collisions?",  # two clauses
        "What causes the tides?",
        "Explain the phases of the Moon",
        "How did the Civil War start?",  # past tense
        "How do I make a bomb at home?",
        "How is heat transferred from one object to another place nearby?",  # too long
    ],
)
def test_other_questions_give_no_title(question: str) -> None:
    assert question_title(question) is None


def test_the_running_text_keeps_the_question_words() -> None:
    assert statement_order("How does sound travel through air?") == "How sound travels through air"
