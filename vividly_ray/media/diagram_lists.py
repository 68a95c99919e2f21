"""List-like visuals: numbered steps, key-term cards, check questions, and the key number."""

from __future__ import annotations

import math

from vividly_ray.domain.models import Visual, VisualKind
from vividly_ray.media.diagram_frame import Frame, common_size, place, wrap_at
from vividly_ray.media.layout import (
    Box,
    Item,
    Mark,
    SlideLayout,
    TextLine,
    place_lines,
)
from vividly_ray.media.textfit import fit_block, line_width
from vividly_ray.media.theme import diagram_role

# --- lists: steps, key terms, questions -----------------------------------------------------


def list_layout(frame: Frame, visual: Visual) -> SlideLayout:
    """One row per item: a marker (a numbered disc, or a coloured bar for a term), the label in
    bold and the detail under it; two columns on a wide frame with many items."""
    items = visual.items
    kind = visual.kind
    columns = 2 if frame.width > frame.height and len(items) >= 5 else 1
    per_column = math.ceil(len(items) / columns)
    col_gap = round(frame.unit * 0.05)
    col_w = (frame.body.width - col_gap * (columns - 1)) // columns
    numbered = kind is not VisualKind.KEY_TERMS

    def marker_w(size: int) -> int:
        return round(size * 1.9) if numbered else round(size * 0.55)

    def row_heights(size: int) -> list[int]:
        detail = frame.detail(size)
        text_w = col_w - marker_w(size)
        heights = []
        for item in items:
            h = wrap_at(item.label, size, True, text_w).height
            if item.detail:
                h += wrap_at(item.detail, detail, False, text_w).height
            heights.append(max(h, round(size * 1.5) if numbered else h))
        return heights

    def rows_fit(size: int) -> bool:
        heights, gap = row_heights(size), round(size * 0.7)
        for c in range(columns):
            chunk = heights[c * per_column : (c + 1) * per_column]
            if sum(chunk) + gap * max(0, len(chunk) - 1) > frame.body.height:
                return False
        return True

    size = common_size(frame, round(frame.unit * 0.085), rows_fit)
    heights, gap = row_heights(size), round(size * 0.7)
    detail_size = frame.detail(size)
    base: list[Item] = list(frame.base)
    steps: list[tuple[Item, ...]] = []
    for c in range(columns):
        chunk = list(range(c * per_column, min(len(items), (c + 1) * per_column)))
        used = sum(heights[i] for i in chunk) + gap * max(0, len(chunk) - 1)
        y = frame.body.y + max(0, frame.body.height - used) // 2
        x = frame.body.x + c * (col_w + col_gap)
        for i in chunk:
            item = items[i]
            text_box = Box(x + marker_w(size), y, col_w - marker_w(size), heights[i])
            label = wrap_at(item.label, size, True, text_box.width)
            shown: list[Item] = []
            if numbered:
                disc = round(size * 1.45)
                shown.append(Mark(Box(x, y, disc, disc), diagram_role(i), round=True))
                number = str(i + 1)
                nx = x + (disc - line_width(number, size, True)) // 2
                ny = y + (disc - label.pitch) // 2
                shown.append(
                    TextLine(
                        number, nx + math.ceil(size * 0.05), ny, size, True, "ink", f"{i}.number"
                    )
                )
            else:
                shown.append(
                    Mark(Box(x, y, max(4, round(size * 0.22)), heights[i]), diagram_role(i))
                )
            label_items = place(label, text_box, y, "title", f"{i}.label", False)
            detail_items: list[Item] = []
            if item.detail:
                detail = wrap_at(item.detail, detail_size, False, text_box.width)
                detail_items = place(
                    detail, text_box, y + label.height, "text", f"{i}.detail", False
                )
            if kind is VisualKind.QUESTIONS:
                # Questions are all asked first; each answer appears when it is spoken.
                base += [*shown, *label_items]
                steps.append(tuple(detail_items))
            else:
                steps.append((*shown, *label_items, *detail_items))
            y += heights[i] + gap
    return SlideLayout(frame.width, frame.height, tuple(base), tuple(steps))


# --- key number -----------------------------------------------------------------------------


def key_number_layout(frame: Frame, visual: Visual) -> SlideLayout:
    """The number and unit very large and centred, what it measures under it."""
    body = frame.body
    first, rest = visual.items[0], visual.items[1:]
    number = fit_block(
        [first.label],
        width=body.width,
        max_height=round(body.height * 0.45),
        max_size=round(frame.unit * 0.2),
        min_size=frame.floor,
        bold=True,
        max_lines=3,
    )
    pieces = [(first.detail, "0.detail")] if first.detail else []
    for n, item in enumerate(rest, start=1):
        pieces += [(item.label, f"{n}.label")] + (
            [(item.detail, f"{n}.detail")] if item.detail else []
        )
    details, parts = [t for t, _ in pieces], [p for _, p in pieces]
    room = body.height - number.height - round(frame.unit * 0.05)
    text = fit_block(
        details,
        width=body.width,
        max_height=max(0, room),
        max_size=round(frame.unit * 0.07),
        min_size=min(frame.legible, round(frame.unit * 0.07)),
        gap_em=0.5,
    )
    if text.cut:
        text = fit_block(
            details,
            width=body.width,
            max_height=max(0, room),
            max_size=frame.legible,
            min_size=frame.floor,
            gap_em=0.5,
        )
    space = round(frame.unit * 0.05)
    used = number.height + (space + text.height if details else 0)
    top = body.y + max(0, body.height - used) // 2
    step: list[Item] = place(number, body, top, "accent", "0.label", True)
    if details:
        y = top + number.height + space
        bar_w = round(body.width * 0.2)
        step.append(
            Mark(
                Box(
                    body.x + (body.width - bar_w) // 2,
                    y - space // 2,
                    bar_w,
                    max(3, round(frame.unit * 0.008)),
                ),
                "muted",
            )
        )
        step += [
            line for p in place_lines(text, body, y, "text", centred=True, part=parts) for line in p
        ]
    steps: list[tuple[Item, ...]] = [tuple(step), *(() for _ in rest)]
    return SlideLayout(frame.width, frame.height, frame.base, tuple(steps))
