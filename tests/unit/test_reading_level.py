"""Reading level of sentences: syllables, Flesch-Kincaid grade and the distance from a grade."""

from __future__ import annotations

from vividly_ray.domain.models import Grade
from vividly_ray.script.editing import narratable, readability
from vividly_ray.script.reading_level import (
    fk_grade,
    grade_excess,
    level_distance,
    passage_grade,
    spoken_syllables,
    wording_grade,
)


def test_silent_endings_are_not_syllables_and_split_vowels_are() -> None:
    counts = {"lakes": 1, "rained": 1, "make": 1, "year": 1, "melted": 2, "boxes": 2}
    counts |= {"table": 2, "science": 2, "radio": 3, "1687": 2, "42": 1}
    assert {word: spoken_syllables(word) for word in counts} == counts


def test_long_words_and_long_sentences_read_harder() -> None:
    plain = "The cat sat on the mat."
    assert fk_grade("Photosynthesis transforms electromagnetic radiation.") > fk_grade(plain) + 8
    assert passage_grade([plain, plain]) == fk_grade(plain)
    assert passage_grade(["The cat sat on the mat and the dog sat on the rug."]) > fk_grade(plain)
    assert grade_excess(plain, Grade(5)) == 0.0


def test_level_distance_is_zero_near_the_grade_and_grows_both_ways() -> None:
    assert level_distance(5.5, Grade(5)) == 0.0
    assert level_distance(8.0, Grade(5)) == 2.0
    assert level_distance(1.0, Grade(5)) == 3.0
    assert level_distance(1.0, Grade(5), aim=2.0) == 0.0
    assert level_distance(-4.0, Grade(1)) == 0.0  # nothing is too easy for K-2


def test_a_short_sentence_is_not_taken_for_plain_wording() -> None:
    short = "Momentum is mass times velocity."
    assert wording_grade(short, 22) > fk_grade(short)
    assert wording_grade(short, 1) == fk_grade(short)


def test_plain_wording_is_worth_less_for_older_students_only() -> None:
    technical = "Sound is a longitudinal wave of compressions and rarefactions in a medium."
    plain = "Sound is a wave that moves through the air to your ears."
    assert readability(plain, Grade(10)).ease < readability(technical, Grade(10)).ease
    assert readability(plain, Grade(10)).ease < readability(plain, Grade(4)).ease
    assert readability(plain, Grade(4)).ease > readability(technical, Grade(4)).ease


def test_a_broken_bracket_is_not_narrated() -> None:
    assert not narratable("Engineers work on everything from microprocessor circuits] to missiles.")
    assert narratable("Engineers work on everything from circuits to missiles.")
