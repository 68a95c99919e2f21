"""Layouts of the visuals beyond bullets: each kind drawn over the whole body of the frame.

Every layout is a ``SlideLayout``: the title and fixed decorations in ``base``, then one group
per visual item, in item order, revealed as the narration reaches each item. Text is fitted at
one common size per layout, at least ``legible_size`` where the words allow, and shrinks (never
cut) before it would leave its box. Diagram fills come from the theme's colour-vision-safe
``diagram`` roles, with ``ink`` text on them; numbers, labels and positions carry the meaning.
"""

from __future__ import annotations

from collections.abc import Callable

from vividly_ray.domain.models import Visual, VisualKind
from vividly_ray.media.diagram_cycle import cycle_layout
from vividly_ray.media.diagram_frame import Frame, frame_for
from vividly_ray.media.diagram_lists import key_number_layout, list_layout
from vividly_ray.media.diagram_tables import comparison_layout, formula_layout, timeline_layout
from vividly_ray.media.layout import SlideLayout

LAYOUTS: dict[VisualKind, Callable[[Frame, Visual], SlideLayout]] = {
    VisualKind.BULLETS: list_layout,
    VisualKind.STEPS: list_layout,
    VisualKind.KEY_TERMS: list_layout,
    VisualKind.QUESTIONS: list_layout,
    VisualKind.CYCLE: cycle_layout,
    VisualKind.COMPARISON: comparison_layout,
    VisualKind.KEY_NUMBER: key_number_layout,
    VisualKind.TIMELINE: timeline_layout,
    VisualKind.FORMULA: formula_layout,
}


def visual_slide(title: str, visual: Visual, width: int, height: int) -> SlideLayout:
    """The slide of a scene with a visual; a visual without items shows its title alone."""
    frame = frame_for(title, width, height)
    if not visual.items:
        return SlideLayout(width, height, frame.base, ())
    return LAYOUTS[visual.kind](frame, visual)
