"""Reading what a sentence does with a term: names it, explains it, classes it, announces it."""

from __future__ import annotations

import pytest

from vividly_ray.domain.models import (
    Grade,
    Passage,
    Retrieval,
    RetrievedPassage,
    SourceDocument,
    VideoRequest,
)
from vividly_ray.library.store import load_index
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.script.selection import is_example, key_terms
from vividly_ray.script.terms import Shape, as_term, read


@pytest.mark.parametrize(
    ("sentence", "term", "shape"),
    [
        ("Water stored beneath the ground is called groundwater.", "groundwater", Shape.NAMED),
        (
            "Evaporation happens when liquid water warms up and turns into an invisible gas "
            "called water vapor.",
            "Evaporation",
            Shape.EXPLAINED,
        ),
        (
            "Precipitation is any water that falls from the sky, including rain and snow.",
            "Precipitation",
            Shape.CLASSED,
        ),
        ("Veins are tubes that carry blood back to the heart.", "Veins", Shape.CLASSED),
        ("Pitch is how high or low a sound seems.", "Pitch", Shape.EXPLAINED),
        ("The first big step of the water cycle is evaporation.", "evaporation", Shape.ANNOUNCED),
        (
            "The real cause of the seasons is the tilt of Earth's axis.",
            "tilt of Earth's axis",
            Shape.ANNOUNCED,
        ),
        ("The water on Earth is always on the move.", "water on Earth", Shape.DESCRIBED),
        (
            "Plants release water through tiny holes in their leaves, a process called "
            "transpiration.",
            "transpiration",
            Shape.NAMED,
        ),
        (
            "Some rainwater flows downhill, and scientists call that flowing water runoff.",
            "runoff",
            Shape.NAMED,
        ),
        (
            "Scientists call the endless journey of water the water cycle.",
            "water cycle",
            Shape.NAMED,
        ),
        (
            "Some fractions look different but name the same amount, and we call them "
            "equivalent fractions.",
            "equivalent fractions",
            Shape.NAMED,
        ),
        (
            "The distance a number is from zero is called its absolute value.",
            "absolute value",
            Shape.NAMED,
        ),
    ],
)
def test_sentence_shapes(sentence: str, term: str, shape: Shape) -> None:
    reading = read(sentence)
    assert (reading.term, reading.shape) == (term, shape)


def test_a_named_term_keeps_what_it_names() -> None:
    reading = read("Some rainwater flows downhill, and scientists call that flowing water runoff.")
    assert reading.gloss == "Some rainwater flows downhill"
    assert read("Water stored beneath the ground is called groundwater.").defines


def test_a_second_name_for_a_term_is_an_alias() -> None:
    reading = read("The water cycle is also known as the hydrologic cycle, a name from Greek.")
    assert reading.term == "hydrologic cycle"
    assert reading.alias_of == "water cycle"


@pytest.mark.parametrize(
    "sentence",
    [
        "If the pieces were different sizes, you could not call each piece a fourth.",
        "Life in the colonies was extremely hard.",
        "The most famous example is a right triangle with legs three and four.",
        "What are some examples of magnets?",
    ],
)
def test_sentences_that_name_no_term(sentence: str) -> None:
    reading = read(sentence)
    assert not reading.defines
    assert reading.shape is not Shape.ANNOUNCED


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("the legislative branch", "legislative branch"),
        ("its absolute value", "absolute value"),
        ("each piece", None),
        ("fifteen square meters", None),
        ("a common mistake", None),
        ("distance a number", None),
        ("it", None),
    ],
)
def test_what_can_be_a_term(text: str, term: str | None) -> None:
    assert as_term(text) == term


def test_examples_and_asides_are_recognised() -> None:
    assert is_example("You can see condensation on a cold glass of lemonade.")
    assert is_example("For example, a wet towel dries in the sun.")
    assert not is_example("Condensation happens when water vapor cools down.")


def test_key_terms_are_what_on_topic_passages_explain_plus_listed_keywords() -> None:
    retrieval = Retrieval(
        query="water cycle",
        passages=(
            RetrievedPassage(
                Passage(
                    "water#p0",
                    "water",
                    "Water",
                    "Water stored beneath the ground is called groundwater. Rain falls.",
                ),
                5.0,
            ),
            RetrievedPassage(
                Passage("oven#p0", "oven", "Oven", "A kiln is called a hot oven. Bread bakes."),
                1.0,
            ),
        ),
        sources=tuple(
            SourceDocument(i, i.title(), "science", "3-5", "CC0-1.0", f"{i}, test")
            for i in ("water", "oven")
        ),
    )
    assert key_terms(retrieval, ["Clouds"]) == {"groundwater", "clouds"}


def test_the_writer_looks_up_keywords_of_the_documents_it_narrates() -> None:
    index = load_index(None)
    asked: list[str] = []

    def keywords(source_id: str) -> list[str]:
        asked.append(source_id)
        return ["water vapor"]

    question = "Explain the water cycle"
    request = VideoRequest(question, Grade(5), 2)
    script = OfflineScriptWriter(keywords).write(request, index.retrieve(question, Grade(5)))
    assert asked == ["science-water-cycle"]
    assert script.sources[0].source_id == "science-water-cycle"
