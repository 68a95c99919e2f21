"""What every visual layout starts from: the title, the body box below it, and fitting text
at one common size (legible where the words allow, smaller rather than cut)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vividly_ray.media.layout import (
    Box,
    Item,
    heading,
    last_resort_size,
    legible_size,
    place_lines,
    safe_area,
)
from vividly_ray.media.textfit import FittedBlock, fit_block, largest_size, line_width


@dataclass(frozen=True)
class Frame:
    """The parts every visual layout starts from."""

    width: int
    height: int
    safe: Box
    body: Box
    unit: int
    base: tuple[Item, ...]

    @property
    def floor(self) -> int:
        return last_resort_size(self.height)

    @property
    def legible(self) -> int:
        return legible_size(self.height)

    def detail(self, size: int, scale: float = 0.8) -> int:
        """A second line's size: smaller than its label, but not below legible on its own."""
        return max(round(size * scale), min(size, self.legible))


def frame_for(title: str, width: int, height: int) -> Frame:
    safe, unit = safe_area(width, height), min(width, height)
    base, body_top = heading(title, safe, unit, 0.075, 0.24, height)
    body = Box(safe.x, body_top, safe.width, max(0, safe.bottom - body_top))
    return Frame(width, height, safe, body, unit, tuple(base))


def wrap_at(text: str, size: int, bold: bool, width: int) -> FittedBlock:
    return fit_block([text], width=width, max_height=10**6, max_size=size, min_size=size, bold=bold)


def whole_words(texts: Sequence[str], size: int, bold: bool, width: int) -> bool:
    """True when every word fits the width on its own line (so none is broken apart)."""
    return all(line_width(word, size, bold) <= width for text in texts for word in text.split())


def common_size(frame: Frame, top: int, fits: Callable[[int], bool]) -> int:
    """The largest size up to ``top`` that ``fits``: legible sizes first, then smaller ones."""
    chosen = largest_size(frame.legible, top, fits)
    if chosen is None:
        chosen = largest_size(frame.floor, frame.legible - 1, fits)
    return chosen if chosen is not None else frame.floor


def place(
    block: FittedBlock, box: Box, top: int, role: str, part: str, centred: bool
) -> list[Item]:
    return [
        line for p in place_lines(block, box, top, role, centred=centred, part=part) for line in p
    ]
