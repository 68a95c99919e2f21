"""Visuals laid out on a grid or a line: the comparison table, the timeline, the formula."""

from __future__ import annotations

import math
from collections.abc import Sequence

from vividly_ray.domain.models import Visual
from vividly_ray.media.diagram_frame import Frame, common_size, place, whole_words, wrap_at
from vividly_ray.media.layout import (
    Box,
    Item,
    Mark,
    SlideLayout,
    TextLine,
)
from vividly_ray.media.textfit import FittedBlock, largest_size, line_width
from vividly_ray.media.theme import diagram_role

# --- comparison table -----------------------------------------------------------------------


def comparison_layout(frame: Frame, visual: Visual) -> SlideLayout:
    """Column headings (the things compared) on fills, then one row per aspect."""
    items, headings = visual.items, visual.headings
    columns = max(len(headings), max((len(i.cells) for i in items), default=0), 1)
    labelled = any(item.label for item in items)
    body, gap = frame.body, max(4, round(frame.unit * 0.015))
    label_w = round(body.width * 0.26) if labelled else 0
    cell_w = (body.width - label_w - gap * columns) // columns
    pad = round(frame.unit * 0.012)

    def cell_texts(item_cells: Sequence[str]) -> list[str]:
        return [item_cells[c] if c < len(item_cells) else "" for c in range(columns)]

    def heights(size: int) -> tuple[int, list[int]]:
        small = size
        head = max((wrap_at(h, size, True, cell_w - 2 * pad).height for h in headings), default=0)
        rows = []
        for item in items:
            parts = [
                wrap_at(t, small, False, cell_w - 2 * pad).height for t in cell_texts(item.cells)
            ]
            if labelled:
                parts.append(wrap_at(item.label, small, True, label_w - pad).height)
            rows.append(max(parts, default=0) + 2 * pad)
        return head + 2 * pad, rows

    def fits(size: int) -> bool:
        head, rows = heights(size)
        values = [c for item in items for c in item.cells]
        return (
            head + sum(rows) + gap * len(rows) <= body.height
            and whole_words(headings, size, True, cell_w - 2 * pad)
            and whole_words(values, size, False, cell_w - 2 * pad)
        )

    size = common_size(frame, round(frame.unit * 0.065), fits)
    small = size
    head_h, row_hs = heights(size)
    used = head_h + sum(row_hs) + gap * len(row_hs)
    y = body.y + max(0, body.height - used) // 2
    base: list[Item] = list(frame.base)
    for c, title in enumerate(headings):
        cell = Box(body.x + label_w + gap + c * (cell_w + gap), y, cell_w, head_h)
        base.append(Mark(cell, diagram_role(c), corner=round(frame.unit * 0.012)))
        text = wrap_at(title, size, True, cell_w - 2 * pad)
        inner = Box(cell.x + pad, y, cell_w - 2 * pad, head_h)
        base += place(text, inner, y + pad, "ink", f"heading{c}", True)
    y += head_h + gap
    steps: list[tuple[Item, ...]] = []
    for r, item in enumerate(items):
        row: list[Item] = [Mark(Box(body.x, y + row_hs[r], body.width, max(2, gap // 3)), "muted")]
        if labelled:
            text = wrap_at(item.label, small, True, label_w - pad)
            row += place(
                text,
                Box(body.x, y, label_w - pad, row_hs[r]),
                y + pad,
                "title",
                f"{r}.label",
                False,
            )
        for c, value in enumerate(cell_texts(item.cells)):
            if not value:
                continue
            x = body.x + label_w + gap + c * (cell_w + gap)
            text = wrap_at(value, small, False, cell_w - 2 * pad)
            row += place(
                text,
                Box(x + pad, y, cell_w - 2 * pad, row_hs[r]),
                y + pad,
                "text",
                f"{r}.cell{c}",
                False,
            )
        steps.append(tuple(row))
        y += row_hs[r] + gap
    return SlideLayout(frame.width, frame.height, tuple(base), tuple(steps))


# --- timeline -------------------------------------------------------------------------------


def timeline_layout(frame: Frame, visual: Visual) -> SlideLayout:
    """Dated events along a line: across a wide frame, down a tall or square one."""
    if frame.width > frame.height * 1.2:
        return _timeline_across(frame, visual)
    return _timeline_down(frame, visual)


def _timeline_across(frame: Frame, visual: Visual) -> SlideLayout:
    items, body = visual.items, frame.body
    slot = body.width // len(items)
    inner = slot - round(frame.unit * 0.03)
    axis_h = max(4, round(frame.unit * 0.01))

    def blocks(size: int) -> list[tuple[FittedBlock, FittedBlock]]:
        small = frame.detail(size)
        return [
            (wrap_at(i.label, size, True, inner), wrap_at(i.detail, small, False, inner))
            for i in items
        ]

    def fits(size: int) -> bool:
        above = max(d.height for d, _ in blocks(size))
        below = max(e.height for _, e in blocks(size))
        words = whole_words([i.label for i in items], size, True, inner) and whole_words(
            [i.detail for i in items], frame.detail(size), False, inner
        )
        return words and above + below + size * 2 + axis_h <= body.height

    size = common_size(frame, round(frame.unit * 0.065), fits)
    fitted = blocks(size)
    above = max(d.height for d, _ in fitted)
    below = max(e.height for _, e in fitted)
    used = above + below + size * 2 + axis_h
    axis_y = body.y + max(0, body.height - used) // 2 + above + size
    base: list[Item] = [*frame.base, Mark(Box(body.x, axis_y, body.width, axis_h), "muted")]
    steps: list[tuple[Item, ...]] = []
    dot = round(size * 0.8)
    for n, (date, event) in enumerate(fitted):
        x = body.x + n * slot + (slot - inner) // 2
        column = Box(x, body.y, inner, body.height)
        centre = x + inner // 2
        step: list[Item] = [
            Mark(
                Box(centre - dot // 2, axis_y + axis_h // 2 - dot // 2, dot, dot),
                diagram_role(n),
                round=True,
            )
        ]
        step += place(date, column, axis_y - size // 2 - date.height, "accent", f"{n}.label", True)
        step += place(event, column, axis_y + axis_h + size, "text", f"{n}.detail", True)
        steps.append(tuple(step))
    return SlideLayout(frame.width, frame.height, tuple(base), tuple(steps))


def _timeline_down(frame: Frame, visual: Visual) -> SlideLayout:
    items, body = visual.items, frame.body
    axis_w = max(4, round(frame.unit * 0.01))

    def offset(size: int) -> int:
        return round(size * 1.4)

    def heights(size: int) -> list[int]:
        small, width = frame.detail(size), body.width - offset(size)
        return [
            wrap_at(i.label, size, True, width).height
            + wrap_at(i.detail, small, False, width).height
            for i in items
        ]

    def fits(size: int) -> bool:
        return sum(heights(size)) + round(size * 0.8) * (len(items) - 1) <= body.height

    size = common_size(frame, round(frame.unit * 0.065), fits)
    rows, gap = heights(size), round(size * 0.8)
    used = sum(rows) + gap * (len(items) - 1)
    y = body.y + max(0, body.height - used) // 2
    dot = round(size * 0.8)
    axis_x = body.x + dot // 2 - axis_w // 2
    base: list[Item] = [*frame.base, Mark(Box(axis_x, y, axis_w, used), "muted")]
    steps: list[tuple[Item, ...]] = []
    text_box = Box(body.x + offset(size), body.y, body.width - offset(size), body.height)
    for n, item in enumerate(items):
        date = wrap_at(item.label, size, True, text_box.width)
        event = wrap_at(item.detail, frame.detail(size), False, text_box.width)
        step: list[Item] = [
            Mark(Box(body.x, y + (date.pitch - dot) // 2, dot, dot), diagram_role(n), round=True)
        ]
        step += place(date, text_box, y, "accent", f"{n}.label", False)
        step += place(event, text_box, y + date.height, "text", f"{n}.detail", False)
        steps.append(tuple(step))
        y += rows[n] + gap
    return SlideLayout(frame.width, frame.height, tuple(base), tuple(steps))


# --- formula --------------------------------------------------------------------------------


def formula_layout(frame: Frame, visual: Visual) -> SlideLayout:
    """The equation's parts on fills with its operators between them, in a row when it fits
    across, else stacked; a part with a detail (what a symbol stands for) has it under it."""
    items, ops, body = visual.items, visual.headings, frame.body
    pad = round(frame.unit * 0.02)

    def op(n: int) -> str:
        return ops[n - 1] if n - 1 < len(ops) else ""

    def row_width(size: int) -> int:
        parts = sum(line_width(i.label, size, True) + 2 * pad for i in items)
        return parts + sum(line_width(op(n), size, True) + 2 * pad for n in range(1, len(items)))

    def detail_height(size: int, width: int) -> int:
        small = frame.detail(size, 0.55)
        return sum(wrap_at(i.detail, small, False, width).height for i in items if i.detail)

    def across(size: int) -> bool:
        pitch = wrap_at("x", size, True, body.width).pitch
        return (
            row_width(size) <= body.width
            and pitch + 2 * pad + detail_height(size, body.width) + size <= body.height
        )

    def stack_height(size: int) -> int:
        parts = sum(
            wrap_at(i.label, size, True, body.width - 2 * pad).height + 2 * pad for i in items
        )
        return parts + wrap_at("x", size, True, body.width).pitch * (len(items) - 1)

    def down(size: int) -> bool:
        return stack_height(size) + detail_height(size, body.width) + size <= body.height

    top = round(frame.unit * 0.12)
    across_size = largest_size(frame.floor, top, across) or 0
    down_size = largest_size(frame.floor, top, down) or 0
    size = max(across_size, down_size, frame.floor)
    small = frame.detail(size, 0.55)
    steps: list[tuple[Item, ...]] = []
    corner = round(frame.unit * 0.02)
    if across_size >= down_size and across_size:
        pitch = wrap_at("x", size, True, body.width).pitch
        total = pitch + 2 * pad + size + detail_height(size, body.width)
        y = body.y + max(0, body.height - total) // 2
        x = body.x + (body.width - row_width(size)) // 2
        detail_y = y + pitch + 2 * pad + size
        for n, item in enumerate(items):
            step: list[Item] = []
            if n:
                sign = op(n)
                step.append(TextLine(sign, x + pad, y + pad, size, True, "title", f"op{n - 1}"))
                x += line_width(sign, size, True) + 2 * pad
            w = line_width(item.label, size, True) + 2 * pad
            step.append(Mark(Box(x, y, w, pitch + 2 * pad), diagram_role(n), corner=corner))
            step.append(
                TextLine(
                    item.label,
                    x + pad + math.ceil(size * 0.05),
                    y + pad,
                    size,
                    True,
                    "ink",
                    f"{n}.label",
                )
            )
            x += w
            if item.detail:
                text = wrap_at(item.detail, small, False, body.width)
                step += place(text, body, detail_y, "text", f"{n}.detail", True)
                detail_y += text.height
            steps.append(tuple(step))
        return SlideLayout(frame.width, frame.height, frame.base, tuple(steps))
    total = stack_height(size) + size + detail_height(size, body.width)
    y = body.y + max(0, body.height - total) // 2
    details: list[tuple[int, FittedBlock]] = []
    for n, item in enumerate(items):
        step = []
        if n:
            sign_block = wrap_at(op(n), size, True, body.width)
            step += place(sign_block, body, y, "title", f"op{n - 1}", True)
            y += sign_block.pitch
        label = wrap_at(item.label, size, True, body.width - 2 * pad)
        card = Box(body.x, y, body.width, label.height + 2 * pad)
        step.append(Mark(card, diagram_role(n), corner=corner))
        step += place(
            label,
            Box(body.x + pad, y, body.width - 2 * pad, card.height),
            y + pad,
            "ink",
            f"{n}.label",
            True,
        )
        y += card.height
        steps.append(tuple(step))
        if item.detail:
            details.append((n, wrap_at(item.detail, small, False, body.width)))
    y += size
    for n, text in details:
        steps[n] = (*steps[n], *place(text, body, y, "text", f"{n}.detail", True))
        y += text.height
    return SlideLayout(frame.width, frame.height, frame.base, tuple(steps))
