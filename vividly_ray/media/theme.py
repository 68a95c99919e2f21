"""Slide colours and fonts, the WCAG contrast check every theme must pass, and colour-vision
simulation for checking that diagram colours stay apart.

Colours are sRGB triples. A theme names its colours by role so that the drawing code never
hard-codes a colour, and so that a unit test can check every text colour against the background.
Diagram fills (cycle stages, table columns, formula parts) are light colours drawn with the
``ink`` colour on them; they help tell parts apart, but a label, number or position always
carries the meaning too, so nothing depends on seeing a colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import font_lato
from PIL import ImageFont

from vividly_ray.domain.errors import StageFailed

RGB = tuple[int, int, int]

# WCAG 2.x AA for normal-size text. Every role below is used for text or for marks that carry
# meaning (bullet dots, the progress strip), so all of them are held to the text threshold.
MIN_CONTRAST = 4.5


@dataclass(frozen=True)
class Theme:
    """The colours of one slide style, by role."""

    name: str
    background: RGB
    title: RGB
    text: RGB
    muted: RGB
    accent: RGB
    ink: RGB = (16, 33, 58)  # text drawn on a diagram fill
    diagram: tuple[RGB, ...] = ()  # fills, used in turn ("diagram0", "diagram1", ...)

    def colour(self, role: str) -> RGB:
        colours: dict[str, RGB] = {
            "background": self.background,
            "title": self.title,
            "text": self.text,
            "muted": self.muted,
            "accent": self.accent,
            "ink": self.ink,
        }
        if role.startswith("diagram") and role[7:].isdigit() and self.diagram:
            return self.diagram[int(role[7:]) % len(self.diagram)]
        if role not in colours:
            raise KeyError(f"theme {self.name!r} has no colour role {role!r}")
        return colours[role]

    def foreground_pairs(self) -> dict[str, tuple[RGB, RGB]]:
        """Each foreground role with the background it is drawn on."""
        return {
            role: (self.colour(role), self.background)
            for role in ("title", "text", "muted", "accent")
        }

    def fill_pairs(self) -> dict[str, tuple[RGB, RGB]]:
        """Each diagram fill with the ink drawn on it."""
        return {f"diagram{i}": (self.ink, fill) for i, fill in enumerate(self.diagram)}


def diagram_role(index: int) -> str:
    """The colour role of the ``index``-th part of a diagram (fills repeat after the last)."""
    return f"diagram{index}"


# Fills picked so that every pair stays at least MIN_DIAGRAM_DELTA_E apart for normal vision and
# under simulated protanopia, deuteranopia and tritanopia (tests/unit/test_palette.py), mostly
# from the Okabe-Ito set, lightened where the dark background needed it.
DARK_DIAGRAM: tuple[RGB, ...] = (
    (240, 228, 66),  # yellow
    (160, 200, 255),  # light blue
    (230, 159, 0),  # orange
    (0, 158, 115),  # bluish green
    (236, 241, 248),  # paper white
    (204, 121, 167),  # reddish purple
)


THEMES: dict[str, Theme] = {
    "default": Theme(
        name="default",
        background=(16, 33, 58),
        title=(255, 255, 255),
        text=(236, 241, 248),
        muted=(178, 192, 214),
        accent=(255, 200, 87),
        ink=(16, 33, 58),
        diagram=DARK_DIAGRAM,
    ),
    "light": Theme(
        name="light",
        background=(251, 250, 245),
        title=(14, 26, 43),
        text=(29, 39, 51),
        muted=(75, 85, 99),
        accent=(23, 86, 168),
        ink=(14, 26, 43),
        diagram=(
            (240, 228, 66),
            (160, 200, 255),
            (230, 159, 0),
            (86, 180, 233),
            (255, 255, 255),
            (204, 121, 167),
        ),
    ),
}


def theme_by_name(name: str) -> Theme:
    """The named theme; an unknown name is a configuration mistake, not worth retrying."""
    try:
        return THEMES[name]
    except KeyError:
        known = ", ".join(sorted(THEMES))
        raise StageFailed(
            "generating_video", f"unknown slide theme {name!r} (known: {known})"
        ) from None


def _linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _encoded(linear: float) -> int:
    c = min(max(linear, 0.0), 1.0)
    c = c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
    return round(c * 255)


def relative_luminance(colour: RGB) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    r, g, b = (_linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


Matrix = tuple[tuple[float, float, float], ...]

# Machado, Oliveira and Fernandes (2009), "A Physiologically-based Model for Simulation of Color
# Vision Deficiency", severity 1.0 (dichromacy); they act on linear RGB.
CVD_SIMULATIONS: dict[str, Matrix] = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}
# Smallest CIE76 colour difference between two diagram fills, seen normally or simulated; about
# 2.3 is just noticeable, and over 10 reads as clearly different colours at a glance.
MIN_DIAGRAM_DELTA_E = 15.0


def simulate(colour: RGB, deficiency: str) -> RGB:
    """How ``colour`` looks to a dichromat (``CVD_SIMULATIONS`` names the three kinds)."""
    matrix = CVD_SIMULATIONS[deficiency]
    linear = [_linear(c) for c in colour]
    r, g, b = (_encoded(sum(w * v for w, v in zip(row, linear, strict=True))) for row in matrix)
    return r, g, b


def cie_lab(colour: RGB) -> tuple[float, float, float]:
    """CIE L*a*b* of an sRGB colour (D65 white)."""
    r, g, b = (_linear(c) for c in colour)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(first: RGB, second: RGB) -> float:
    """CIE76 colour difference: the distance between two colours in L*a*b*."""
    a, b = cie_lab(first), cie_lab(second)
    return float(sum((p - q) ** 2 for p, q in zip(a, b, strict=True)) ** 0.5)


def contrast_ratio(fg: RGB, bg: RGB) -> float:
    """WCAG contrast ratio between two colours, 1 to 21; order does not matter."""
    lighter, darker = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def font_file(bold: bool) -> Path:
    """The bundled Lato face, so slides look the same on every machine."""
    folder = Path(font_lato.__file__).parent / "files"
    return folder / ("Lato-Bold.ttf" if bold else "Lato-Regular.ttf")


@lru_cache(maxsize=256)
def load_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A Lato font at ``size`` pixels; cached because fitting text tries many sizes."""
    return ImageFont.truetype(str(font_file(bold)), size=size)
