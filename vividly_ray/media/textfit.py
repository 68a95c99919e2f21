"""Word wrap and font auto-shrink: the largest size at which a block of text fits a box.

Widths come from the font's advance widths (fast) plus a small allowance for glyph ink that
overhangs its advance box (the tail of a "j", an italic-like "f"), so text measured here never
draws outside the box it was fitted to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vividly_ray.media.theme import load_font

ELLIPSIS = "\u2026"


def overhang(size: int) -> int:
    """Pixels kept free at each side of a line for ink that overhangs the advance box."""
    return math.ceil(size * 0.05)


def line_height(size: int, bold: bool) -> int:
    """Baseline-to-baseline distance; the font's ascent + descent already include a line gap."""
    ascent, descent = load_font(size, bold).getmetrics()
    return int(ascent + descent)


def line_width(text: str, size: int, bold: bool) -> int:
    """Width a line needs, overhang allowance included."""
    return math.ceil(load_font(size, bold).getlength(text)) + 2 * overhang(size)


def _split_long_word(word: str, size: int, bold: bool, max_width: int) -> list[str]:
    """Break a word wider than the box into pieces that fit (a long URL in a credit line)."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and line_width(current + char, size, bold) > max_width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, size: int, bold: bool, max_width: int) -> list[str]:
    """Greedy word wrap at ``size``; a word that cannot fit alone is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if line_width(candidate, size, bold) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if line_width(word, size, bold) <= max_width:
            current = word
        else:
            *whole, current = _split_long_word(word, size, bold, max_width)
            lines.extend(whole)
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class FittedBlock:
    """Paragraphs wrapped at one font size, with the height they take."""

    size: int
    bold: bool
    paragraphs: tuple[tuple[str, ...], ...]
    pitch: int  # baseline-to-baseline distance
    gap: int  # extra space between paragraphs
    cut: bool = False  # True when even the smallest size could not hold every word

    @property
    def height(self) -> int:
        lines = sum(len(p) for p in self.paragraphs)
        return lines * self.pitch + max(0, len(self.paragraphs) - 1) * self.gap


def _layout(
    paragraphs: Sequence[str], size: int, bold: bool, width: int, gap_em: float
) -> FittedBlock:
    return FittedBlock(
        size=size,
        bold=bold,
        paragraphs=tuple(tuple(wrap(p, size, bold, width)) for p in paragraphs),
        pitch=line_height(size, bold),
        gap=round(size * gap_em),
    )


def _fits(block: FittedBlock, max_height: int, max_lines: int | None) -> bool:
    if max_lines is not None and any(len(p) > max_lines for p in block.paragraphs):
        return False
    return block.height <= max_height


def fit_block(
    paragraphs: Sequence[str],
    *,
    width: int,
    max_height: int,
    max_size: int,
    min_size: int,
    bold: bool = False,
    gap_em: float = 0.0,
    indent_em: float = 0.0,
    max_lines: int | None = None,
) -> FittedBlock:
    """The largest size in [min_size, max_size] at which every paragraph fits the box.

    ``indent_em`` reserves room at the left of each paragraph (a bullet mark), in em units of
    the size being tried. If even ``min_size`` is too big the text is cut and ends with an
    ellipsis, so a block never overflows whatever it is given.
    """
    min_size = max(1, min(min_size, max_size))

    def attempt(size: int) -> FittedBlock:
        return _layout(paragraphs, size, bold, width - round(size * indent_em), gap_em)

    # Fitting is monotone in practice (smaller text never needs more room), so bisect.
    low, high = min_size, max_size
    best: FittedBlock | None = None
    while low <= high:
        mid = (low + high) // 2
        block = attempt(mid)
        if _fits(block, max_height, max_lines):
            best, low = block, mid + 1
        else:
            high = mid - 1
    if best is not None:
        return best
    return _truncate(attempt(min_size), width - round(min_size * indent_em), max_height, max_lines)


def fit_whole(
    paragraphs: Sequence[str],
    *,
    width: int,
    max_height: int,
    max_size: int,
    min_size: int,
    floor: int,
    bold: bool = False,
    gap_em: float = 0.0,
    indent_em: float = 0.0,
    max_lines: int | None = None,
) -> FittedBlock:
    """Like ``fit_block`` with a legible ``min_size``, but rather than cut words it first goes
    down to ``floor``: smaller text beats text that is silently missing."""
    block = fit_block(
        paragraphs,
        width=width,
        max_height=max_height,
        max_size=max_size,
        min_size=min_size,
        bold=bold,
        gap_em=gap_em,
        indent_em=indent_em,
        max_lines=max_lines,
    )
    if not block.cut or floor >= min_size:
        return block
    return fit_block(
        paragraphs,
        width=width,
        max_height=max_height,
        max_size=min_size - 1,
        min_size=floor,
        bold=bold,
        gap_em=gap_em,
        indent_em=indent_em,
        max_lines=max_lines,
    )


def largest_size(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest size in [low, high] for which ``fits`` holds (bisection: fitting is
    monotone in the size), or None when even ``low`` does not fit."""
    best: int | None = None
    while low <= high:
        mid = (low + high) // 2
        if fits(mid):
            best, low = mid, mid + 1
        else:
            high = mid - 1
    return best


def _truncate(
    block: FittedBlock, width: int, max_height: int, max_lines: int | None
) -> FittedBlock:
    """Keep the lines that fit and mark the cut with an ellipsis."""
    kept: list[tuple[str, ...]] = []
    used = 0
    cut = False
    for paragraph in block.paragraphs:
        gap = block.gap if kept else 0
        room = (max_height - used - gap) // block.pitch
        if max_lines is not None:
            room = min(room, max_lines)
        if room <= 0:
            cut = True
            break
        take = paragraph[:room]
        kept.append(take)
        used += gap + len(take) * block.pitch
        if len(take) < len(paragraph):
            cut = True
            break
    if cut and kept:
        *head, last = kept
        kept = [*head, (*last[:-1], _ellipsize(last[-1], block.size, block.bold, width))]
    return FittedBlock(block.size, block.bold, tuple(kept), block.pitch, block.gap, cut=True)


def _ellipsize(line: str, size: int, bold: bool, width: int) -> str:
    text = line
    while text and line_width(text + ELLIPSIS, size, bold) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS
