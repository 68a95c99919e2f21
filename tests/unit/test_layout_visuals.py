"""Every visual kind at 16:9, 9:16 and 1:1: inside the safe area, legible, nothing cut, each
part on screen from its sentence on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vividly_ray.domain.models import (
    Aspect,
    RenderSpec,
    Resolution,
    Scene,
    SceneAudio,
    SceneKind,
    SentenceTiming,
    Visual,
    VisualItem,
    VisualKind,
    frame_size,
)
from vividly_ray.media.layout import TextLine, legible_size, safe_area
from vividly_ray.media.slides import SlideRenderer

SIZES = [frame_size(a, Resolution.P720) for a in Aspect]


def items(*pairs: tuple[str, str], start: int = 0) -> tuple[VisualItem, ...]:
    return tuple(
        VisualItem(label, detail, reveal_at=start + i) for i, (label, detail) in enumerate(pairs)
    )


VISUALS = {
    VisualKind.CYCLE: Visual(
        VisualKind.CYCLE,
        items(
            ("Evaporation", ""),
            ("Condensation into clouds", ""),
            ("Precipitation", ""),
            ("Collection in oceans and lakes", ""),
        ),
    ),
    VisualKind.STEPS: Visual(
        VisualKind.STEPS,
        items(
            ("Identify resistors in series", ""),
            ("Draw a new circuit diagram", "with the equivalent resistor"),
            ("Repeat until one resistor is left", ""),
        ),
    ),
    VisualKind.COMPARISON: Visual(
        VisualKind.COMPARISON,
        (
            VisualItem(
                "kinetic energy",
                cells=(
                    "the total kinetic energy stays the same",
                    "some kinetic energy turns into heat, sound, or bending",
                ),
            ),
            VisualItem(
                "objects",
                cells=("the objects bounce apart", "the objects stick together"),
                reveal_at=2,
            ),
        ),
        headings=("Elastic collision", "Inelastic collision"),
    ),
    VisualKind.KEY_NUMBER: Visual(
        VisualKind.KEY_NUMBER,
        (
            VisualItem(
                "about 300,000 kilometers per second",
                "Light travels through empty space at about 300,000 kilometers per second",
                reveal_at=1,
            ),
        ),
    ),
    VisualKind.TIMELINE: Visual(
        VisualKind.TIMELINE,
        items(
            ("1859", "John Brown led a raid on Harpers Ferry"),
            ("1861 to 1865", "The Civil War was fought"),
            ("1865 to 1877", "Reconstruction"),
            ("1870", "The 15th Amendment"),
        ),
    ),
    VisualKind.FORMULA: Visual(
        VisualKind.FORMULA,
        tuple(VisualItem(t, reveal_at=1) for t in ("force", "mass", "acceleration")),
        headings=("=", "\u00d7"),
    ),
    VisualKind.KEY_TERMS: Visual(
        VisualKind.KEY_TERMS,
        items(
            ("Chloroplasts", "tiny structures in plant cells"),
            ("Chlorophyll", "a green pigment"),
            ("Pigment", "a substance that absorbs some colors of light and reflects others"),
        ),
    ),
    VisualKind.QUESTIONS: Visual(
        VisualKind.QUESTIONS,
        items(
            ("What powers the water cycle?", "The sun"),
            ("What is condensation?", "Water vapor cooling into drops of liquid water"),
            ("Name two kinds of precipitation.", "Rain and snow"),
            start=1,
        ),
    ),
}
NARRATION = tuple(f"Sentence number {i}." for i in range(5))


def scene_with(visual: Visual) -> Scene:
    kind = SceneKind.CHECK if visual.kind is VisualKind.QUESTIONS else SceneKind.CONCEPT
    return Scene(2, kind, "How the Water Cycle Works", ("unused",), NARRATION, visual=visual)


def pieces(visual: Visual, title: str) -> list[str]:
    texts = [title, *visual.headings]
    for item in visual.items:
        texts += [item.label, item.detail, *item.cells]
    return sorted("".join(t.split()) for t in texts if t)


def drawn(lines: list[TextLine]) -> list[str]:
    joined: dict[str, str] = {}
    for line in lines:
        if not line.part.endswith(".number"):
            joined[line.part] = joined.get(line.part, "") + line.text
    return sorted("".join(t.split()) for t in joined.values())


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("kind", list(VISUALS))
def test_each_visual_fits_the_safe_area_whole_and_legible(
    kind: VisualKind, width: int, height: int
) -> None:
    scene = scene_with(VISUALS[kind])
    layout = SlideRenderer(RenderSpec(width, height)).layout(scene)
    shown = layout.visible(len(layout.steps))
    safe = safe_area(width, height)
    assert all(safe.contains(item.box()) for item in shown), kind
    lines = [i for i in shown if isinstance(i, TextLine)]
    assert min(line.size for line in lines) >= legible_size(height)
    assert drawn(lines) == pieces(scene.visual, scene.title)  # type: ignore[arg-type]
    assert "\u2026" not in "".join(line.text for line in lines)
    assert len(layout.steps) == len(VISUALS[kind].items)


@pytest.mark.parametrize("kind", list(VISUALS))
def test_visuals_use_most_of_the_frame(kind: VisualKind) -> None:
    layout = SlideRenderer(RenderSpec(1280, 720)).layout(scene_with(VISUALS[kind]))
    boxes = [item.box() for item in layout.visible(len(layout.steps))]
    top, bottom = min(b.y for b in boxes), max(b.bottom for b in boxes)
    left, right = min(b.x for b in boxes), max(b.right for b in boxes)
    assert (right - left) * (bottom - top) >= 0.45 * 1280 * 720, kind


def timed(count: int, duration: float) -> SceneAudio:
    step = duration / count
    sentences = tuple(
        SentenceTiming(f"Sentence number {i}.", i * step, (i + 0.9) * step) for i in range(count)
    )
    return SceneAudio(2, "unused.wav", duration, sentences, "audio")


def ink(image: Image.Image, box: object, background: tuple[int, int, int]) -> bool:
    x, y, r, b = box.x, box.y, box.right, box.bottom  # type: ignore[attr-defined]
    pixels = np.asarray(image.convert("RGB").crop((x, y, r, b))).astype(int)
    return bool((np.abs(pixels - np.array(background)).sum(axis=2) > 0).any())


def test_each_timeline_date_appears_at_its_sentence(tmp_path: Path) -> None:
    renderer = SlideRenderer(RenderSpec(1280, 720))
    scene = scene_with(VISUALS[VisualKind.TIMELINE])
    frames = renderer.render_scene(scene, timed(5, 10.0), tmp_path)
    # Dates at sentences 0-3, each 2 s long, then the last sentence: four states.
    assert [f.duration for f in frames] == pytest.approx([2.0, 2.0, 2.0, 4.0])
    layout = renderer.layout(scene)
    labels = [[i.box() for i in step if isinstance(i, TextLine)] for step in layout.steps]
    for shown, frame in enumerate(frames, start=1):
        with Image.open(frame.path) as image:
            for n, boxes in enumerate(labels):
                visible = any(ink(image, b, renderer.theme.background) for b in boxes)
                assert visible == (n < shown), (shown, n)


def test_questions_are_asked_first_and_answers_follow_their_sentences(tmp_path: Path) -> None:
    renderer = SlideRenderer(RenderSpec(1280, 720))
    scene = scene_with(VISUALS[VisualKind.QUESTIONS])
    layout = renderer.layout(scene)
    asked = {line.text for line in layout.visible(0) if isinstance(line, TextLine)}
    assert {"What powers the water cycle?", "What is condensation?"} <= asked
    assert not any("Rain and snow" in t for t in asked)
    frames = renderer.render_scene(scene, timed(5, 10.0), tmp_path)
    # Questions alone for sentence 0, then one answer each at sentences 1, 2 and 3.
    assert [f.duration for f in frames] == pytest.approx([2.0, 2.0, 2.0, 4.0])


def test_a_cycle_is_numbered_so_order_never_rests_on_colour() -> None:
    layout = SlideRenderer(RenderSpec(720, 720)).layout(scene_with(VISUALS[VisualKind.CYCLE]))
    numbers = [
        i.text
        for step in layout.steps
        for i in step
        if isinstance(i, TextLine) and i.part.endswith(".number")
    ]
    assert numbers == ["1", "2", "3", "4"]


def test_too_many_words_shrink_before_anything_is_cut() -> None:
    wordy = Visual(
        VisualKind.KEY_TERMS,
        items(
            *[
                (
                    f"Term {i}",
                    "a definition long enough to wrap over two lines on a tall "
                    "frame at any legible size",
                )
                for i in range(8)
            ]
        ),
    )
    layout = SlideRenderer(RenderSpec(720, 1280)).layout(scene_with(wordy))
    lines = [i for i in layout.visible(8) if isinstance(i, TextLine)]
    assert drawn(lines) == pieces(wordy, "How the Water Cycle Works")
    assert all(safe_area(720, 1280).contains(i.box()) for i in layout.visible(8))
