"""The cycle: numbered stage cards on a ring (wide frames) or down a column with a return
arrow (tall and square frames), arrows from each stage to the next."""

from __future__ import annotations

import math

from vividly_ray.domain.models import Visual
from vividly_ray.media.diagram_frame import Frame, common_size, place, whole_words, wrap_at
from vividly_ray.media.layout import (
    Box,
    Item,
    Mark,
    Shape,
    SlideLayout,
    TextLine,
)
from vividly_ray.media.textfit import FittedBlock, fit_block, line_width
from vividly_ray.media.theme import diagram_role

# --- cycle ----------------------------------------------------------------------------------


def _arrow(start: tuple[float, float], end: tuple[float, float], size: int) -> Shape | None:
    """A shaft and head from ``start`` to ``end``; None when the two are too close."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    if length < size * 1.2:
        return None
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    px, py = -uy, ux
    shaft, head, head_len = size * 0.16, size * 0.45, size * 0.75
    bx, by = x1 - ux * head_len, y1 - uy * head_len
    points = [
        (x0 + px * shaft, y0 + py * shaft),
        (bx + px * shaft, by + py * shaft),
        (bx + px * head, by + py * head),
        (x1, y1),
        (bx - px * head, by - py * head),
        (bx - px * shaft, by - py * shaft),
        (x0 - px * shaft, y0 - py * shaft),
    ]
    return Shape(tuple((round(x), round(y)) for x, y in points), "accent")


def _exit(box: Box, toward: tuple[float, float], pad: float) -> tuple[float, float]:
    """Where the line from the box's centre toward a point leaves the box (plus ``pad``)."""
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    scale = min(
        (box.width / 2 + pad) / abs(dx) if dx else math.inf,
        (box.height / 2 + pad) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def _cycle_cards(frame: Frame, count: int) -> list[Box]:
    """Card boxes on an ellipse, clockwise from the top, as large as they can be without
    touching each other."""
    inset = round(frame.unit * 0.03)  # room for the number badges at the cards' corners
    body = Box(
        frame.body.x + inset,
        frame.body.y + inset,
        frame.body.width - inset,
        frame.body.height - inset,
    )
    share_w, share_h = (0.34, 0.26) if frame.width >= frame.height else (0.48, 0.22)
    for _ in range(30):
        cw, ch = round(body.width * share_w), round(body.height * share_h)
        rx, ry = (body.width - cw) / 2, (body.height - ch) / 2
        cx, cy = body.x + body.width / 2, body.y + body.height / 2
        cards = []
        for i in range(count):
            angle = -math.pi / 2 + 2 * math.pi * i / count
            x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
            cards.append(Box(round(x - cw / 2), round(y - ch / 2), cw, ch))
        gap = frame.unit * 0.03
        if all(
            a.right + gap <= b.x
            or b.right + gap <= a.x
            or a.bottom + gap <= b.y
            or b.bottom + gap <= a.y
            for n, a in enumerate(cards)
            for b in cards[n + 1 :]
        ):
            return cards
        share_w, share_h = share_w * 0.92, share_h * 0.92
    return cards


def _cycle_column(frame: Frame, count: int) -> list[Box]:
    """On a tall frame: cards down the middle, leaving a lane at the right for the arrow that
    brings the last stage back to the first."""
    inset = round(frame.unit * 0.03)
    body = frame.body
    lane = round(body.width * 0.14)
    gap = round(body.height * 0.06)
    card_h = min(round(body.height * 0.2), (body.height - inset - gap * (count - 1)) // count)
    used = card_h * count + gap * (count - 1)
    top = body.y + inset + max(0, body.height - inset - used) // 2
    width = body.width - inset - lane
    return [Box(body.x + inset, top + n * (card_h + gap), width, card_h) for n in range(count)]


def _loop_back(last: Box, first: Box, frame: Frame, size: int) -> list[Item]:
    """Bars from the last card's right side up the lane and into the first card, and a head."""
    thick = max(4, round(size * 0.16))
    lane_x = frame.body.right - round(frame.body.width * 0.07)
    low, high = last.y + last.height // 2, first.y + first.height // 2
    head = round(size * 0.45)
    tip = first.right + round(size * 0.3)
    return [
        Mark(
            Box(last.right + thick, low - thick // 2, lane_x - last.right - thick, thick), "accent"
        ),
        Mark(Box(lane_x - thick // 2, high - thick // 2, thick, low - high + thick), "accent"),
        Mark(Box(tip + head, high - thick // 2, lane_x - tip - head, thick), "accent"),
        Shape(
            ((tip, high), (tip + head + 2, high - head), (tip + head + 2, high + head)), "accent"
        ),
    ]


def cycle_layout(frame: Frame, visual: Visual) -> SlideLayout:
    items = visual.items
    column = frame.width <= frame.height
    cards = _cycle_column(frame, len(items)) if column else _cycle_cards(frame, len(items))
    pad = round(frame.unit * 0.018)

    def block(i: int, size: int) -> FittedBlock:
        inner = cards[i].width - 2 * pad
        return fit_block(
            [items[i].label],
            width=inner,
            max_height=10**6,
            max_size=size,
            min_size=size,
            bold=True,
        )

    def fits(size: int) -> bool:
        return all(
            block(i, size).height <= cards[i].height - 2 * pad
            and whole_words([items[i].label], size, True, cards[i].width - 2 * pad)
            for i in range(len(items))
        )

    size = common_size(frame, round(frame.unit * 0.075), fits)
    arrow_size = max(8, round(frame.unit * 0.04))
    steps: list[tuple[Item, ...]] = []
    for i, card in enumerate(cards):
        text = block(i, size)
        top = card.y + max(0, card.height - text.height) // 2
        inner = Box(card.x + pad, card.y, card.width - 2 * pad, card.height)
        step: list[Item] = [Mark(card, diagram_role(i), corner=round(frame.unit * 0.02))]
        step += place(text, inner, top, "ink", f"{i}.label", True)
        # The stage's number on a badge at the card's corner: the order never rests on colour.
        digit = max(frame.legible, round(size * 0.8))
        badge = round(digit * 1.5)
        number = str(i + 1)
        bx, by = card.x - badge // 4, card.y - badge // 4
        step.append(Mark(Box(bx, by, badge, badge), "ink", round=True))
        nx = bx + (badge - line_width(number, digit, True)) // 2 + math.ceil(digit * 0.05)
        ny = by + (badge - wrap_at(number, digit, True, badge).pitch) // 2
        step.append(TextLine(number, nx, ny, digit, True, "accent", f"{i}.number"))
        if i > 0:
            step += _arrows_between(cards[i - 1], card, arrow_size)
        if i == len(cards) - 1 and len(cards) > 2:  # the cycle closes
            if column:
                step += _loop_back(card, cards[0], frame, arrow_size)
            else:
                step += _arrows_between(card, cards[0], arrow_size)
        steps.append(tuple(step))
    return SlideLayout(frame.width, frame.height, frame.base, tuple(steps))


def _arrows_between(a: Box, b: Box, size: int) -> list[Item]:
    centre_a = (a.x + a.width / 2, a.y + a.height / 2)
    centre_b = (b.x + b.width / 2, b.y + b.height / 2)
    gap = size * 0.3
    arrow = _arrow(_exit(a, centre_b, gap), _exit(b, centre_a, gap), size)
    return [arrow] if arrow is not None else []
