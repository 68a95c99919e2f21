"""Lessons that stay on the question: the topic's own terms, its definition as the answer to a
"what is" question, everyday words that ask through a textbook word, and a thin opening scene
completed by the idea that follows it."""

from __future__ import annotations

from dataclasses import replace

from vividly_ray.domain.models import Passage, RetrievedPassage
from vividly_ray.library.query import search_query
from vividly_ray.library.text import tokenize
from vividly_ray.script.planning import sections
from vividly_ray.script.question_type import QuestionType, classify, plan_for
from vividly_ray.script.selection import (
    Candidate,
    Sentence,
    defines_topic,
    topic_terms,
)
from vividly_ray.script.terms import term_key


def _retrieved(passage_id: str, text: str) -> RetrievedPassage:
    source = passage_id.split("#")[0]
    return RetrievedPassage(Passage(passage_id, source, "Magnets", text), 1.0)


def test_the_topics_own_terms_are_those_defined_while_naming_it() -> None:
    core = frozenset(tokenize("magnets"))
    passages = [
        _retrieved(
            "m#p0",
            "Every magnet has two ends, and each end is called a pole. "
            "An asteroid is a rocky object that orbits the Sun.",
        )
    ]
    found = topic_terms(passages, core)
    assert term_key("pole") in found
    assert term_key("asteroid") not in found
    assert topic_terms(passages, frozenset()) == frozenset()


def test_only_the_topic_itself_is_its_definition() -> None:
    core = frozenset(tokenize("black hole"))
    assert defines_topic(term_key("black holes"), core)
    assert not defines_topic(term_key("accretion disk"), core)
    assert not defines_topic(term_key("black holes"), frozenset())


def test_matter_the_stuff_is_not_a_reason_why_it_matters() -> None:
    plan = plan_for("What is a black hole?")
    assert plan.answers("A pancake of matter whirls around.") == 0.0
    assert plan.answers("This discovery matters to astronomers.") > 0.0


def test_what_a_thing_is_made_of_asks_for_its_parts() -> None:
    assert classify("What is a comet made of?") is QuestionType.PARTS
    assert classify("What are the rings made up of?") is QuestionType.PARTS
    assert classify("What is a comet?") is QuestionType.DEFINITION


def test_everyday_words_ask_through_their_textbook_word() -> None:
    query = search_query("How do we know how far away stars are?")
    assert query.everyday == frozenset(tokenize("far away"))
    weights = query.weights
    assert weights["star"] == weights["far"] == 1.0
    # "far away" names one idea: its second word counts half.
    assert weights["away"] < weights["far"]
    assert 0 < weights["distanc"] < 1.0
    # Asking how something is known asks how it is measured.
    assert "measur" in query.tokens
    assert "measur" not in search_query("How far away is the Moon?").tokens
    assert search_query("How do magnets work?").everyday == frozenset()


def _idea(passage_id: str, position: int, *texts: str, relevance: float = 1.0) -> Candidate:
    return Candidate(
        passage_id=passage_id,
        source_id=passage_id.split("#")[0],
        document_rank=0,
        position=position,
        priority=1.0,
        sentences=tuple(Sentence(text, n, 1.0) for n, text in enumerate(texts)),
        relevance=relevance,
    )


def test_a_thin_opening_is_completed_by_the_idea_that_follows_it() -> None:
    pool = [
        _idea("moon#p0", 0, "The Moon seems to change.", "The shapes are called phases."),
        _idea("moon#p1", 100, "The Moon makes no light.", "Moonlight is sunlight."),
        _idea("moon#p4", 400, "A thin curve is a crescent.", "It grows each night."),
        _idea("moon#p6", 600, "Half lit is a quarter moon.", "Then it is gibbous."),
        _idea("moon#p8", 800, "After full it shrinks.", "It is waning."),
    ]
    plan = {0: 2, 1: 2, 2: 2, 3: 2, 4: 2}
    topic = frozenset(tokenize("phases moon"))
    parts = sections(pool, plan, lead=0, topic=topic)
    opening = [s.text for s in pool[0].sentences] + [s.text for s in pool[1].sentences]
    assert list(parts[0].sentences) == opening
    assert len(parts) == 4
    # A lesson with few ideas keeps them apart rather than drop to its bare minimum.
    assert len(sections(pool[:4], {0: 2, 1: 2, 2: 2, 3: 2}, lead=0, topic=topic)) == 4
    # A far paragraph, another document or an idea off the topic does not join it.
    for other in (
        _idea("moon#p5", 500, "The Moon makes no light.", "Moonlight is sunlight."),
        _idea("sun#p1", 100, "The Sun is a star.", "It shines."),
        _idea("moon#p1", 100, "Tides rise.", "Tides fall.", relevance=0.2),
    ):
        apart = sections([pool[0], other, *pool[2:]], plan, lead=0, topic=topic)
        assert list(apart[0].sentences) == [s.text for s in pool[0].sentences]
    # A lead that explains a term of its own keeps its scene.
    own = replace(
        pool[0],
        sentences=(
            Sentence("Vapor cools.", 0, 1.0, defines=("condens",)),
            Sentence("It forms clouds.", 1, 1.0),
        ),
    )
    kept = sections([own, *pool[1:]], plan, lead=0, topic=topic)
    assert list(kept[0].sentences) == ["Vapor cools.", "It forms clouds."]
