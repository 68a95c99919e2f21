"""Planning remembers scenes it has built; the scripts are the ones a fresh build gives."""

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
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.pipeline.serialize import script_to_dict
from vividly_ray.script import offline_writer
from vividly_ray.script.checks import add_check_scene
from vividly_ray.script.pacing import script_seconds
from vividly_ray.script.planning import Section, plan_sections
from vividly_ray.script.reading_level import level_offset, script_grade
from vividly_ray.script.scenes import Framing, assemble
from vividly_ray.script.selection import Candidate, Sentence, candidates, on_subject


class FreshEstimate:
    """The estimate with nothing remembered: every plan's script is assembled from scratch."""

    def __init__(self, framing: Framing) -> None:
        self.framing = framing

    def __call__(self, sections: list[Section]) -> float:
        return script_seconds(add_check_scene(assemble(self.framing, sections)))

    def level(self, sections: list[Section]) -> float:
        script = add_check_scene(assemble(self.framing, sections))
        return level_offset(script_grade(script), self.framing.grade)


@pytest.fixture(scope="module")
def index() -> LibraryIndex:
    return load_index(None)


@pytest.mark.parametrize(
    ("question", "grade", "minutes"),
    [
        ("Explain the water cycle", 5, 3),
        ("How do magnets work?", 4, 2),
        ("Why do we have seasons?", 6, 2),
    ],
)
def test_remembered_planning_writes_the_script_a_fresh_one_does(
    index: LibraryIndex, monkeypatch: pytest.MonkeyPatch, question: str, grade: int, minutes: int
) -> None:
    request = VideoRequest(question=question, grade=Grade(grade), minutes=minutes)
    retrieval = index.retrieve(question, request.grade)
    writer = offline_writer.OfflineScriptWriter()
    remembered = script_to_dict(writer.write(request, retrieval))
    monkeypatch.setattr(offline_writer, "_Estimate", FreshEstimate)
    fresh = script_to_dict(writer.write(request, retrieval))
    assert remembered == fresh
    assert len(remembered["scenes"]) >= 5


CORE = frozenset({"rocket"})
CLOSE = frozenset({("thrust",), ("exhaust", "gas")})


def test_an_idea_naming_the_topic_is_on_subject_whatever_its_section() -> None:
    texts = (
        "A rocket pushes hot exhaust gas backward.",
        "The gas pushes back on the rocket.",
        "Space is almost empty.",
    )
    assert on_subject(texts, "The Moon Landing", CORE, CLOSE)


def test_an_idea_of_a_section_on_the_topic_or_a_close_term_is_on_subject() -> None:
    texts = ("Engines burn fuel.", "Fuel is heavy.")
    assert on_subject(texts, "Rocket Engines", CORE, CLOSE)
    assert on_subject(texts, "Thrust and Weight", CORE, CLOSE)


def test_a_close_term_counts_only_in_full() -> None:
    texts = ("Ultraviolet light is absorbed by gas in the air.", "Telescopes see farther.")
    assert not on_subject(texts, "Observing from Orbit", CORE, CLOSE)


def test_an_idea_of_another_subject_in_another_section_is_not() -> None:
    texts = (
        "Ultraviolet observations can be made only from space.",
        "Telescopes in orbit see farther than those on the ground.",
        "A rocket carried the first one up.",
    )
    assert not on_subject(texts, "Observations outside the Atmosphere", CORE, CLOSE)


def _retrieval(*items: tuple[str, str, str]) -> Retrieval:
    """(source id, document title, text), one passage each, best first."""
    passages = tuple(
        RetrievedPassage(Passage(f"{sid}#0", sid, title, text), 1.0 - n / 100)
        for n, (sid, title, text) in enumerate(items)
    )
    sources = tuple(
        SourceDocument(sid, title, "science", "6-8", "CC-BY-4.0", f"{title}, test library")
        for sid, title, _ in items
    )
    return Retrieval(query="rocket", passages=passages, sources=sources)


ROCKETS = (
    "A rocket is a vehicle that moves by pushing gas out of its engine. "
    "The rocket pushes the gas backward, and the gas pushes the rocket forward. "
    "This push is called thrust."
)
TELESCOPES = (
    "Telescopes on the ground cannot see ultraviolet light. "
    "The air absorbs it before it reaches them. "
    "So astronomers put telescopes on a rocket and sent them above the air."
)


def test_candidates_mark_ideas_of_a_neighbouring_subject() -> None:
    retrieval = _retrieval(
        ("rockets", "How Rockets Work", ROCKETS),
        ("sky", "Observations from Orbit", TELESCOPES),
        ("launch", "Rocket Launches", TELESCOPES.replace("Telescopes", "Big telescopes")),
    )
    pool = candidates(retrieval, ["rocket"], Grade(7), topic="rocket")
    marks = {c.source_id: c.on_subject for c in pool}
    assert marks == {"rockets": True, "sky": False, "launch": True}


def _idea(name: str, priority: float, on: bool) -> Candidate:
    sentences = tuple(
        Sentence(f"{name} sentence number {n} says a thing.", n, 1.0) for n in range(4)
    )
    return Candidate(name, name, 0, 0, priority, sentences, on_subject=on)


def test_the_plan_goes_deeper_into_the_topic_before_it_takes_a_neighbouring_subject() -> None:
    pool = [_idea("aside", 1.0, False), *(_idea(name, 0.5, True) for name in "ABC")]

    def ten_seconds_a_sentence(sections: list[Section]) -> float:
        return 10.0 * sum(len(s.sentences) for s in sections)

    planned = plan_sections(pool, ten_seconds_a_sentence, 80.0)
    said = [sentence for section in planned for sentence in section.sentences]
    assert len(said) == 8
    assert not any(sentence.startswith("aside") for sentence in said)
    # With nothing else to say, the neighbouring subject still fills the length.
    planned = plan_sections(pool[:2], ten_seconds_a_sentence, 80.0)
    said = [sentence for section in planned for sentence in section.sentences]
    assert any(sentence.startswith("aside") for sentence in said)
