"""The default palette stays readable and its diagram colours stay apart under simulated
protanopia, deuteranopia and tritanopia (Machado et al. 2009, severity 1.0)."""

from __future__ import annotations

from itertools import combinations

import pytest

from vividly_ray.media.theme import (
    CVD_SIMULATIONS,
    MIN_CONTRAST,
    MIN_DIAGRAM_DELTA_E,
    THEMES,
    contrast_ratio,
    delta_e,
    simulate,
    theme_by_name,
)

DEFAULT = theme_by_name("default")
VISIONS = [None, *sorted(CVD_SIMULATIONS)]


def seen(colour: tuple[int, int, int], vision: str | None) -> tuple[int, int, int]:
    return colour if vision is None else simulate(colour, vision)


def test_simulation_keeps_greys_and_merges_red_with_green_for_protanopes() -> None:
    for vision in CVD_SIMULATIONS:
        grey = simulate((128, 128, 128), vision)
        assert all(abs(c - 128) <= 2 for c in grey), (vision, grey)
    red, green = (200, 60, 40), (110, 110, 40)
    assert delta_e(red, green) > 25
    assert delta_e(simulate(red, "protanopia"), simulate(green, "protanopia")) < 12


def test_delta_e_is_a_distance() -> None:
    assert delta_e((10, 20, 30), (10, 20, 30)) == 0
    assert delta_e((0, 0, 0), (255, 255, 255)) == pytest.approx(100, abs=0.1)


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("name", sorted(THEMES))
def test_text_stays_at_wcag_aa_under_every_simulation(name: str, vision: str | None) -> None:
    theme = THEMES[name]
    for role, (fg, bg) in {**theme.foreground_pairs(), **theme.fill_pairs()}.items():
        ratio = contrast_ratio(seen(fg, vision), seen(bg, vision))
        assert ratio >= MIN_CONTRAST, f"{name}.{role} under {vision}: {ratio:.2f}"


@pytest.mark.parametrize("vision", VISIONS)
def test_diagram_fills_stay_distinguishable(vision: str | None) -> None:
    fills = DEFAULT.diagram
    assert len(fills) >= 5
    for a, b in combinations(fills, 2):
        difference = delta_e(seen(a, vision), seen(b, vision))
        assert difference >= MIN_DIAGRAM_DELTA_E, (vision, a, b, round(difference, 1))


def test_diagram_fills_stand_out_from_the_dark_background() -> None:
    # The quality harness holds every solid colour on a slide to the text threshold.
    for fill in DEFAULT.diagram:
        assert contrast_ratio(fill, DEFAULT.background) >= MIN_CONTRAST, fill


def test_diagram_roles_repeat_after_the_last_fill() -> None:
    count = len(DEFAULT.diagram)
    assert DEFAULT.colour("diagram0") == DEFAULT.colour(f"diagram{count}")
    with pytest.raises(KeyError):
        DEFAULT.colour("neon")
