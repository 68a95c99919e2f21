"""The harness's fragment rule on sentence endings, and the writer's figure-pointer filter."""

from __future__ import annotations

import pytest

from benchmarks.quality.wording import end_problem
from vividly_ray.script.editing import _REFERENCE


@pytest.mark.parametrize(
    "sentence",
    [
        "Let's explore what comets are made of.",
        "Scientists still ask which layer the field comes from.",
        "The light faded between days 40 and 500.",
        "Rigel and Alpha Centauri A.",
    ],
)
def test_complete_sentences_are_not_fragments(sentence: str) -> None:
    assert end_problem(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("The rock is made of.", "ends with 'of'"),
        ("Heat moves from hot to cold and.", "ends with 'and'"),
        ("What happens next depends on the.", "ends with 'the'"),
        ("Plants need water, light and", "ends with 'and'"),
    ],
)
def test_open_endings_are_fragments(sentence: str, problem: str) -> None:
    assert end_problem(sentence) == problem


@pytest.mark.parametrize(
    ("sentence", "points"),
    [
        ("The same is true of the circuit in the same figure.", True),
        ("Note how the rate of decline slowed after day 40.", True),
        ("Notice how the curve bends.", True),
        ("Note that friction always opposes motion.", False),
        ("Friction always opposes motion.", False),
    ],
)
def test_the_writer_leaves_out_sentences_that_point_at_a_figure(
    sentence: str, points: bool
) -> None:
    assert bool(_REFERENCE.search(sentence)) is points
