"""Choosing each scene's visual from its own words."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import SHARED
from vividly_ray.domain.models import (
    GlossaryEntry,
    Grade,
    Retrieval,
    Scene,
    SceneKind,
    Script,
    VideoRequest,
    Visual,
    VisualItem,
    VisualKind,
)
from vividly_ray.script.visual_text import shorten
from vividly_ray.script.visuals import VisualWriter, attach_visuals


def lesson(
    *narrations: tuple[str, ...], bullets: tuple[str, ...] = (), terms: tuple[str, ...] = ()
) -> Script:
    scenes = tuple(
        Scene(i + 1, SceneKind.CONCEPT, f"Scene {i + 1}", bullets, narration)
        for i, narration in enumerate(narrations)
    )
    glossary = tuple(GlossaryEntry(t, "", 1) for t in terms)
    return Script("Lesson", Grade(7), 60.0, scenes, (), glossary=glossary)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def taken_from(piece: str, source: str) -> bool:
    """The piece's words occur in the source in the same order (a shortening, never new words)."""
    remaining = iter(words(source))
    return all(word in remaining for word in words(piece))


def assert_grounded(scene: Scene) -> None:
    """Every piece of the visual is the scene's own words, and appears at a real sentence."""
    assert scene.visual is not None
    sentences = (*scene.narration, *scene.bullets)
    for item in scene.visual.items:
        for text in (item.label, item.detail, *item.cells):
            assert any(taken_from(text, s) for s in sentences), text
        assert 0 <= item.reveal_at < len(scene.narration)
        spoken = scene.narration[item.reveal_at]
        assert taken_from(item.label, spoken) or taken_from(item.detail, spoken) or item.cells
    operators = ("=", "\u00d7", "\u00f7", "+", "\u2212")
    for heading in scene.visual.headings:
        assert heading in operators or any(taken_from(heading, s) for s in sentences)


def visual_of(script: Script, question: str, scene: int = 0) -> Visual:
    chosen = attach_visuals(script, question).scenes[scene]
    assert_grounded(chosen)
    assert chosen.visual is not None
    return chosen.visual


def test_a_cycle_from_a_list_of_stages() -> None:
    visual = visual_of(
        lesson(
            (
                "The water cycle never stops.",
                "Water evaporates, condenses into clouds, "
                "falls as rain, and collects again in the ocean.",
            )
        ),
        "Explain the water cycle",
    )
    assert visual.kind is VisualKind.CYCLE
    assert [i.label for i in visual.items][:2] == ["Water evaporates", "Condenses into clouds"]
    assert {i.reveal_at for i in visual.items} == {1}


def test_numbered_steps_from_sequence_words() -> None:
    visual = visual_of(
        lesson(
            (
                "First, the seed soaks up water.",
                "Then a root grows down into the soil.",
                "Next, a shoot pushes up toward the light.",
                "Finally, leaves open.",
            )
        ),
        "How does a seed grow?",
    )
    assert visual.kind is VisualKind.STEPS
    assert [i.reveal_at for i in visual.items] == [0, 1, 2, 3]
    assert visual.items[0].label == "The seed soaks up water"


def test_a_formula_from_an_equation_in_words() -> None:
    visual = visual_of(
        lesson(
            (
                "Newton studied motion.",
                "The second law says that force equals mass times acceleration.",
            )
        ),
        "What is Newton's second law?",
    )
    assert visual.kind is VisualKind.FORMULA
    assert [i.label for i in visual.items] == ["force", "mass", "acceleration"]
    assert visual.headings == ("=", "\u00d7")


def test_a_key_number_answers_how_fast() -> None:
    visual = visual_of(
        lesson(
            (
                "Light is the fastest thing there is.",
                "Light travels through empty space at about 300,000 kilometers per second.",
            )
        ),
        "How fast does light travel?",
    )
    assert visual.kind is VisualKind.KEY_NUMBER
    assert visual.items[0].label == "about 300,000 kilometers per second"
    assert visual.items[0].reveal_at == 1


def test_a_number_of_the_wrong_kind_does_not_answer() -> None:
    script = lesson(("A light-year is the distance light travels in one year.", "It is long."))
    assert attach_visuals(script, "How fast does light travel?").scenes[0].visual is None


def test_a_timeline_for_dated_events_in_order() -> None:
    visual = visual_of(
        lesson(
            (
                "In 1859, John Brown led a raid on Harpers Ferry.",
                "The Civil War was fought from 1861 to 1865.",
                "Many people died.",
            )
        ),
        "How did the Civil War start?",
    )
    assert visual.kind is VisualKind.TIMELINE
    assert [i.label for i in visual.items] == ["1859", "1861 to 1865"]
    assert visual.items[0].detail == "John Brown led a raid on Harpers Ferry"


