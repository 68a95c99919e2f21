"""Slides: colours, layout inside the safe area, and bullets timed to the narration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    Aspect,
    Grade,
    RenderSpec,
    Resolution,
    Scene,
    SceneAudio,
    SceneKind,
    Script,
    SentenceTiming,
    frame_size,
)
from vividly_ray.media.layout import SAFE_MARGIN, Box, TextLine, safe_area
from vividly_ray.media.reveal import reveal_sentences
from vividly_ray.media.slides import SlideRenderer
from vividly_ray.media.theme import MIN_CONTRAST, THEMES, contrast_ratio, theme_by_name

LONG_TITLE = (
    "How the water cycle moves water between oceans, the atmosphere, glaciers, rivers and "
    "underground aquifers over thousands of years"
)
MANY_BULLETS = tuple(
    f"Point {i}: evaporation, condensation, precipitation and collection keep water moving "
    "through every part of the planet"
    for i in range(9)
)
SIZES = [frame_size(a, r) for a in Aspect for r in Resolution]


def timed_audio(starts: list[float], duration: float) -> SceneAudio:
    sentences = tuple(
        SentenceTiming(f"Sentence {i}.", start, start + 0.8) for i, start in enumerate(starts)
    )
    return SceneAudio(1, "unused.wav", duration, sentences, "audio-key")


def scene(
    kind: SceneKind = SceneKind.CONCEPT,
    title: str = "The water cycle",
    bullets: tuple[str, ...] = ("Evaporation", "Condensation", "Precipitation"),
    reveal_at: tuple[int, ...] = (),
) -> Scene:
    return Scene(1, kind, title, bullets, ("a.", "b.", "c.", "d."), reveal_at=reveal_at)


def ink_box(image: Image.Image, background: tuple[int, int, int]) -> Box | None:
    """The bounding box of every pixel that is not background."""
    pixels = np.asarray(image.convert("RGB")).astype(int)
    mask = np.abs(pixels - np.array(background)).sum(axis=2) > 0
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    return Box(
        int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
    )


def has_ink(image: Image.Image, box: Box, background: tuple[int, int, int]) -> bool:
    return ink_box(image.crop((box.x, box.y, box.right, box.bottom)), background) is not None


# --- colours -------------------------------------------------------------------------------


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_theme_colour_is_readable_on_its_background(name: str) -> None:
    for role, (fg, bg) in THEMES[name].foreground_pairs().items():
        assert contrast_ratio(fg, bg) >= MIN_CONTRAST, f"{name}.{role}"


def test_unknown_theme_is_a_non_retryable_stage_failure() -> None:
    with pytest.raises(StageFailed) as failure:
        theme_by_name("neon")
    assert failure.value.stage == "generating_video"
    assert not failure.value.retryable
    assert "neon" in failure.value.reason


# --- layout --------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("kind", [SceneKind.TITLE, SceneKind.CONCEPT, SceneKind.CREDITS])
def test_long_text_stays_inside_the_safe_area(
    tmp_path: Path, width: int, height: int, kind: SceneKind
) -> None:
    renderer = SlideRenderer(RenderSpec(width, height))
    busy = scene(kind, LONG_TITLE, MANY_BULLETS)
    frames = renderer.render_scene(busy, timed_audio([0.4, 2.0, 4.0, 6.0], 8.0), tmp_path)
    safe = safe_area(width, height)
    assert safe.x >= 0.05 * width and safe.y >= 0.05 * height
    with Image.open(frames[-1].path) as final:
        assert final.size == (width, height)
        ink = ink_box(final, renderer.theme.background)
    assert ink is not None and safe.contains(ink), (ink, safe)
    # The layout agrees: every positioned item lies inside the safe area too.
    layout = renderer.layout(busy)
    assert all(safe.contains(item.box()) for item in layout.visible(len(busy.bullets)))


def test_long_text_shrinks_the_font_instead_of_overflowing() -> None:
    renderer = SlideRenderer(RenderSpec(1280, 720))
    short = renderer.layout(scene(bullets=("Evaporation",)))
    busy = renderer.layout(scene(bullets=MANY_BULLETS))

    def body_size(items: tuple[object, ...]) -> int:
        return max(i.size for i in items if isinstance(i, TextLine) and i.role == "text")

    assert body_size(busy.visible(9)) < body_size(short.visible(1))


def test_text_too_long_for_any_size_is_cut_with_an_ellipsis(tmp_path: Path) -> None:
    renderer = SlideRenderer(RenderSpec(854, 480))
    flood = scene(SceneKind.CREDITS, "Sources", tuple(LONG_TITLE for _ in range(60)))
    items = renderer.layout(flood).visible(0)
    lines = [i for i in items if isinstance(i, TextLine) and i.role == "text"]
    assert lines[-1].text.endswith("\u2026")
    assert all(safe_area(854, 480).contains(i.box()) for i in items)


def test_every_source_line_fits_on_the_credits_slide() -> None:
    sources = tuple(f"Source {i}: OpenStax Physics, CC BY 4.0, openstax.org" for i in range(14))
    layout = SlideRenderer(RenderSpec(720, 1280)).layout(
        scene(SceneKind.CREDITS, "Sources", sources)
    )
    shown = " ".join(i.text for i in layout.visible(0) if isinstance(i, TextLine))
    assert all(f"Source {i}:" in shown for i in range(14))
    assert "\u2026" not in shown


def test_safe_margin_is_at_least_five_percent() -> None:
    assert SAFE_MARGIN >= 0.05


# --- timing --------------------------------------------------------------------------------


def test_bullets_appear_at_the_start_of_their_sentences(tmp_path: Path) -> None:
    renderer = SlideRenderer(RenderSpec(854, 480))
    timed = scene(reveal_at=(0, 2, 3))
    frames = renderer.render_scene(timed, timed_audio([0.4, 2.1, 4.3, 6.5], 8.0), tmp_path)
    # title alone 0-0.4, one bullet 0.4-4.3, two 4.3-6.5, three 6.5-8.0
    assert [f.duration for f in frames] == pytest.approx([0.4, 3.9, 2.2, 1.5])
    layout = renderer.layout(timed)
    bullet_boxes = [
        [item.box() for item in step if isinstance(item, TextLine)] for step in layout.steps
    ]
    for revealed, frame in enumerate(frames):
        with Image.open(frame.path) as image:
            for bullet, boxes in enumerate(bullet_boxes):
                shown = any(has_ink(image, box, renderer.theme.background) for box in boxes)
                assert shown == (bullet < revealed), (revealed, bullet)


def test_frame_durations_add_up_to_the_audio_duration(tmp_path: Path) -> None:
    renderer = SlideRenderer(RenderSpec(480, 480))
    audio = timed_audio([0.37, 1.913, 3.0071, 5.55], 7.123457)
    frames = renderer.render_scene(scene(bullets=MANY_BULLETS[:5]), audio, tmp_path)
    assert sum(f.duration for f in frames) == pytest.approx(audio.duration, abs=1e-9)
    assert all(f.duration > 0 for f in frames)
    assert len({f.path for f in frames}) == len(frames)


def test_without_reveal_plan_bullets_spread_evenly_over_the_sentences() -> None:
    assert reveal_sentences(scene(bullets=("a", "b")), 4) == [0, 2]
    assert reveal_sentences(scene(bullets=("a", "b", "c", "d")), 4) == [0, 1, 2, 3]
    # More bullets than sentences: some appear together.
    assert reveal_sentences(scene(bullets=("a", "b", "c")), 2) == [0, 0, 1]


def test_reveal_plan_is_clamped_and_never_goes_back() -> None:
    assert reveal_sentences(scene(reveal_at=(3, 1, 9)), 4) == [3, 3, 3]


def test_bullets_revealed_together_share_one_frame(tmp_path: Path) -> None:
    frames = SlideRenderer(RenderSpec(854, 480)).render_scene(
        scene(reveal_at=(0, 0, 1)), timed_audio([0.0, 3.0], 5.0), tmp_path
    )
    assert [f.duration for f in frames] == pytest.approx([3.0, 2.0])


@pytest.mark.parametrize("kind", [SceneKind.TITLE, SceneKind.CREDITS])
def test_title_and_credit_slides_are_one_still(tmp_path: Path, kind: SceneKind) -> None:
    frames = SlideRenderer(RenderSpec(854, 480)).render_scene(
        scene(kind), timed_audio([0.4, 2.0, 4.0], 6.0), tmp_path
    )
    assert [f.duration for f in frames] == [6.0]


def test_scene_without_audio_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as failure:
        SlideRenderer(RenderSpec(854, 480)).render_scene(scene(), timed_audio([], 0.0), tmp_path)
    assert failure.value.stage == "generating_video"


def test_thumbnail_is_a_jpeg_of_the_frame_size_with_a_large_title(tmp_path: Path) -> None:
    script = Script("The Water Cycle", Grade(5), 60.0, (scene(SceneKind.TITLE),), ())
    renderer = SlideRenderer(RenderSpec(1280, 720))
    path = renderer.render_thumbnail(script, tmp_path / "thumb.jpg")
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (1280, 720)

    def title_size(items: tuple[object, ...]) -> int:
        return max(i.size for i in items if isinstance(i, TextLine) and i.role == "title")

    title_slide = renderer.layout(scene(SceneKind.TITLE, title="The Water Cycle"))
    assert title_size(renderer.thumbnail_layout(script).visible(0)) > title_size(
        title_slide.visible(0)
    )
