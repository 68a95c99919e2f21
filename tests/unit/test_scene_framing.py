"""Scene titles name what a scene is mostly about, and the credits are spoken at the grade."""

from __future__ import annotations

from benchmarks.quality.readability import measure
from vividly_ray.domain.models import Grade, SourceDocument
from vividly_ray.script.bullets import summarize
from vividly_ray.script.scenes import credits_narration, credits_scene, reserved_titles
from vividly_ray.script.titles import SUMMING_UP, TitleBook, concept_title


def _title(sentences: tuple[str, ...], topic: str, last: bool = False) -> str:
    book = TitleBook(reserved_titles(topic), frozenset(), frozenset())
    summaries = [summarize(s) for s in sentences]
    return concept_title(sentences, summaries, book, last).title


def test_a_term_one_sentence_defines_in_passing_does_not_title_a_scene_about_the_topic() -> None:
    scene = (
        "A comet is an icy object made of frozen gases, dust, and rock.",
        "An asteroid is a rocky or metallic object that orbits the Sun.",
    )
    assert _title(scene, "Comets") == "What Is a Comet?"


def test_a_term_more_sentences_name_than_the_topic_keeps_the_title() -> None:
    scene = (
        "A comet is an icy object made of frozen gases, dust, and rock.",
        "The coma is the glowing cloud of gas around the nucleus.",
        "The coma can grow larger than a planet.",
        "Sunlight makes the coma shine.",
    )
    assert _title(scene, "Comets") == "The Coma"


def test_a_closing_scene_sums_up_only_when_nothing_in_it_can_title_it() -> None:
    scene = (
        "The third law explains how rockets fly, even in empty space.",
        "The gases push back on the rocket with an equal force.",
    )
    assert _title(scene, "Rockets", last=True) != SUMMING_UP


def _source() -> SourceDocument:
    return SourceDocument("doc", "Astronomy 2e", "science", "9-12", "CC-BY-4.0", "OpenStax")


def test_the_credits_line_is_plain_for_young_students_and_names_the_licences() -> None:
    young = credits_narration(Grade(5))
    assert "licences" in young and measure([young]).fk_grade <= 5
    older = credits_narration(Grade(10))
    assert "open educational resources" in older and "licences" in older
    scene = credits_scene(3, [_source()], Grade(4))
    assert scene.narration == (young,)
    assert "CC-BY-4.0" in scene.bullets[0] and "Astronomy 2e" in scene.bullets[0]


def test_a_setting_that_repeats_its_term_is_no_title() -> None:
    from vividly_ray.script.title_options import term_in_setting

    known = frozenset({"friction", "direction"})
    assert term_in_setting("Friction can be very helpful in everyday life.", known) == (
        "friction in everyday life"
    )
    assert term_in_setting("The direction matters in direction changes.", known) is None
