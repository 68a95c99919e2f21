"""A lesson that reads away from the student's grade is planned again toward it, and the material
it is planned from keeps whole what only makes sense together."""

from __future__ import annotations

from collections.abc import Callable

from vividly_ray.domain.models import (
    Grade,
    Passage,
    Retrieval,
    RetrievedPassage,
    Scene,
    SceneKind,
    Script,
    SourceDocument,
)
from vividly_ray.script.planning import Section, plan_sections
from vividly_ray.script.reading_level import (
    level_distance,
    level_offset,
    passage_grade,
    script_grade,
)
from vividly_ray.script.selection import Candidate, Sentence, on_topic

PLAIN = "The {} is big and it is red and hot."
HARD = "The {} demonstrates considerable electromagnetic variability characteristically."
MIDDLE = "The {} carries energy from the surface of the planet into the atmosphere above."


def _idea(name: str, text: str, score: float) -> Candidate:
    sentences = tuple(Sentence(text.format(f"{name}{n}"), n, score) for n in range(3))
    return Candidate(name, name, 0, 0, 1.0, sentences)


def _seconds(sections: list[Section]) -> float:
    return 10.0 * sum(len(s.sentences) for s in sections)


def _level(grade: Grade) -> Callable[[list[Section]], float]:
    def offset(sections: list[Section]) -> float:
        said = [sentence for section in sections for sentence in section.sentences]
        return level_offset(passage_grade(said), grade)

    return offset


def _said(planned: list[Section]) -> list[str]:
    return [sentence for section in planned for sentence in section.sentences]


def test_the_offset_says_which_way_a_reading_misses_the_grade() -> None:
    assert level_offset(8.0, Grade(5)) == 2.0
    assert level_offset(1.0, Grade(5)) == -3.0
    assert level_offset(5.5, Grade(5)) == 0.0
    assert level_offset(-4.0, Grade(1)) == 0.0  # nothing is too easy for K-2
    assert level_distance(1.0, Grade(5)) == 3.0


def test_the_script_grade_counts_every_narrated_sentence() -> None:
    hard = HARD.format("star")
    scenes = (
        Scene(0, SceneKind.TITLE, "Stars", (), ("Let's explore stars. We will look at light.",)),
        Scene(1, SceneKind.CONCEPT, "Light", (), (hard,)),
    )
    script = Script("Stars", Grade(5), 60.0, scenes, ())
    framing = ["Let's explore stars.", "We will look at light."]
    assert script_grade(script) == passage_grade([*framing, hard])
    assert script_grade(script) < passage_grade([hard])


def test_a_plan_that_reads_too_hard_is_planned_again_from_plainer_ideas() -> None:
    # The hard ideas are worth a little more, so the plan for value alone takes them.
    pool = [_idea(name, HARD, 1.2) for name in "ABC"] + [_idea(n, PLAIN, 1.0) for n in "DEF"]
    unleveled = plan_sections(pool, _seconds, 60.0)
    assert all("electromagnetic" in sentence for sentence in _said(unleveled))
    grade = Grade(5)
    leveled = plan_sections(pool, _seconds, 60.0, level=_level(grade), grade=grade)
    said = _said(leveled)
    assert len(said) == len(_said(unleveled))
    assert abs(level_offset(passage_grade(said), grade)) < abs(
        level_offset(passage_grade(_said(unleveled)), grade)
    )
    assert any("is big and it is red" in sentence for sentence in said)


def test_a_plan_near_the_grade_is_left_as_it_is() -> None:
    pool = [_idea(name, MIDDLE, 1.2) for name in "ABC"] + [_idea(n, PLAIN, 1.0) for n in "DEF"]
    grade = Grade(9)
    assert level_offset(passage_grade([MIDDLE.format("A0")]), grade) == 0.0
    leveled = plan_sections(pool, _seconds, 60.0, level=_level(grade), grade=grade)
    assert leveled == plan_sections(pool, _seconds, 60.0)


def test_a_sentence_pointing_back_is_picked_with_the_one_before_it() -> None:
    sentences = (
        Sentence("Comets are balls of ice and dust from far out.", 0, 0.1),
        Sentence("They grow long tails when they come near the Sun.", 1, 2.0),
        Sentence("A comet's nucleus is only a few kilometers across.", 2, 1.0),
    )
    picked = Candidate("c", "c", 0, 0, 1.0, sentences).pick(2)
    texts = [s.text for s in picked]
    assert texts[:2] == [sentences[0].text, sentences[1].text]


def _retrieval(*items: tuple[str, str, str, float]) -> Retrieval:
    passages = tuple(
        RetrievedPassage(Passage(f"{sid}#p{n}", sid, title, text), score)
        for n, (sid, title, text, score) in enumerate(items)
    )
    titles = dict.fromkeys((sid, title) for sid, title, _, _ in items)
    sources = tuple(
        SourceDocument(sid, title, "science", "3-5", "CC0-1.0", f"{title}, test library")
        for sid, title in titles
    )
    return Retrieval(query="friction", passages=passages, sources=sources)


def test_a_document_on_the_topic_keeps_its_passages_that_name_it() -> None:
    retrieval = _retrieval(
        ("book", "Collisions", "Everyday examples of collisions lose energy to friction.", 10.0),
        ("kids", "Forces and Friction", "Friction is a force that slows things down.", 4.0),
        ("kids", "Forces and Friction", "A force is a push or a pull.", 3.0),
        ("book", "Collisions", "Friction turns some energy into heat.", 4.0),
    )
    kept = {r.passage.text for r in on_topic(retrieval, frozenset({"friction"}))}
    assert "Friction is a force that slows things down." in kept
    assert "A force is a push or a pull." not in kept  # does not name the topic
    assert "Friction turns some energy into heat." not in kept  # its document is on another
    assert {r.passage.text for r in on_topic(retrieval)} == {
        "Everyday examples of collisions lose energy to friction."
    }
