"""Plainer sentences for younger grades keep their source's meaning and record the source."""

from __future__ import annotations

from vividly_ray.domain.models import Grade
from vividly_ray.script.editing import edited_sentences
from vividly_ray.script.simplify import (
    drop_appositive,
    plain_words,
    simplify,
    split_clauses,
)

HARD = (
    "Some rainwater flows downhill over the surface of the land, and scientists call that "
    "flowing water runoff."
)
EASY = "Every magnet has two ends, and each end is called a pole."


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
    assert simplify(HARD, Grade(9), 22) == [HARD]
    assert len(simplify(HARD, Grade(4), 14)) == 2


def test_simplifying_stops_at_the_grade() -> None:
    # The easy sentence reads at about grade 4: split, it would read far below grade 4 or 6.
    assert simplify(EASY, Grade(4), 14) == [EASY]
    assert simplify(EASY, Grade(6), 18) == [EASY]
    assert simplify(EASY, Grade(1), 10) == [
        "Every magnet has two ends.",
        "Each end is called a pole.",
    ]
    # Aiming lower (a passage whose terms read above the grade) splits it after all.
    assert len(simplify(EASY, Grade(4), 14, aim=2.0)) == 2


def test_a_passage_above_the_grade_aims_its_plainer_sentences_lower() -> None:
    terms = (
        "Photosynthesis transforms electromagnetic radiation into chemical energy "
        "inside chloroplasts."
    )
    assert len(edited_sentences(f"{terms} {EASY}", Grade(4))) == 3
    assert len(edited_sentences(f"Magnets attract iron and steel. {EASY}", Grade(4))) == 2


def test_every_edited_sentence_records_its_source() -> None:
    text = f"{HARD} Magnets attract iron and steel."
    edited = edited_sentences(text, Grade(4))
    assert edited == [
        ("Some rainwater flows downhill over the surface of the land.", HARD),
        ("Scientists call that flowing water runoff.", HARD),
        ("Magnets attract iron and steel.", ""),
    ]


def test_a_linking_word_is_plainer_only_where_it_opens_the_sentence() -> None:
    assert plain_words("Therefore, the force is larger.") == "So the force is larger."
    assert plain_words("However, ice floats.") == "But ice floats."
    assert plain_words("The force is therefore larger.") == "The force is therefore larger."


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
        # a clause between commas is no appositive: dropping it breaks the sentence
        "High in the sky, the air is cold, so rising water vapor condenses into clouds.",
    )
    for sentence in kept:
        assert drop_appositive(sentence) == sentence
