"""On-screen bullets: complete short phrases made only by dropping words of the sentence."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import Grade
from vividly_ray.library.store import load_index
from vividly_ray.script.bullets import summarize
from vividly_ray.script.editing import narration_sentences
from vividly_ray.script.quality import (
    CUT_AND,
    CUT_LIST,
    CUT_PHRASE,
    FRAGMENT,
    HARD_BULLET_WORDS,
    INVENTED,
    LOST_CONDITION,
    PRONOUN_START,
    TOO_LONG,
    TOO_SHORT,
    WEAK_END,
    bullet_problems,
)

TREE = (
    "A single large tree can release hundreds of liters of water into the air on a hot summer day."
)
JOURNEY = "Scientists call the endless journey of water the water cycle."
SUN = "Without the heat from the sun, water would not rise into the sky, and the cycle would stop."
DROPLETS = "Inside a cloud, the tiny droplets bump into each other and join together."
EVAPORATION = (
    "Evaporation happens when liquid water warms up and turns into an invisible gas called "
    "water vapor."
)
GROUNDWATER = "Water stored beneath the ground is called groundwater."
RUNOFF = (
    "Some rainwater flows downhill over the surface of the land, and scientists call that "
    "flowing water runoff."
)
COLLECTION = "Collection is the step where water gathers in oceans, lakes, rivers, and ponds."


@pytest.mark.parametrize(
    ("bullet", "sentence", "problem"),
    [
        ("Scientists call the endless journey of water", JOURNEY, CUT_PHRASE),
        ("A single large tree can release hundreds", TREE, WEAK_END),
        ("A single large tree can release", TREE, CUT_PHRASE),
        ("Water would not rise into the sky", SUN, LOST_CONDITION),
        ("The tiny droplets bump into each other", DROPLETS, CUT_AND),
        ("Evaporation: liquid water warms up and turns", EVAPORATION, CUT_PHRASE),
        ("Collection: step where water gathers in oceans, lakes", COLLECTION, CUT_LIST),
        ("When the drops grow too heavy", "When the drops grow too heavy, rain falls.", FRAGMENT),
        ("They form a compound", "They form a compound.", PRONOUN_START),
        ("A large", "A large, fast-moving object has greater momentum.", TOO_SHORT),
        ("A big tree releases lots of water", TREE, INVENTED),
        ("Large trees release water into the air", TREE, INVENTED),
        (
            "Evaporation: liquid water warms up and turns into an invisible gas called vapor",
            EVAPORATION,
            TOO_LONG,
        ),
    ],
)
def test_truncated_or_unfaithful_bullets_are_flagged(
    bullet: str, sentence: str, problem: str
) -> None:
    assert problem in bullet_problems(bullet, sentence)


@pytest.mark.parametrize(
    ("bullet", "sentence"),
    [
        ("Evaporation: liquid water turns into water vapor", EVAPORATION),
        ("Groundwater: water stored beneath the ground", GROUNDWATER),
        ("Water cycle: endless journey of water", JOURNEY),
        ("Runoff: some rainwater flows downhill", RUNOFF),
        ("Heat from the sun", SUN),
        ("Inside a cloud, the droplets join together", DROPLETS),
        ("Water vapor rises into the air", "Water vapor rises into the air, carried upward."),
    ],
)
def test_complete_phrases_pass(bullet: str, sentence: str) -> None:
    assert bullet_problems(bullet, sentence) == ()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (EVAPORATION, "Evaporation: liquid water turns into water vapor"),
        (GROUNDWATER, "Groundwater: water stored beneath the ground"),
        (JOURNEY, "Water cycle: endless journey of water"),
        (RUNOFF, "Runoff: some rainwater flows downhill"),
        (DROPLETS, "Inside a cloud, the droplets join together"),
        (
            "Some fractions look different but name the same amount, and we call them "
            "equivalent fractions.",
            "Equivalent fractions: some fractions name the same amount",
        ),
    ],
)
def test_defining_sentences_become_term_and_gloss(sentence: str, expected: str) -> None:
    assert summarize(sentence).text == expected


def test_every_bullet_of_the_starter_library_keeps_the_sentence_words_in_order() -> None:
    index = load_index(None)
    for document in index.documents():
        for paragraph in document.paragraphs:
            for sentence in narration_sentences(paragraph, Grade(8)):
                bullet = summarize(sentence).text
                problems = bullet_problems(bullet, sentence)
                assert INVENTED not in problems, (bullet, sentence)
                assert len(bullet.split()) <= HARD_BULLET_WORDS, (bullet, sentence)


def test_a_sentence_with_no_clean_short_form_falls_back_to_a_key_noun_phrase() -> None:
    assert summarize(SUN).text == "Heat from the sun"


def test_a_bullet_never_stops_on_a_word_that_needs_more_when_nothing_fits_whole() -> None:
    sentence = "A President may be elected to no more than two terms."
    bullet = summarize(sentence).text
    assert WEAK_END not in bullet_problems(bullet, sentence), bullet
    assert sentence.startswith(bullet)
