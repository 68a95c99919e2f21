"""Caption text breaks at phrase boundaries and fits two lines of 42 characters."""

from __future__ import annotations

from vividly_ray.media.caption_breaks import MAX_LINE_CHARS, break_cost, layout


def _words(text: str) -> list[str]:
    return text.split()


def test_sentence_and_clause_ends_are_the_best_places_to_break() -> None:
    assert break_cost("light.", "The") < break_cost("light,", "and")
    assert break_cost("light,", "and") < break_cost("light", "and")
    assert break_cost("light", "and") < break_cost("bright", "light")
    assert break_cost("bright", "light") < break_cost("the", "light")
    assert break_cost("about", "300") == break_cost("300", "kilometers") == break_cost("of", "x")


def test_a_cue_that_fits_one_line_keeps_it() -> None:
    assert layout(_words("Plants need light.")) == ("Plants need light.", 0.0)


def test_two_lines_break_at_a_clause_rather_than_at_the_middle() -> None:
    words = _words("Every living thing needs energy, but plants have a special way of getting it.")
    shown = layout(words)
    assert shown is not None
    top, bottom = shown[0].split("\n")
    assert top == "Every living thing needs energy, but" or top.endswith(",")
    assert max(len(top), len(bottom)) <= MAX_LINE_CHARS


def test_a_forced_break_and_too_many_words_are_refused_or_kept() -> None:
    words = _words("Plants need light. Animals need food.")
    assert layout(words, cut=3) == ("Plants need light.\nAnimals need food.", 0.0)
    assert layout(["word"] * 40) is None