def test_dates_out_of_order_are_not_a_timeline() -> None:
    script = lesson(("The war ended in 1865.", "It began in 1861."))
    assert attach_visuals(script, "When was the war?").scenes[0].visual is None


def test_a_comparison_table_of_two_things_on_one_aspect() -> None:
    visual = visual_of(
        lesson(
            (
                "In an elastic collision, the objects bounce apart and the total kinetic energy "
                "stays the same.",
                "In an inelastic collision, some kinetic energy turns into "
                "heat, while the objects may stick together.",
            )
        ),
        "What happens in collisions?",
    )
    assert visual.kind is VisualKind.COMPARISON
    assert visual.headings == ("Elastic collision", "Inelastic collision")
    assert all(len(row.cells) == 2 for row in visual.items)


def test_key_term_cards_from_definitions_of_glossary_terms() -> None:
    visual = visual_of(
        lesson(
            (
                "Photosynthesis takes place inside tiny structures called chloroplasts.",
                "A pigment is a substance that absorbs some colors of light.",
                "Plants are green.",
            ),
            terms=("chloroplasts", "pigment"),
        ),
        "What is photosynthesis?",
    )
    assert visual.kind is VisualKind.KEY_TERMS
    assert [(i.label, i.reveal_at) for i in visual.items] == [("Chloroplasts", 0), ("Pigment", 1)]


def test_plain_sentences_stay_bullets_and_existing_visuals_are_kept() -> None:
    questions = Visual(VisualKind.QUESTIONS, (VisualItem("Why?", "Because.", reveal_at=1),))
    script = lesson(("Plants are green.", "They grow in spring."))
    check = Scene(2, SceneKind.CHECK, "Pause and think", (), ("Why?", "Because."), visual=questions)
    title = Scene(0, SceneKind.TITLE, "Plants", ("Grade 7",), ("Welcome.",))
    script = Script("Plants", Grade(7), 60.0, (title, *script.scenes, check), ())
    chosen = attach_visuals(script, "Tell me about plants")
    assert [s.visual for s in chosen.scenes] == [None, None, questions]


def test_shorten_cuts_at_a_word_boundary_without_a_dangling_word() -> None:
    assert shorten("The total of all the forces acting on an object in the same direction") == (
        "The total of all the forces acting on"
    ).removesuffix(" on")
    assert shorten("Short label.") == "Short label"


BOOKS = [SHARED / "oer" / "openstax-physics.jsonl", SHARED / "oer" / "openstax-astronomy-2e.jsonl"]


@pytest.mark.skipif(not all(b.exists() for b in BOOKS), reason="../shared OpenStax books absent")
def test_passages_of_real_textbooks_get_grounded_visuals_in_order() -> None:
    """Each paragraph of a few hundred OpenStax modules as a scene: whatever is chosen is the
    paragraph's own words at valid sentences, and some formulas, numbers and lists turn up."""
    kinds: set[VisualKind] = set()
    for book in BOOKS:
        for line in book.read_text(encoding="utf-8").splitlines()[:150]:
            record = json.loads(line)
            for paragraph in record.get("paragraphs", [])[:6]:
                sentences = tuple(s for s in re.split(r"(?<=[.!?])\s+", paragraph) if s)
                if not 2 <= len(sentences) <= 8:
                    continue
                script = lesson(sentences)
                chosen = attach_visuals(script, "How fast and how far does light travel?")
                scene = chosen.scenes[0]
                if scene.visual is not None:
                    assert_grounded(scene)
                    kinds.add(scene.visual.kind)
    assert len(kinds) >= 3, kinds


class OneSceneWriter:
    """A writer fake: one concept scene stating a formula, and a per-scene method."""

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        return lesson(("Ohm's law says that voltage equals current times resistance.", "Done."))

    def write_scene(self, task: str) -> str:
        return f"scene for {task}"


def test_the_visual_writer_adds_visuals_and_passes_the_rest_through() -> None:
    writer = VisualWriter(OneSceneWriter())
    request = VideoRequest("What is Ohm's law?", Grade(8), 1.0)
    script = writer.write(request, Retrieval("ohm", (), ()), "Ohm's law")
    assert script.scenes[0].visual is not None
    assert script.scenes[0].visual.kind is VisualKind.FORMULA
    assert writer.write_scene("t") == "scene for t"
