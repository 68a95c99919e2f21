"""GoogleNarrator: Google Cloud Text-to-Speech behind the Narrator port.

Sentence timings must be exact, whatever the voice. Chirp voices take no SSML, so they are asked
for one sentence per request and each sentence is placed by its sample count. Voices that honour
SSML marks get several sentences per request with a ``<mark>`` before each; the returned audio is
cut at the mark times, so each sentence is still placed by sample count, and the scene's own lead,
gap and tail silences go between sentences exactly as with the embedded Piper voice. Every request
stays under the API's 5,000-byte input limit; an over-long sentence is split at word boundaries.

The finished scene is stored under a content key (provider, voice, language, speaking rate,
sample rate, sentences), so the same narration is never paid for twice.
"""

from __future__ import annotations

import functools
import html
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from google.api_core import exceptions as api_errors
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from google.cloud import texttospeech_v1beta1 as tts
from google.protobuf import json_format  # type: ignore[import-untyped]

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneAudio, ScenePart
from vividly_ray.speech.audio_meta import scene_audio
from vividly_ray.speech.timing import (
    SENTENCE_GAP_SECONDS,
    length_scale,
    part_edges,
    spoken_sentences,
)
from vividly_ray.speech.wav import silence, wav_duration, write_wav
from vividly_ray.storage.cache import ContentCache, content_key, no_space_failure, out_of_space

DEFAULT_VOICE = "en-US-Chirp3-HD-Charon"
MAX_INPUT_BYTES = 5000  # the API's limit on one request's text or SSML
_AUDIO_FORMAT_VERSION = 1
_STAGE = "generating_video"
# Voice families whose SSML includes <mark> timepoints. Every other voice (Chirp, Chirp 3 HD,
# Journey, Gemini voices, families added later) is spoken one sentence per request.
_MARK_FAMILIES = ("Standard", "Wavenet", "Neural2", "News", "Studio", "Polyglot")
# The SDK documents AudioConfig.speaking_rate as [0.25, 2.0]; outside it the API answers 400.
_RATE_LIMITS = (0.25, 2.0)
_RETRYABLE = (
    api_errors.TooManyRequests,  # includes ResourceExhausted (quota)
    api_errors.InternalServerError,
    api_errors.BadGateway,
    api_errors.ServiceUnavailable,
    api_errors.GatewayTimeout,  # includes DeadlineExceeded
)
_SPEAK_OPEN, _SPEAK_CLOSE, _END_MARK = "<speak>", "</speak>", '<mark name="end"/>'
# Room for a piece's own mark tag and trailing space. Mark numbers restart in every request,
# and a request holds at most a few hundred pieces.
_PIECE_OVERHEAD = len('<mark name="p9999"/> ')
_SSML_MARK = tts.SynthesizeSpeechRequest.TimepointType.SSML_MARK

Pcm = npt.NDArray[np.int16]
Call = Callable[[tts.SynthesisInput, bool], tts.SynthesizeSpeechResponse]


def make_tts_client(
    endpoint: str | None = None, credentials: Credentials | None = None
) -> tts.TextToSpeechClient:
    """A Text-to-Speech client over REST. ``endpoint`` overrides the API host (a regional
    endpoint, or ``http://127.0.0.1:PORT`` for a local stand-in); without ``credentials`` the SDK
    uses Application Default Credentials."""
    # REST in every case, so the transport the stub tests exercise is the one production uses.
    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    return tts.TextToSpeechClient(credentials=credentials, transport="rest", client_options=options)


def supports_marks(voice: str) -> bool:
    """Whether the voice honours SSML ``<mark>`` timepoints."""
    return "Chirp" not in voice and any(f"-{family}-" in voice for family in _MARK_FAMILIES)


def speaking_rate(grade: Grade) -> float:
    """The API's speaking rate for a grade: the inverse of Piper's length scale."""
    low, high = _RATE_LIMITS
    return round(min(high, max(low, 1.0 / length_scale(grade))), 4)


