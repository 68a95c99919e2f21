"""A scene's narration as the cache keeps it: the WAV blob plus its timings metadata."""

from __future__ import annotations

from typing import Any

from vividly_ray.domain.models import SceneAudio, ScenePart, SentenceTiming


def scene_audio(
    index: int,
    wav_key: str,
    meta: dict[str, Any],
    key: str,
    *,
    voiced_by: str,
    tts_characters: int = 0,
    cpu_seconds: float = 0.0,
    part: ScenePart | None = None,
) -> SceneAudio:
    """The SceneAudio that a cached WAV and its ``{"duration", "sentences"}`` metadata describe."""
    return SceneAudio(
        scene_index=index,
        wav_key=wav_key,
        duration=float(meta["duration"]),
        sentences=tuple(
            SentenceTiming(text=s["text"], start=float(s["start"]), end=float(s["end"]))
            for s in meta["sentences"]
        ),
        content_key=key,
        voiced_by=voiced_by,
        tts_characters=tts_characters,
        cpu_seconds=cpu_seconds,
        part=part,
    )
