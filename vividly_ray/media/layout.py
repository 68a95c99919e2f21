"""Where everything on a slide goes, as plain data: positioned text lines and simple marks.

Layouts are computed once per scene from its final content (every bullet), so the font size
and each bullet's position stay put while bullets are revealed one after another. Every item
lies inside the title-safe area; sizes scale with the short side of the frame so one layout
works for 16:9, 9:16 and 1:1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.media.textfit import FittedBlock, fit_block, line_width, overhang
from vividly_ray.media.theme import load_font

# Fraction of each dimension kept clear at every edge (broadcast title-safe is 5-10%).
SAFE_MARGIN = 0.08


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


@dataclass(frozen=True)
class TextLine:
    """One line of text; (x, y) is where its ascender line starts."""

    text: str
    x: int
    y: int
    size: int
    bold: bool
    role: str

    def box(self) -> Box:
        """The room the line was fitted into (ink plus overhang allowance)."""
        width = line_width(self.text, self.size, self.bold)
        ascent, descent = load_font(self.size, self.bold).getmetrics()
        return Box(self.x - overhang(self.size), self.y, width, int(ascent + descent))


@dataclass(frozen=True)
class Mark:
    """A filled shape: a bullet dot (``round``) or a bar."""

    area: Box
    role: str
    round: bool = False

    def box(self) -> Box:
        return self.area


Item = TextLine | Mark


@dataclass(frozen=True)
class SlideLayout:
    """Items always shown, then one group per bullet, revealed cumulatively."""

    width: int
    height: int
    base: tuple[Item, ...]
    steps: tuple[tuple[Item, ...], ...]

    def visible(self, revealed: int) -> tuple[Item, ...]:
        shown = [item for step in self.steps[:revealed] for item in step]
        return (*self.base, *shown)


def safe_area(width: int, height: int) -> Box:
    mx, my = round(width * SAFE_MARGIN), round(height * SAFE_MARGIN)
    return Box(mx, my, width - 2 * mx, height - 2 * my)


def _lines(
    block: FittedBlock, box: Box, top: int, role: str, *, centred: bool = False, indent: int = 0
) -> list[list[TextLine]]:
    """Position a fitted block's lines from ``top``; one list of lines per paragraph."""
    out: list[list[TextLine]] = []
    y = top
    for paragraph in block.paragraphs:
        placed: list[TextLine] = []
        for text in paragraph:
            width = line_width(text, block.size, block.bold)
            left = box.x + (box.width - width) // 2 if centred else box.x + indent
            placed.append(
                TextLine(text, left + overhang(block.size), y, block.size, block.bold, role)
            )
            y += block.pitch
        out.append(placed)
        y += block.gap
    return out


