"""Choosing ideas about the question's topic: textbook self-references, openings on another
subject, the question's focus words, and short scenes joining their neighbours."""

from __future__ import annotations

from vividly_ray.library.text import tokenize
from vividly_ray.script.editing import concludes, narratable
from vividly_ray.script.planning import Section, merge_short
from vividly_ray.script.selection import core_tokens, idea_relevance, opens_on_topic


def test_a_textbook_talking_about_itself_is_not_narrated() -> None:
    for sentence in (
        "In Earth, Moon, and Sky, we discuss the progression of the seasons in more detail.",
        "With these observed facts in mind, let us ask what causes the seasons.",
        "Let\u2019s briefly review the key reasons that measuring distances is such a struggle.",
        "As we shall show, the seasons are caused by the tilt of Earth's axis.",
    ):
        assert not narratable(sentence), sentence
    assert narratable("The seasons are caused by the tilt of Earth's axis.")


def test_a_conclusion_opens_with_thus() -> None:
    assert concludes("Thus, Mars experiences seasons very much like those on Earth.")
    assert not concludes("Mars experiences seasons very much like those on Earth.")


def test_an_opening_that_names_another_subject_is_not_about_the_topic() -> None:
    close = frozenset(tokenize("black hole event horizon escape velocity"))
    other = "The inclination of the ecliptic is the reason the Sun moves north and south."
    assert not opens_on_topic(other, close)
    assert opens_on_topic("The boundary around a black hole is called the event horizon.", close)
    # A sentence that names no term says nothing either way.
    assert opens_on_topic("Nothing can escape once it falls in.", close)


def test_the_question_focus_raises_the_ideas_that_answer_it() -> None:
    core = core_tokens("stars")
    focus = frozenset(tokenize("far away distance")) - core
    answering = ["Astronomers measure the distance to nearby stars with parallax."]
    aside = ["Only about 9000 stars are visible to the unaided eye."]
    assert idea_relevance(answering, core, focus=focus) > idea_relevance(aside, core, focus=focus)
    # Without focus words both name the topic alike.
    assert idea_relevance(answering, core) == idea_relevance(aside, core)


def _section(source: str, *sentences: str) -> Section:
    return Section((source,), sentences, tuple("" for _ in sentences))


def test_a_short_scene_without_a_term_of_its_own_joins_its_neighbour() -> None:
    topic = frozenset(tokenize("phases moon"))
    parts = [
        _section("a", "The Moon seems to change shape.", "The changing shapes are called phases."),
        _section("a", "The Moon does not make its own light.", "It reflects sunlight.", "Yes."),
        _section("a", "The path of the Moon is called an orbit.", "It takes a month."),
        _section("b", "A thin curve of light is called a crescent.", "It follows the new moon."),
        _section("b", "A Moon more than half lit is called gibbous.", "Then it is full."),
    ]
    merged = merge_short(parts, topic)
    assert len(merged) == 4
    assert merged[0].sentences == parts[0].sentences + parts[1].sentences
    # Scenes that explain a term of their own ("orbit", "crescent") keep their scene.
    assert merged[1:] == parts[2:]
    # The direct answer stays a scene of its own.
    assert merge_short(parts, topic, keep_first=True) == parts


def test_merging_keeps_the_minimum_of_scenes() -> None:
    topic = frozenset(tokenize("moon"))
    parts = [
        _section("a", "The Moon is bright tonight.", "The Moon is up high."),
        _section("a", "The Moon is round.", "The Moon is far."),
        _section("a", "The Moon is grey.", "The Moon is old."),
    ]
    assert merge_short(parts, topic) == parts
