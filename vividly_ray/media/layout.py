"""Where everything on a slide goes, as plain data: positioned text lines and simple marks.

Layouts are computed once per scene from its final content (every bullet), so the font size
and each bullet's position stay put while bullets are revealed one after another. Every item
lies inside the title-safe area; sizes scale with the short side of the frame so one layout
works for 16:9, 9:16 and 1:1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vividly_ray.media.textfit import FittedBlock, fit_whole, line_width, overhang
from vividly_ray.media.theme import load_font

# Fraction of each dimension kept clear at every edge (broadcast title-safe is 5-10%; the
# quality harness checks the central 90%).
SAFE_MARGIN = 0.06
# Smallest body text, as a share of the frame height: about what a caption line is, read on a
# phone held at arm's length. Text goes below it only rather than lose words.
LEGIBLE_SHARE = 0.034
LAST_RESORT_SHARE = 0.02


def legible_size(height: int) -> int:
    return math.ceil(height * LEGIBLE_SHARE)


def last_resort_size(height: int) -> int:
    return max(6, math.ceil(height * LAST_RESORT_SHARE))


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
    part: str = ""  # which piece of the slide's text this line belongs to ("title", "2.label")

    def box(self) -> Box:
        """The room the line was fitted into (ink plus overhang allowance)."""
        width = line_width(self.text, self.size, self.bold)
        ascent, descent = load_font(self.size, self.bold).getmetrics()
        return Box(self.x - overhang(self.size), self.y, width, int(ascent + descent))


@dataclass(frozen=True)
class Mark:
    """A filled shape: a bullet dot (``round``), a bar, or a card with rounded ``corner``s."""

    area: Box
    role: str
    round: bool = False
    corner: int = 0

    def box(self) -> Box:
        return self.area


@dataclass(frozen=True)
class Shape:
    """A filled polygon (an arrow of a cycle); points in pixels."""

    points: tuple[tuple[int, int], ...]
    role: str

    def box(self) -> Box:
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return Box(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)


Item = TextLine | Mark | Shape


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


def place_lines(
    block: FittedBlock,
    box: Box,
    top: int,
    role: str,
    *,
    centred: bool = False,
    indent: int = 0,
    part: str | Sequence[str] = "",
) -> list[list[TextLine]]:
    """Position a fitted block's lines from ``top``; one list of lines per paragraph.
    ``part`` names the text piece of every paragraph (one name, or one per paragraph)."""
    out: list[list[TextLine]] = []
    y = top
    for number, paragraph in enumerate(block.paragraphs):
        placed: list[TextLine] = []
        name = part if isinstance(part, str) else part[number]
        for text in paragraph:
            width = line_width(text, block.size, block.bold)
            left = box.x + (box.width - width) // 2 if centred else box.x + indent
            placed.append(
                TextLine(text, left + overhang(block.size), y, block.size, block.bold, role, name)
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
    head = fit_whole(
        [title],
        width=safe.width,
        max_height=round(safe.height * 0.62),
        max_size=round(unit * 0.15 * scale),
        min_size=legible_size(height),
        floor=last_resort_size(height),
        bold=True,
        max_lines=4,
    )
    sub = fit_whole(
        [subtitle] if subtitle.strip() else [],
        width=safe.width,
        max_height=round(safe.height * 0.28),
        max_size=round(unit * 0.065 * scale),
        min_size=legible_size(height),
        floor=last_resort_size(height),
    )
    gap, rule_h = round(unit * 0.045), max(3, round(unit * 0.01))
    total = head.height + (2 * gap + rule_h + sub.height if sub.paragraphs else 0)
    top = safe.y + (safe.height - total) // 2
    items: list[Item] = [
        line
        for p in place_lines(head, safe, top, "title", centred=True, part="title")
        for line in p
    ]
    if sub.paragraphs:
        rule_w = round(safe.width * 0.25)
        rule_y = top + head.height + gap
        items.append(
            Mark(Box(safe.x + (safe.width - rule_w) // 2, rule_y, rule_w, rule_h), "accent")
        )
        sub_top = rule_y + rule_h + gap
        sub_lines = place_lines(sub, safe, sub_top, "muted", centred=True, part="subtitle")
        items += [line for p in sub_lines for line in p]
    return SlideLayout(width, height, tuple(items), ())


def heading(
    title: str, safe: Box, unit: int, max_em: float, share: float, height: int
) -> tuple[list[Item], int]:
    """Title at the top of the safe area with an accent rule; returns items and the next free y."""
    head = fit_whole(
        [title],
        width=safe.width,
        max_height=round(safe.height * share),
        max_size=round(unit * max_em),
        min_size=legible_size(height),
        floor=last_resort_size(height),
        bold=True,
        max_lines=3,
    )
    items: list[Item] = [
        line for p in place_lines(head, safe, safe.y, "title", part="title") for line in p
    ]
    rule_y = safe.y + head.height + round(unit * 0.02)
    rule_h = max(2, round(unit * 0.006))
    items.append(
        Mark(Box(safe.x + overhang(head.size), rule_y, round(safe.width * 0.12), rule_h), "accent")
    )
    return items, rule_y + rule_h + round(unit * 0.04)


def bullet_slide(title: str, bullets: Sequence[str], width: int, height: int) -> SlideLayout:
    """Title at the top, then a bullet list with hanging indents and a reveal progress strip."""
    safe, unit = safe_area(width, height), min(width, height)
    base, body_top = heading(title, safe, unit, 0.085, 0.3, height)
    strip_h = max(3, round(unit * 0.008)) if len(bullets) > 1 else 0
    strip_y = safe.bottom - strip_h
    body_bottom = strip_y - round(unit * 0.03) if strip_h else safe.bottom
    room = max(0, body_bottom - body_top)
    body = fit_whole(
        list(bullets),
        width=safe.width,
        max_height=room,
        max_size=round(unit * 0.075),
        min_size=legible_size(height),
        floor=last_resort_size(height),
        gap_em=0.6,
        indent_em=1.0,
    )
    indent = round(body.size * 1.0)
    # Balanced in the room below the title rather than hanging from it.
    top = body_top + max(0, room - body.height) // 2
    names = [f"{i}.label" for i in range(len(body.paragraphs))]
    paragraphs = place_lines(body, safe, top, "text", indent=indent, part=names)
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
    base, body_top = heading(title, safe, unit, 0.06, 0.2, height)
    # Every source must be on the credits, so this text may go as small as it must.
    body = fit_whole(
        list(lines),
        width=safe.width,
        max_height=max(0, safe.bottom - body_top),
        max_size=round(unit * 0.045),
        min_size=legible_size(height),
        floor=max(6, round(unit * 0.012)),
        gap_em=0.35,
    )
    names = [f"{i}.label" for i in range(len(body.paragraphs))]
    items = [line for p in place_lines(body, safe, body_top, "text", part=names) for line in p]
    return SlideLayout(width, height, (*base, *items), ())
