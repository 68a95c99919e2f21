"""Slide colours and fonts, and the WCAG contrast check every theme must pass.

Colours are sRGB triples. A theme names its colours by role so that the drawing code never
hard-codes a colour, and so that a unit test can check every text colour against the background.
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

    def colour(self, role: str) -> RGB:
        colours: dict[str, RGB] = {
            "background": self.background,
            "title": self.title,
            "text": self.text,
            "muted": self.muted,
            "accent": self.accent,
        }
        if role not in colours:
            raise KeyError(f"theme {self.name!r} has no colour role {role!r}")
        return colours[role]

    def foreground_pairs(self) -> dict[str, tuple[RGB, RGB]]:
        """Each foreground role with the background it is drawn on."""
        return {
            role: (self.colour(role), self.background)
            for role in ("title", "text", "muted", "accent")
        }


THEMES: dict[str, Theme] = {
    "default": Theme(
        name="default",
        background=(16, 33, 58),
        title=(255, 255, 255),
        text=(236, 241, 248),
        muted=(178, 192, 214),
        accent=(255, 200, 87),
    ),
    "light": Theme(
        name="light",
        background=(251, 250, 245),
        title=(14, 26, 43),
        text=(29, 39, 51),
        muted=(75, 85, 99),
        accent=(23, 86, 168),
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


def relative_luminance(colour: RGB) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""
    r, g, b = (_linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


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
