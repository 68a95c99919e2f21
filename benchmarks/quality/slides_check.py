"""Slides drawn by the real ``SlideRenderer`` from estimated timings, measured on its stills.

For every scene, ``render_scene`` writes one still per distinct state (as the encoder has it do).
On each still, a pixel is content when it differs from the theme's background colour.
- Contrast: the solid content colours (a pixel whose four neighbours share its colour, on at
  least 20 such pixels, which leaves out anti-aliased edges) against the background, as WCAG 2
  contrast ratios; the lowest is reported (4.5 is WCAG AA for normal text).
- Title-safe: a frame breaks it when any content pixel lies outside the central 90% of the width
  and of the height.
- Frame use: the area of the bounding box of all content pixels over the frame's area, taken on
  each scene's last (fully revealed) state. Two layout figures sit beside it, since marks such
  as the reveal strip along the bottom widen the pixel box without carrying words:
  ``text_bbox_share``, the bounding box of the text lines' boxes over the frame's area, and
  ``text_area_share``, the summed area of the text lines' boxes over the frame's area.
From the layout (``SlideRenderer.layout``):
- Smallest text: the smallest font size of any drawn line, in pixels and over the frame height.
- Overflow: a scene whose drawn lines, with white space removed, are not exactly its title and
  bullets with white space removed (text cut by the fitter), or whose lines hold an ellipsis.
  For a scene with a visual, each piece of the visual's text (title, headings, every item's
  label, detail and cells) must be drawn whole: the lines of each drawn piece (``TextLine.part``)
  joined, white space removed, must be exactly the pieces of the visual, nothing more (the
  numbers of steps, stages and questions aside), nothing less.
- Frame use is also reported by visual kind (``bullets`` for a concept or recap scene without
  a visual).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vividly_ray.domain.models import RenderSpec, Scene, SceneKind, Script
from vividly_ray.media.layout import Box, TextLine
from vividly_ray.media.slides import SUBTITLE_SEPARATOR, SlideRenderer
from vividly_ray.media.textfit import ELLIPSIS
from vividly_ray.media.theme import RGB, contrast_ratio

from .timing import estimated_audio

TITLE_SAFE = 0.9
MIN_SOLID_PIXELS = 20


def title_safe_box(width: int, height: int) -> Box:
    mx, my = round(width * (1 - TITLE_SAFE) / 2), round(height * (1 - TITLE_SAFE) / 2)
    return Box(mx, my, width - 2 * mx, height - 2 * my)


@dataclass(frozen=True)
class FrameFigures:
    """What one still shows."""

    min_contrast: float
    colours: tuple[RGB, ...]
    outside_safe_pixels: int
    bbox_share: float


Pixels = np.ndarray[Any, np.dtype[np.uint8]]
Packed = np.ndarray[Any, np.dtype[np.uint32]]


def pack(pixels: Pixels) -> Packed:
    """Each RGB pixel as one integer 0xRRGGBB, so colour comparisons are single operations."""
    wide = pixels.astype(np.uint32)
    return (wide[..., 0] << 16 | wide[..., 1] << 8 | wide[..., 2]).astype(np.uint32)


def _rgb(code: int) -> RGB:
    return (code >> 16) & 255, (code >> 8) & 255, code & 255


def solid_colours(packed: Packed, content: np.ndarray[Any, np.dtype[np.bool_]]) -> tuple[RGB, ...]:
    """Colours of content pixels whose four neighbours have the same colour (the inside of
    strokes and marks; anti-aliased edges almost never are), each on at least
    ``MIN_SOLID_PIXELS`` such pixels."""
    core = packed[1:-1, 1:-1]
    inner = content[1:-1, 1:-1].copy()
    height, width = packed.shape
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        inner &= packed[1 + dy : height - 1 + dy, 1 + dx : width - 1 + dx] == core
    codes, counts = np.unique(core[inner], return_counts=True)
    return tuple(_rgb(int(code)) for code in codes[counts >= MIN_SOLID_PIXELS])


def measure_frame(pixels: Pixels, background: RGB) -> FrameFigures:
    """Figures of one RGB frame (height x width x 3) drawn on ``background``."""
    height, width = pixels.shape[:2]
    packed = pack(pixels)
    content = packed != (background[0] << 16 | background[1] << 8 | background[2])
    if not content.any():
        return FrameFigures(21.0, (), 0, 0.0)
    safe = title_safe_box(width, height)
    inside = np.zeros_like(content)
    inside[safe.y : safe.bottom, safe.x : safe.right] = True
    rows, cols = np.nonzero(content)
    bbox = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    colours = solid_colours(packed, content)
    if not colours:  # strokes too thin to have an inside: the most frequent content colour
        codes, counts = np.unique(packed[content], return_counts=True)
        colours = (_rgb(int(codes[int(np.argmax(counts))])),)
    return FrameFigures(
        min_contrast=min(contrast_ratio(c, background) for c in colours),
        colours=colours,
        outside_safe_pixels=int(np.count_nonzero(content & ~inside)),
        bbox_share=float(bbox) / (width * height),
    )


def visual_pieces(scene: Scene) -> list[str]:
    """The text a scene with a visual must show, piece by piece (white space removed)."""
    visual = scene.visual
    if visual is None:
        return []
    pieces = [scene.title, *visual.headings]
    for item in visual.items:
        pieces += [item.label, item.detail, *item.cells]
    return sorted(_squeezed(p) for p in pieces if p.strip())


def drawn_pieces(lines: Sequence[TextLine]) -> list[str]:
    """The drawn text by piece, item numbers left out (they are the layout's, not the text's)."""
    joined: dict[str, str] = {}
    for line in lines:
        if not line.part.endswith(".number"):
            joined[line.part] = joined.get(line.part, "") + line.text
    return sorted(_squeezed(text) for text in joined.values())


def overflows(scene: Scene, lines: Sequence[TextLine]) -> bool:
    drawn = "".join(line.text for line in lines)
    if ELLIPSIS in drawn:
        return True
    if scene.visual is not None and scene.kind is not SceneKind.TITLE:
        return drawn_pieces(lines) != visual_pieces(scene)
    return _squeezed(drawn) != _squeezed(expected_text(scene))


def visual_kind(scene: Scene) -> str:
    if scene.visual is not None:
        return scene.visual.kind.value
    return "bullets" if scene.kind in (SceneKind.CONCEPT, SceneKind.RECAP) else scene.kind.value


def expected_text(scene: Scene) -> str:
    if scene.kind is SceneKind.TITLE:
        return scene.title + SUBTITLE_SEPARATOR.join(scene.bullets)
    return scene.title + "".join(scene.bullets)


def _squeezed(text: str) -> str:
    return "".join(text.split())


@dataclass
class SlideCheck:
    """Slide figures of one lesson."""

    frames: int = 0
    min_contrast: float = 21.0
    colours: set[RGB] = field(default_factory=set)
    min_text_px: int = 0
    outside_safe_frames: int = 0
    overflow: list[str] = field(default_factory=list)
    bbox_share: dict[str, list[float]] = field(default_factory=dict)  # by scene kind
    visual_share: dict[str, list[float]] = field(default_factory=dict)  # by visual kind
    text_area_share: list[float] = field(default_factory=list)
    text_bbox_share: list[float] = field(default_factory=list)
    frame_height: int = 0

    def to_dict(self) -> dict[str, Any]:
        shares = [s for values in self.bbox_share.values() for s in values]
        return {
            "frames": self.frames,
            "min_contrast": round(self.min_contrast, 2),
            "content_colours": sorted(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in self.colours),
            "min_text_px": self.min_text_px,
            "min_text_share_of_height": round(self.min_text_px / self.frame_height, 4)
            if self.frame_height
            else None,
            "outside_title_safe_frames": self.outside_safe_frames,
            "overflow_scenes": self.overflow,
            "frame_use_mean": round(sum(shares) / len(shares), 3) if shares else None,
            "frame_use_by_kind": {
                kind: round(sum(v) / len(v), 3) for kind, v in sorted(self.bbox_share.items())
            },
            "frame_use_by_visual": {
                kind: round(sum(v) / len(v), 3) for kind, v in sorted(self.visual_share.items())
            },
            "scenes_by_visual": {kind: len(v) for kind, v in sorted(self.visual_share.items())},
            "text_bbox_share_mean": _mean(self.text_bbox_share),
            "text_area_share_mean": _mean(self.text_area_share),
        }


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _text_lines(renderer: SlideRenderer, scene: Scene) -> Sequence[TextLine]:
    layout = renderer.layout(scene)
    items = layout.visible(len(layout.steps))
    return [item for item in items if isinstance(item, TextLine)]


def check_slides(
    script: Script, spec: RenderSpec, scratch: Path, keep: Path | None = None
) -> SlideCheck:
    """Draw every scene into ``scratch`` and measure; ``keep`` receives a PNG of each still."""
    renderer = SlideRenderer(spec)
    background = renderer.theme.background
    result = SlideCheck(frame_height=spec.height)
    sizes: list[int] = []
    for scene in script.scenes:
        lines = _text_lines(renderer, scene)
        sizes += [line.size for line in lines]
        if overflows(scene, lines):
            result.overflow.append(f"{scene.index}: {scene.title}")
        boxes = [line.box() for line in lines]
        frame_area = spec.width * spec.height
        result.text_area_share.append(sum(b.width * b.height for b in boxes) / frame_area)
        if boxes:
            width = max(b.right for b in boxes) - min(b.x for b in boxes)
            height = max(b.bottom for b in boxes) - min(b.y for b in boxes)
            result.text_bbox_share.append(width * height / frame_area)
        frames = renderer.render_scene(scene, estimated_audio(scene, script.grade), scratch)
        for number, frame in enumerate(frames):
            with Image.open(frame.path) as image:
                figures = measure_frame(np.asarray(image.convert("RGB")), background)
            result.frames += 1
            result.min_contrast = min(result.min_contrast, figures.min_contrast)
            result.colours.update(figures.colours)
            result.outside_safe_frames += figures.outside_safe_pixels > 0
            if number == len(frames) - 1:
                result.bbox_share.setdefault(scene.kind.value, []).append(figures.bbox_share)
                result.visual_share.setdefault(visual_kind(scene), []).append(figures.bbox_share)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                # Kept as PNG for people to look at; the encoder's own stills are raw PPM.
                with Image.open(frame.path) as still:
                    still.save(keep / frame.path.with_suffix(".png").name, format="PNG")
            frame.path.unlink()
    result.min_text_px = min(sizes) if sizes else 0
    return result
