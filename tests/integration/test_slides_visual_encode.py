"""A scene with a visual through the real encoder: one still per reveal, and a changed visual
is a different segment."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from vividly_ray.domain.models import (
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    SentenceTiming,
    Visual,
    VisualItem,
    VisualKind,
)
from vividly_ray.media.encoder import FfmpegSegmentEncoder, segment_key
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

SPEC = RenderSpec(width=854, height=480)
CYCLE = Visual(
    VisualKind.CYCLE,
    tuple(
        VisualItem(label, reveal_at=i)
        for i, label in enumerate(("Evaporation", "Condensation", "Precipitation"))
    ),
)
SCENE = Scene(
    1,
    SceneKind.CONCEPT,
    "The Water Cycle",
    ("unused",),
    ("Water evaporates.", "Vapor condenses.", "Rain falls."),
    visual=CYCLE,
)


def audio(folder: Path) -> SceneAudio:
    path = folder / "scene.wav"
    rate, seconds = 22050, 3.0
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.zeros(round(rate * seconds), "<i2").tobytes())
    timings = tuple(
        SentenceTiming(s, i * 1.0, i * 1.0 + 0.9) for i, s in enumerate(SCENE.narration)
    )
    return SceneAudio(1, path.name, seconds, timings, "silence-3s")


def test_a_cycle_scene_encodes_one_frame_per_stage(tmp_path: Path) -> None:
    runs: list[list[str]] = []

    def run(args: list[str], stage: str) -> None:
        from vividly_ray.media.ffmpeg import run_ffmpeg

        runs.append(list(args))
        run_ffmpeg(args, stage)

    store = LocalBlobStore(tmp_path)
    encoder = FfmpegSegmentEncoder(
        SPEC, ContentCache(store, tmp_path / "tmp"), tmp_path / "work", run=run
    )
    narration = audio(tmp_path)
    segment = encoder.encode(SCENE, narration)
    assert segment.duration == pytest.approx(3.0, abs=0.02)
    with av.open(str(store.path_of(segment.video_key))) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    # Three stages at 0 s, 1 s and 2 s: three distinct pictures, each with more ink.
    # (lossy coding may touch a still's pixels a little from frame to frame; a reveal adds a card)
    distinct = [
        f
        for n, f in enumerate(frames)
        if n == 0 or np.abs(f.astype(int) - frames[n - 1].astype(int)).mean() > 1.0
    ]
    assert len(distinct) == 3
    inked = [
        int((np.abs(f.astype(int) - f[0, 0].astype(int)).sum(axis=2) > 30).sum()) for f in distinct
    ]
    assert inked == sorted(inked) and inked[0] < inked[-1]
    assert len(runs) == 1


def test_a_changed_visual_is_a_different_segment(tmp_path: Path) -> None:
    narration = audio(tmp_path)
    steps = dataclasses.replace(SCENE, visual=dataclasses.replace(CYCLE, kind=VisualKind.STEPS))
    bullets = dataclasses.replace(SCENE, visual=None)
    keys = {segment_key(SPEC, s, narration) for s in (SCENE, steps, bullets)}
    assert len(keys) == 3
