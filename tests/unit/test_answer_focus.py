"""Ideas valued by whether they answer the question, and the topic a "have" question asks about."""

from __future__ import annotations

from vividly_ray.domain.models import Passage, RetrievedPassage
from vividly_ray.library.text import tokenize
from vividly_ray.script.planning import value
from vividly_ray.script.question_type import plan_for
from vividly_ray.script.selection import (
    Candidate,
    Sentence,
    answer_focus,
    answer_share,
    core_tokens,
)
from vividly_ray.validation.topic import read_topic, subject_index, term_index


def _passage(n: int, text: str) -> RetrievedPassage:
    return RetrievedPassage(Passage(f"p{n}", "doc", "Comets", text), 1.0)


PASSAGES = (
    _passage(1, "A comet is made of ice and dust. The ice of a comet is frozen water and gas."),
    _passage(2, "A comet nucleus is made of dark dust and ice, a few kilometers across."),
    _passage(3, "Comets were once thought to be omens. Many people feared comets."),
)


def test_the_focus_holds_the_question_words_and_what_the_best_answers_repeat() -> None:
    core = core_tokens("comet")
    focus = frozenset(tokenize("made of")) - core
    plan = plan_for("What is a comet made of?")
    found = answer_focus(PASSAGES, core, frozenset(tokenize("ice")), plan)
    assert {"ice", "dust"} <= found  # "dust" is repeated by the answering sentences
    assert not core & found
    assert "omen" not in found and "fear" not in found
    # Without content words beyond the topic, the question asks about the topic as a whole.
    assert answer_focus(PASSAGES, core, frozenset(), plan) == frozenset()
    assert answer_focus(PASSAGES, frozenset(), focus, plan) == frozenset()


def test_an_idea_is_worth_the_share_of_its_sentences_that_carry_the_focus() -> None:
    answering = frozenset(tokenize("ice dust"))
    texts = ["A comet is made of ice.", "Comets were once thought to be omens."]
    assert answer_share(texts, answering) == 0.5
    assert answer_share(texts[1:], answering) == 0.0
    assert answer_share(texts, frozenset()) == 1.0  # nothing to judge by


def _candidate(answers: float) -> Candidate:
    sentences = tuple(Sentence(f"Sentence {n} about comets.", n, 1.0) for n in range(2))
    return Candidate("p", "doc", 0, 0, 1.0, sentences, answers=answers)


def test_planning_values_an_answering_idea_above_one_that_does_not_answer() -> None:
    pool = [_candidate(1.0), _candidate(0.0)]
    assert value(pool, {0: 2}) > value(pool, {1: 2}) > 0


def test_a_question_about_what_the_topic_has_keeps_the_thing_asked_about() -> None:
    terms, subjects = term_index(), subject_index()
    assert read_topic("Why does Saturn have rings?", terms, subjects).topic == "rings of saturn"
    assert read_topic("Does Mars have two moons?", terms, subjects).topic.endswith("of mars")
    # "have" before the topic, or no topic words after it, leaves the topic as it is.
    assert read_topic("Why do we have tides?", terms, subjects).topic == "tides"
    assert read_topic("How many legs does a spider have?", terms, subjects).topic == "spider"
