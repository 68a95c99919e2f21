"""The old sequential way's composition: one MoviePy timeline, one ``write_videofile``.

Runs in its own virtual environment (``.venv-bench``, the ``baseline`` dependency group of
pyproject.toml), because MoviePy needs an older Pillow than the project. It imports nothing from
the project: ``benchmarks/pipeline.py`` narrates every scene first and hands over a JSON spec
(resolution, fps, colours, the Lato font files, and per scene its title, bullets, the second at
which each bullet appears and its narration WAV). MoviePy's ordinary API is used as documented:
text clips over a colour clip per scene, the scenes concatenated, the narration as audio, and
one ``write_videofile`` with libx264 (the default preset and threads).

    python benchmarks/moviepy_baseline.py SPEC.json OUT.mp4

Prints one JSON line: the wall time of composition and of ``write_videofile``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _scene_clip(scene: dict[str, Any], spec: dict[str, Any]) -> Any:
    from moviepy import (  # type: ignore[import-not-found]
        AudioFileClip,
        ColorClip,
        CompositeVideoClip,
        TextClip,
    )

    width, height = int(spec["width"]), int(spec["height"])
    scale = height / 720
    margin = round(64 * scale)
    text_width = width - 2 * margin
    duration = float(scene["duration"])
    layers: list[Any] = [
        ColorClip(size=(width, height), color=tuple(spec["background"]), duration=duration)
    ]
    title = TextClip(
        font=spec["font_bold"],
        text=scene["title"],
        font_size=round(48 * scale),
        color=_hex(spec["title_colour"]),
        size=(text_width, None),
        method="caption",
        duration=duration,
    ).with_position((margin, margin))
    layers.append(title)
    top = margin + title.h + round(32 * scale)
    for text, appears in zip(scene["bullets"], scene["reveal_at"], strict=True):
        start = min(float(appears), duration)
        bullet = (
            TextClip(
                font=spec["font_regular"],
                text="\u2022 " + text,
                font_size=round(32 * scale),
                color=_hex(spec["text_colour"]),
                size=(text_width, None),
                method="caption",
            )
            .with_start(start)
            .with_duration(max(duration - start, 0.0))
            .with_position((margin, top))
        )
        layers.append(bullet)
        top += bullet.h + round(16 * scale)
    clip = CompositeVideoClip(layers, size=(width, height)).with_duration(duration)
    return clip.with_audio(AudioFileClip(scene["wav"]))


def _hex(rgb: list[int]) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


def render(spec: dict[str, Any], out: Path) -> dict[str, float]:
    from moviepy import concatenate_videoclips

    started = time.perf_counter()
    timeline = concatenate_videoclips([_scene_clip(scene, spec) for scene in spec["scenes"]])
    composed = time.perf_counter()
    timeline.write_videofile(
        str(out), fps=spec["fps"], codec="libx264", audio_codec="aac", logger=None
    )
    written = time.perf_counter()
    return {
        "compose_s": round(composed - started, 3),
        "write_videofile_s": round(written - composed, 3),
        "video_s": round(float(timeline.duration), 3),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text("utf-8"))
    print(json.dumps(render(spec, Path(argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
