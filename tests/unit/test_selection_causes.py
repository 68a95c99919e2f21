"""Answering the question: the topic named in an adjective form, the topic's own terms counting
as speaking of it, a direct cause opening the lesson, how much a re-plan for the reading level
may leave out, and the textbook sentences that point at a page rather than explain."""

from __future__ import annotations

import pytest

from benchmarks.quality.wording import figure_reference
from vividly_ray.domain.models import Grade, SceneKind, VideoRequest
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.library.text import tokenize
from vividly_ray.script.editing import light_edit, narratable, refers_back
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.script.planning import MINOR_USES, uses
from vividly_ray.script.selection import (
    Candidate,
    Sentence,
    core_tokens,
    idea_relevance,
    named_core,
    shared_head,
)
from vividly_ray.script.terms import as_term


def test_an_adjective_form_names_the_topic() -> None:
    tides = core_tokens("tides")
    assert named_core(tokenize("One tidal bulge forms on the near side."), tides) == tides
    planets = core_tokens("planets")
    assert named_core(tokenize("the planetary orbits"), planets) == planets
    # The other way round: "electric" is the adjective of the "electric" in "electricity".
    electricity = core_tokens("electricity")
    assert named_core(tokenize("an electric current"), electricity) == electricity
    # A longer word that is not an adjective of the topic does not name it.
    stars = core_tokens("stars")
    assert not named_core(tokenize("The race will start soon."), stars)
    assert not named_core(tokenize("Starfish live in tide pools."), stars)


def test_the_topics_own_terms_make_an_idea_speak_of_it() -> None:
    core = core_tokens("magnets")
    idea = [
        "When two magnets come close together, their poles push or pull on each other.",
        "Opposite poles attract, which means they pull toward each other.",
        "Like poles repel, which means two north poles push each other away.",
    ]
    pole = (tokenize("pole")[0],)
    plain = idea_relevance(idea, core)
    tied = idea_relevance(idea, core, tied=frozenset({pole}))
    assert tied > plain
    assert tied == pytest.approx(1.0)


@pytest.fixture(scope="module")
def index() -> LibraryIndex:
    return load_index(None)


def _concepts(index: LibraryIndex, question: str, grade: int, minutes: int) -> list[list[str]]:
    request = VideoRequest(question=question, grade=Grade(grade), minutes=minutes)
    script = OfflineScriptWriter().write(request, index.retrieve(question, request.grade))
    return [list(s.narration) for s in script.scenes if s.kind is SceneKind.CONCEPT]


def test_a_causes_question_opens_on_the_cause(index: LibraryIndex) -> None:
    scenes = _concepts(index, "What causes the tides?", 6, 2)
    assert scenes[0][0] == "Tides are caused mainly by the Moon's gravity."


def test_a_replan_for_the_level_keeps_the_terms_the_material_returns_to(
    index: LibraryIndex,
) -> None:
    # The grade-5 water cycle reads above the grade on its first plan; the plan grown again
    # toward the grade would leave out precipitation, which the article names again and again.
    narrated = " ".join(" ".join(s) for s in _concepts(index, "Explain The Water Cycle", 5, 2))
    for step in ("evaporation", "condensation", "precipitation", "collection"):
        assert step in narrated.lower()


def _sentence(text: str, order: int, defines: tuple[str, ...] | None = None) -> Sentence:
    mentions = frozenset({("rain",)}) if "rain" in text and defines != ("rain",) else frozenset()
    return Sentence(text=text, order=order, score=1.0, defines=defines, mentions=mentions)


def test_uses_counts_the_sentences_that_explain_or_name_a_term() -> None:
    sentences = (
        _sentence("Rain is water that falls from clouds.", 0, ("rain",)),
        _sentence("After rain, puddles form.", 1),
        _sentence("The sun warms the ground.", 2),
    )
    pool = [Candidate("p", "s", 0, 0, 1.0, sentences)]
    assert uses(pool, ("rain",)) == 2
    assert uses(pool, ("sun",)) == 0
    assert MINOR_USES >= 1


def test_a_term_loses_the_quotation_marks_around_it() -> None:
    assert as_term("\u201cbad seeing.\u201d") == "bad seeing"
    assert as_term('"dark matter"') == "dark matter"


def test_page_places_lost_references_and_exercise_steps_are_not_narrated() -> None:
    for sentence in (
        "On the left is an electrical circuit containing a battery, a switch, and a capacitor.",
        "The left circuit diagram shows three resistors in parallel.",
        "When the switch is closed in the circuit of, the battery forces current to flow.",
        "Note that the current in the water circuit of is the same throughout the circuit.",
        "The lecturer uses the same approach as outlined above for the equivalent resistance.",
        "Identify a group of resistors that are only in parallel or only in series.",
        "Draw a new circuit diagram with the resistors replaced by their equivalent.",
    ):
        assert not narratable(sentence), sentence
    for sentence in (
        "The pull is strongest on the near side and weakest on the far side.",
        "A north pole is on the left end of this bar magnet.",
        "Circuit diagrams are schematic representations of electric circuits.",
        "A small rainbow appears on the wall or table nearby.",
    ):
        assert narratable(sentence), sentence
    assert light_edit("As you are no doubt aware, modern life relies on electricity.") == (
        "Modern life relies on electricity."
    )


def test_a_contrast_points_back_at_the_sentence_before() -> None:
    assert refers_back("However, the current through each resistor can differ.")
    assert refers_back("Instead, the water flows toward the two bulges.")
    assert not refers_back("Howard Carter found the tomb in 1922.")


def test_a_comparison_of_two_modifiers_shares_its_head_noun() -> None:
    assert shared_head("series and parallel circuits") == tokenize("circuits")[0]
    assert shared_head("speed and velocity") == ""
    assert shared_head("phases of the moon") == ""


def test_the_harness_sees_page_places_but_not_a_table_you_sit_at() -> None:
    assert figure_reference("On the left is an electrical circuit with a battery.")
    assert figure_reference("The left circuit diagram shows three resistors.")
    assert figure_reference("In the circuit of, the battery pushes charge.")
    assert figure_reference("A small rainbow appears on the wall or table nearby.") is None