def title_card(
    title: str, subtitle: str, width: int, height: int, scale: float = 1.0
) -> SlideLayout:
    """A large centred title, an accent rule and a subtitle, centred vertically."""
    safe, unit = safe_area(width, height), min(width, height)
    head = fit_block(
        [title],
        width=safe.width,
        max_height=round(safe.height * 0.6),
        max_size=round(unit * 0.11 * scale),
        min_size=round(unit * 0.03),
        bold=True,
        max_lines=4,
    )
    sub = fit_block(
        [subtitle] if subtitle.strip() else [],
        width=safe.width,
        max_height=round(safe.height * 0.28),
        max_size=round(unit * 0.05 * scale),
        min_size=round(unit * 0.02),
    )
    gap, rule_h = round(unit * 0.035), max(2, round(unit * 0.007))
    total = head.height + (2 * gap + rule_h + sub.height if sub.paragraphs else 0)
    top = safe.y + (safe.height - total) // 2
    items: list[Item] = [line for p in _lines(head, safe, top, "title", centred=True) for line in p]
    if sub.paragraphs:
        rule_w = round(safe.width * 0.18)
        rule_y = top + head.height + gap
        items.append(
            Mark(Box(safe.x + (safe.width - rule_w) // 2, rule_y, rule_w, rule_h), "accent")
        )
        sub_top = rule_y + rule_h + gap
        items += [line for p in _lines(sub, safe, sub_top, "muted", centred=True) for line in p]
    return SlideLayout(width, height, tuple(items), ())


def _heading(
    title: str, safe: Box, unit: int, max_em: float, share: float
) -> tuple[list[Item], int]:
    """Title at the top of the safe area with an accent rule; returns items and the next free y."""
    head = fit_block(
        [title],
        width=safe.width,
        max_height=round(safe.height * share),
        max_size=round(unit * max_em),
        min_size=round(unit * 0.025),
        bold=True,
        max_lines=3,
    )
    items: list[Item] = [line for p in _lines(head, safe, safe.y, "title") for line in p]
    rule_y = safe.y + head.height + round(unit * 0.02)
    rule_h = max(2, round(unit * 0.006))
    items.append(
        Mark(Box(safe.x + overhang(head.size), rule_y, round(safe.width * 0.12), rule_h), "accent")
    )
    return items, rule_y + rule_h + round(unit * 0.045)


def bullet_slide(title: str, bullets: Sequence[str], width: int, height: int) -> SlideLayout:
    """Title at the top, then a bullet list with hanging indents and a reveal progress strip."""
    safe, unit = safe_area(width, height), min(width, height)
    base, body_top = _heading(title, safe, unit, 0.075, 0.3)
    strip_h = max(3, round(unit * 0.008)) if len(bullets) > 1 else 0
    strip_y = safe.bottom - strip_h
    body_bottom = strip_y - round(unit * 0.03) if strip_h else safe.bottom
    body = fit_block(
        list(bullets),
        width=safe.width,
        max_height=max(0, body_bottom - body_top),
        max_size=round(unit * 0.058),
        min_size=round(unit * 0.02),
        gap_em=0.45,
        indent_em=1.0,
    )
    indent = round(body.size * 1.0)
    paragraphs = _lines(body, safe, body_top, "text", indent=indent)
    ascent = load_font(body.size, False).getmetrics()[0]
    segments = _strip_segments(safe, strip_y, strip_h, len(bullets))
    diameter = max(4, round(body.size * 0.3))
    steps: list[tuple[Item, ...]] = []
    for i in range(len(bullets)):
        # A bullet cut by truncation has no lines but still fills its strip segment.
        lines = paragraphs[i] if i < len(paragraphs) else []
        step: list[Item] = []
        if lines:
            cy = lines[0].y + ascent - round(body.size * 0.3)
            dot_box = Box(safe.x + overhang(body.size), cy - diameter // 2, diameter, diameter)
            step += [Mark(dot_box, "accent", round=True), *lines]
        if segments:
            step.append(Mark(segments[i], "accent"))
        steps.append(tuple(step))
    track = tuple(Mark(box, "muted") for box in segments)
    return SlideLayout(width, height, (*base, *track), tuple(steps))


def _strip_segments(safe: Box, y: int, h: int, count: int) -> list[Box]:
    """One short bar per bullet along the bottom of the safe area."""
    if h == 0 or count < 2:
        return []
    gap = max(2, h)
    seg_w = min(round(safe.width * 0.08), (safe.width - gap * (count - 1)) // count)
    if seg_w < 2:
        return []  # too many bullets for a readable strip; the list itself shows progress
    return [Box(safe.x + i * (seg_w + gap), y, seg_w, h) for i in range(count)]


def credits_slide(title: str, lines: Sequence[str], width: int, height: int) -> SlideLayout:
    """A heading and every source line at once, shrunk until all of them fit."""
    safe, unit = safe_area(width, height), min(width, height)
    base, body_top = _heading(title, safe, unit, 0.06, 0.2)
    body = fit_block(
        list(lines),
        width=safe.width,
        max_height=max(0, safe.bottom - body_top),
        max_size=round(unit * 0.04),
        min_size=max(6, round(unit * 0.012)),
        gap_em=0.35,
    )
    items = [line for p in _lines(body, safe, body_top, "text") for line in p]
    return SlideLayout(width, height, (*base, *items), ())