class GoogleNarrator:
    """Implements the Narrator port with a Cloud Text-to-Speech voice.

    ``client`` is a ``texttospeech_v1beta1.TextToSpeechClient`` (see ``make_tts_client``). Rate
    limits, server errors, timeouts, dropped connections and answers that are not the API's JSON
    are tried ``max_attempts`` times in all, with exponential backoff from ``backoff_s``; the
    SDK's own retry is switched off so the two never multiply. Refusals (400, 403, ...) and audio
    in another format than the one asked for fail at once. ``tts_characters`` on the result
    counts the input characters of the requests the API answered, which are the billed ones.
    """

    def __init__(
        self,
        client: tts.TextToSpeechClient,
        cache: ContentCache,
        *,
        voice: str = DEFAULT_VOICE,
        language_code: str = "en-US",
        sample_rate: int = 24000,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._client = client
        self._cache = cache
        self.voice = voice
        self._language = language_code
        self._sample_rate = sample_rate
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._sleep = sleep

    @property
    def voiced_by(self) -> str:
        return f"google:{self.voice}"

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        sentences = spoken_sentences(scene, part)
        if not sentences:
            raise StageFailed(_STAGE, f"scene {scene.index} has no narration")
        rate = speaking_rate(grade)
        settings = (self.voice, self._language, rate, self._sample_rate)
        edges = part_edges(part)
        key = content_key("audio", _AUDIO_FORMAT_VERSION, "google", *settings, sentences, *edges)
        cached_wav = self._cache.get("audio", key, ".wav")
        cached_meta = self._cache.get_json("audio-timings", key)
        if cached_wav is not None and cached_meta is not None:
            return scene_audio(
                scene.index, cached_wav, cached_meta, key, voiced_by=self.voiced_by, part=part
            )
        call: Call = functools.partial(self._synthesize, scene.index, rate)
        speech = _SceneSpeech(call, self._sample_rate, scene.index)
        if supports_marks(self.voice):
            voiced = speech.with_marks(sentences)
        else:
            voiced = [speech.plain(_split(s, MAX_INPUT_BYTES, _utf8_size)) for s in sentences]
        samples, timings = _assemble(sentences, voiced, self._sample_rate, edges)
        duration = 0.0

        def write(tmp: Path) -> None:
            nonlocal duration
            write_wav(tmp, samples, self._sample_rate)
            duration = wav_duration(tmp)

        try:
            wav_key = self._cache.put("audio", key, ".wav", write, "audio/wav")
            # The timings are written last: their presence means the audio is complete.
            meta = {"sentences": timings, "duration": duration}
            self._cache.put_json("audio-timings", key, meta)
        except OSError as exc:
            if not out_of_space(exc):
                raise
            raise no_space_failure(_STAGE, f"scene {scene.index}", exc) from exc
        return scene_audio(
            scene.index,
            wav_key,
            meta,
            key,
            voiced_by=self.voiced_by,
            tts_characters=speech.characters,
            part=part,
        )

    def _synthesize(
        self, scene_index: int, rate: float, source: tts.SynthesisInput, marks: bool
    ) -> tts.SynthesizeSpeechResponse:
        request = tts.SynthesizeSpeechRequest(
            input=source,
            voice=tts.VoiceSelectionParams(language_code=self._language, name=self.voice),
            audio_config=tts.AudioConfig(
                audio_encoding=tts.AudioEncoding.LINEAR16,
                sample_rate_hertz=self._sample_rate,
                speaking_rate=rate,
            ),
            enable_time_pointing=[_SSML_MARK] if marks else [],
        )
        problem = ""
        cause: Exception | None = None
        for attempt in range(1, self._max_attempts + 1):
            try:
                return self._client.synthesize_speech(
                    request=request, retry=None, timeout=self._timeout_s
                )
            except _RETRYABLE as exc:
                problem, cause = f"HTTP {exc.code}: {exc.message}", exc
            except json_format.ParseError as exc:
                # A body that is not the API's JSON (a cut-off answer, a proxy's error page):
                # the request was fine, so it is asked again like a server error.
                problem, cause = f"an unreadable answer ({str(exc)[:120]})", exc
            except api_errors.GoogleAPICallError as exc:
                raise StageFailed(
                    _STAGE,
                    f"Google TTS refused scene {scene_index} (HTTP {exc.code}): {exc.message}",
                    retryable=False,
                ) from exc
            except auth_errors.RefreshError as exc:
                raise StageFailed(
                    _STAGE, f"Google TTS credentials were refused for scene {scene_index}: {exc}"
                ) from exc
            except (OSError, auth_errors.TransportError) as exc:
                # requests' connection and timeout errors are OSErrors.
                problem, cause = f"connection error: {exc}", exc
            if attempt < self._max_attempts:
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
        raise StageFailed(
            _STAGE,
            f"Google TTS failed for scene {scene_index} after {self._max_attempts} attempts"
            f" ({problem})",
            retryable=True,
        ) from cause


@dataclass(frozen=True)
class _Piece:
    sentence: int  # index of the sentence this text belongs to
    text: str


class _SceneSpeech:
    """The requests of one scene, and the characters the API was sent in answered requests."""

    def __init__(self, call: Call, sample_rate: int, scene_index: int) -> None:
        self._call = call
        self._rate = sample_rate
        self._scene = scene_index
        self.characters = 0

    def plain(self, chunks: list[str]) -> Pcm:
        """One plain-text request per chunk; the chunks' audio joined in order."""
        return _join([self._speak(tts.SynthesisInput(text=c), len(c), False) for c in chunks])

    def with_marks(self, sentences: list[str]) -> list[Pcm]:
        """Each sentence's audio, from SSML requests that carry several sentences each."""
        budget = MAX_INPUT_BYTES - len(_SPEAK_OPEN + _SPEAK_CLOSE + _END_MARK) - _PIECE_OVERHEAD
        pieces = [
            _Piece(number, chunk)
            for number, sentence in enumerate(sentences)
            for chunk in _split(sentence, budget, _ssml_size)
        ]
        parts: list[list[Pcm]] = [[] for _ in sentences]
        for batch in _batches(pieces):
            for piece, pcm in zip(batch, self._marked(batch), strict=True):
                parts[piece.sentence].append(pcm)
        return [_join(p) for p in parts]

    def _marked(self, batch: list[_Piece]) -> list[Pcm]:
        ssml = _ssml(batch)
        response = self._call(tts.SynthesisInput(ssml=ssml), True)
        self.characters += len(ssml)
        pcm = _pcm_from_wav(response.audio_content, self._rate, self._scene)
        times = {point.mark_name: point.time_seconds for point in response.timepoints}
        names = [f"p{n}" for n in range(len(batch))]
        if not all(name in times for name in names):
            # Without every mark the pieces cannot be told apart: time them one by one.
            return [self.plain([piece.text]) for piece in batch]
        # A missing end mark means: up to the end of the audio.
        ends = [round(times[name] * self._rate) for name in names[1:]]
        ends.append(round(times["end"] * self._rate) if "end" in times else len(pcm))
        cuts = [min(len(pcm), max(0, c)) for c in [round(times["p0"] * self._rate), *ends]]
        if cuts != sorted(cuts):
            return [self.plain([piece.text]) for piece in batch]
        return [pcm[start:end] for start, end in zip(cuts, cuts[1:], strict=False)]

    def _speak(self, source: tts.SynthesisInput, characters: int, marks: bool) -> Pcm:
        response = self._call(source, marks)
        self.characters += characters
        return _pcm_from_wav(response.audio_content, self._rate, self._scene)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _ssml_size(text: str) -> int:
    return len(html.escape(text, quote=False).encode("utf-8"))


def _split(text: str, limit: int, size: Callable[[str], int]) -> list[str]:
    """``text`` in chunks of at most ``limit`` (by ``size``), cut between words; a single word
    longer than the limit is cut between characters. Both sizes add up piece by piece."""
    chunks: list[str] = []
    current, used = "", 0
    for word in text.split():
        need = size(word)
        if current and used + 1 + need <= limit:
            current, used = f"{current} {word}", used + 1 + need
            continue
        if current:
            chunks.append(current)
        current, used = "", 0
        for char in word:
            if used + size(char) > limit:
                chunks.append(current)
                current, used = "", 0
            current, used = current + char, used + size(char)
    if current:
        chunks.append(current)
    return chunks


def _ssml(batch: list[_Piece]) -> str:
    body = "".join(
        f'<mark name="p{n}"/>{html.escape(piece.text, quote=False)} '
        for n, piece in enumerate(batch)
    )
    return f"{_SPEAK_OPEN}{body}{_END_MARK}{_SPEAK_CLOSE}"


def _batches(pieces: list[_Piece]) -> list[list[_Piece]]:
    """Consecutive pieces grouped so that each group's SSML stays within the input limit."""
    batches: list[list[_Piece]] = []
    for piece in pieces:
        if batches and _utf8_size(_ssml([*batches[-1], piece])) <= MAX_INPUT_BYTES:
            batches[-1].append(piece)
        else:
            batches.append([piece])
    return batches


def _pcm_from_wav(data: bytes, expected_rate: int, scene_index: int) -> Pcm:
    """The samples of a LINEAR16 answer: a RIFF/WAVE file, or bare PCM if it has no header."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.int16)
    position, layout = 12, None
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        # A streaming-style header gives an oversized data length; slicing clamps it.
        body = data[position + 8 : position + 8 + size]
        if chunk == b"fmt ":
            layout = struct.unpack("<HHIIHH", body[:16])
        elif chunk == b"data":
            wanted = (1, 1, expected_rate, 16)  # PCM, mono, the asked rate, 16-bit
            if layout is None or (layout[0], layout[1], layout[2], layout[5]) != wanted:
                raise StageFailed(
                    _STAGE,
                    f"Google TTS answered scene {scene_index} with audio in an unexpected format"
                    f" ({layout}); asked for mono 16-bit PCM at {expected_rate} Hz",
                )
            return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.int16)
        position += 8 + size + (size & 1)
    raise StageFailed(
        _STAGE, f"Google TTS answered scene {scene_index} with a WAV file without audio"
    )


def _join(parts: list[Pcm]) -> Pcm:
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, dtype=np.int16)


def _assemble(
    sentences: list[str], voiced: list[Pcm], rate: int, edges: tuple[float, float]
) -> tuple[Pcm, list[dict[str, Any]]]:
    lead, tail = edges
    parts = [silence(lead, rate)]
    cursor = len(parts[0])
    timings: list[dict[str, Any]] = []
    for number, (sentence, pcm) in enumerate(zip(sentences, voiced, strict=True)):
        if number:
            gap = silence(SENTENCE_GAP_SECONDS, rate)
            parts.append(gap)
            cursor += len(gap)
        start = cursor
        parts.append(pcm)
        cursor += len(pcm)
        timings.append({"text": sentence, "start": start / rate, "end": cursor / rate})
    parts.append(silence(tail, rate))
    return np.concatenate(parts).astype(np.int16), timings
