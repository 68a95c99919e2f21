"""Slide pictures drawn with Pillow: one picture per distinct visual state of a scene.

A scene's picture only changes when a bullet appears, so drawing each state once (instead of
every video frame) is what makes a slide video nearly free to encode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    Script,
    piece_name,
)
from vividly_ray.media.diagrams import visual_slide
from vividly_ray.media.layout import (
    Item,
    Mark,
    Shape,
    SlideLayout,
    TextLine,
    bullet_slide,
    credits_slide,
    title_card,
)
from vividly_ray.media.reveal import slide_states
from vividly_ray.media.theme import Theme, load_font, theme_by_name

SUBTITLE_SEPARATOR = " \u00b7 "
THUMBNAIL_TITLE_SCALE = 1.3


@dataclass(frozen=True)
class SlideFrame:
    """One distinct picture and how long (seconds) it stays on screen."""

    path: Path
    duration: float


class SlideRenderer:
    """Draws a scene's slides for one ``RenderSpec`` (frame size and theme)."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        self.theme: Theme = theme_by_name(spec.theme)

    def layout(self, scene: Scene) -> SlideLayout:
        """Where everything on the scene's slide goes, for its final (fully revealed) state."""
        width, height = self.spec.width, self.spec.height
        if scene.kind is SceneKind.TITLE:
            return title_card(scene.title, SUBTITLE_SEPARATOR.join(scene.bullets), width, height)
        if scene.kind is SceneKind.CREDITS:
            return credits_slide(scene.title, scene.bullets, width, height)
        if scene.visual is not None:
            return visual_slide(scene.title, scene.visual, width, height)
        return bullet_slide(scene.title, scene.bullets, width, height)

    def draw(self, layout: SlideLayout, revealed: int) -> Image.Image:
        """The picture with the first ``revealed`` parts (bullets or visual items) shown."""
        image = Image.new("RGB", (layout.width, layout.height), self.theme.background)
        self._paint(image, layout.visible(revealed))
        return image

    def _paint(self, image: Image.Image, items: Sequence[Item]) -> None:
        pen = ImageDraw.Draw(image)
        for item in items:
            colour = self.theme.colour(item.role)
            if isinstance(item, TextLine):
                font = load_font(item.size, item.bold)
                pen.text((item.x, item.y), item.text, font=font, fill=colour, anchor="la")
            elif isinstance(item, Mark):
                corners = (item.area.x, item.area.y, item.area.right - 1, item.area.bottom - 1)
                if item.round:
                    pen.ellipse(corners, fill=colour)
                elif item.corner:
                    pen.rounded_rectangle(corners, radius=item.corner, fill=colour)
                else:
                    pen.rectangle(corners, fill=colour)
            elif isinstance(item, Shape):
                pen.polygon(item.points, fill=colour)

    def render_scene(self, scene: Scene, audio: SceneAudio, out_dir: Path) -> list[SlideFrame]:
        """Write one picture per distinct state; durations start at 0 and add up to the audio's.

        The pictures are PPM, uncompressed: each lives for one encode and is read once, and
        compressing it was most of the encoder's Python time (a 720p PNG costs about 16 ms to
        write even at the fastest level, a PPM 0.4 ms; ffmpeg decodes both to the same pixels).
        The price is scratch disk while the piece is encoded: 2.7 MB per 720p state (6.2 MB at
        1080p) instead of about 60 kB.
        """
        if audio.duration <= 0:
            raise StageFailed(
                "generating_video",
                f"scene {scene.index} has no narration to time its slides by "
                f"(audio duration {audio.duration})",
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        layout = self.layout(scene)
        # States only ever add parts, so each picture is the previous one plus new items.
        canvas = self.draw(layout, 0)
        shown = 0
        frames: list[SlideFrame] = []
        for number, state in enumerate(slide_states(scene, audio)):
            self._paint(canvas, [i for step in layout.steps[shown : state.revealed] for i in step])
            shown = state.revealed
            path = out_dir / f"{piece_name(scene.index, audio.part)}-state-{number:02d}.ppm"
            canvas.save(path, format="PPM")
            frames.append(SlideFrame(path, state.duration))
        return frames

    def thumbnail_layout(self, script: Script) -> SlideLayout:
        """The video's title card with the title extra large, as a thumbnail shows it small."""
        title_scene = next((s for s in script.scenes if s.kind is SceneKind.TITLE), None)
        subtitle = (
            SUBTITLE_SEPARATOR.join(title_scene.bullets)
            if title_scene is not None and title_scene.bullets
            else f"Grade {script.grade.label}"
        )
        return title_card(
            script.title, subtitle, self.spec.width, self.spec.height, THUMBNAIL_TITLE_SCALE
        )

    def render_thumbnail(self, script: Script, path: Path) -> Path:
        """Write the thumbnail as a JPEG and return its path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.draw(self.thumbnail_layout(script), 0).save(path, format="JPEG", quality=88)
        return path
