"""Plainer sentences for younger grades keep their source's meaning and record the source."""

from __future__ import annotations

from vividly_ray.domain.models import Grade
from vividly_ray.script.editing import edited_sentences
from vividly_ray.script.simplify import drop_appositive, plain_words, simplify, split_clauses


def test_two_main_clauses_become_two_sentences() -> None:
    assert split_clauses("Every magnet has two ends, and each end is called a pole.") == [
        "Every magnet has two ends.",
        "Each end is called a pole.",
    ]


def test_a_list_and_a_pronoun_clause_are_not_split() -> None:
    listed = "Sunlight warms oceans, lakes, rivers, and even puddles on the sidewalk."
    assert split_clauses(listed) == [listed]
    pointing = "Other planets have seasons too, and their tilts shape those seasons."
    assert split_clauses(pointing) == [pointing]


def test_only_listed_synonyms_replace_words_and_names_keep_theirs() -> None:
    assert plain_words("It takes approximately one year.") == "It takes about one year."
    assert plain_words("The Louisiana Purchase was large.") == "The Louisiana Purchase was large."


def test_older_grades_keep_the_source_words() -> None:
    sentence = "Every magnet has two ends, and each end is called a pole."
    assert simplify(sentence, Grade(9), 22) == [sentence]
    assert len(simplify(sentence, Grade(4), 14)) == 2


def test_every_edited_sentence_records_its_source() -> None:
    text = (
        "Every magnet has two ends, and each end is called a pole. Magnets attract iron and steel."
    )
    edited = edited_sentences(text, Grade(4))
    assert edited == [
        ("Every magnet has two ends.", "Every magnet has two ends, and each end is called a pole."),
        ("Each end is called a pole.", "Every magnet has two ends, and each end is called a pole."),
        ("Magnets attract iron and steel.", ""),
    ]


def test_an_appositive_after_a_noun_is_dropped_when_a_full_sentence_remains() -> None:
    assert (
        drop_appositive("Jupiter, the largest planet, has dozens of moons.")
        == "Jupiter has dozens of moons."
    )
    assert (
        drop_appositive("Water gathers in a pond, a small body of still water.")
        == "Water gathers in a pond."
    )
    assert simplify("Jupiter, the largest planet, has dozens of moons.", Grade(4), 14) == [
        "Jupiter has dozens of moons."
    ]


def test_appositives_that_carry_meaning_stay() -> None:
    kept = (
        "Plants release water through their leaves, a process called transpiration.",
        "Earth revolves around our star, the Sun.",
        "Earth revolves around our star, the Sun, which is far away.",
        "In winter, the days are short and cold.",
        "Water gathers in rivers, the lakes, and oceans.",
        "Jupiter, the largest planet, has moons.",  # "Jupiter has moons." is too short
    )
    for sentence in kept:
        assert drop_appositive(sentence) == sentence
