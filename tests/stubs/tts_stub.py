"""A loopback stand-in for Cloud Text-to-Speech's REST ``POST /v1beta1/text:synthesize``.

It answers like the real service where our adapter depends on it: LINEAR16 audio comes back as a
complete WAV file, SSML ``<mark>`` timepoints are returned when the request asks for them, inputs
over 5,000 bytes and SSML sent to a Chirp voice are refused with HTTP 400, and errors use the
Google JSON error shape. The audio is a tone whose length is proportional to the spoken text and
inversely proportional to the speaking rate; no sample of it is zero, so a test can find every
piece of speech in a finished scene by looking for non-silent runs.

Every request body is recorded, and the next N calls can be made to fail: with an HTTP status,
a dropped connection, an answer held back past the client's timeout (``hang_next``), or garbage
(``garbage_next``: a body that is not JSON, or a WAV file in a format nobody asked for).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

SYNTHESIZE_PATH = "/v1beta1/text:synthesize"
MAX_INPUT_BYTES = 5000
SECONDS_PER_CHARACTER = 0.02
_MARK = re.compile(r'<mark\s+name="([^"]*)"\s*/>')
_TAG = re.compile(r"<[^>]+>")
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def spoken_samples(text: str, sample_rate: int, speaking_rate: float = 1.0) -> int:
    """How many samples the stub speaks for ``text`` (the tests' ground truth)."""
    return round(len(text.strip()) * SECONDS_PER_CHARACTER * sample_rate / speaking_rate)


def tone(count: int, sample_rate: int) -> bytes:
    """``count`` mono 16-bit samples of a 220 Hz tone riding on a positive offset (never 0)."""
    wave_ = 3000 + 1500 * np.sin(np.arange(count) * (2 * math.pi * 220 / sample_rate))
    return bytes(wave_.astype("<i2").tobytes())


def wav_bytes(pcm: bytes, sample_rate: int, channels: int = 1, sample_width: int = 2) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(sample_width)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return out.getvalue()


def _wrong_audio() -> dict[str, Any]:
    """A well-formed answer carrying audio in a format the request did not ask for."""
    pcm = bytes(range(256)) * 32  # 8-bit stereo at 8 kHz: half a second of noise
    return {
        "audioContent": base64.b64encode(wav_bytes(pcm, 8000, 2, 1)).decode("ascii"),
        "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": 8000},
    }


# What a failure does instead of answering (besides an HTTP error status).
DROP, HANG, INVALID_JSON, WRONG_AUDIO = "drop", "hang", "invalid-json", "wrong-audio"


@dataclass
class _Failure:
    status: int  # 0 means: drop the connection without answering
    message: str
    remaining: int
    mode: str = ""  # DROP, HANG, INVALID_JSON, WRONG_AUDIO; "" answers ``status``
    seconds: float = 0.0  # how long HANG holds the answer back


@dataclass
class TtsStub:
    """The stub's state; ``requests`` holds every decoded request body, in arrival order."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    omit_timepoints: bool = False
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, calls: int, status: int, message: str = "") -> None:
        """Answer the next ``calls`` requests with ``status`` (after failures already queued)."""
        with self._lock:
            self._failures.append(_Failure(status, message or f"stub error {status}", calls))

    def drop_next(self, calls: int) -> None:
        """Close the connection without an answer for the next ``calls`` requests."""
        with self._lock:
            self._failures.append(_Failure(0, "dropped", calls, DROP))

    def hang_next(self, calls: int, seconds: float) -> None:
        """Hold the answer to the next ``calls`` requests back for ``seconds`` (past the
        client's timeout), then answer as usual to whoever still listens."""
        with self._lock:
            self._failures.append(_Failure(200, "hang", calls, HANG, seconds))

    def garbage_next(self, calls: int, kind: str) -> None:
        """Answer the next ``calls`` requests 200 with garbage: ``INVALID_JSON`` (a truncated
        body) or ``WRONG_AUDIO`` (a valid answer whose WAV is 8 kHz stereo 8-bit)."""
        if kind not in (INVALID_JSON, WRONG_AUDIO):
            raise ValueError(f"unknown garbage {kind!r}")
        with self._lock:
            self._failures.append(_Failure(200, kind, calls, kind))

    def inputs(self) -> list[dict[str, str]]:
        with self._lock:
            return [dict(body.get("input", {})) for body in self.requests]

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            while self._failures and self._failures[0].remaining <= 0:
                self._failures.pop(0)
            if not self._failures:
                return None
            self._failures[0].remaining -= 1
            return self._failures[0]

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)


def _answer(body: dict[str, Any], omit_timepoints: bool) -> tuple[int, dict[str, Any]]:
    source = body.get("input", {})
    voice = str(body.get("voice", {}).get("name", ""))
    config = body.get("audioConfig", {})
    sample_rate = int(config.get("sampleRateHertz") or 24000)
    speaking_rate = float(config.get("speakingRate") or 1.0)
    if "ssml" in source:
        if "Chirp" in voice:
            return _error(400, f"Voice '{voice}' does not support SSML input.")
        document = str(source["ssml"])
        text_bytes = len(document.encode("utf-8"))
    else:
        document = str(source.get("text", ""))
        text_bytes = len(document.encode("utf-8"))
    if text_bytes > MAX_INPUT_BYTES:
        return _error(400, f"Input size limit exceeded: {text_bytes} bytes (limit 5000).")
    pcm, timepoints = _speak(document, "ssml" in source, sample_rate, speaking_rate)
    wants_marks = body.get("enableTimePointing") in ([1], ["SSML_MARK"])
    answer: dict[str, Any] = {
        "audioContent": base64.b64encode(wav_bytes(pcm, sample_rate)).decode("ascii"),
        "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": sample_rate},
    }
    if wants_marks and not omit_timepoints:
        answer["timepoints"] = timepoints
    return 200, answer


def _speak(
    document: str, is_ssml: bool, sample_rate: int, speaking_rate: float
) -> tuple[bytes, list[dict[str, Any]]]:
    if not is_ssml:
        return tone(spoken_samples(document, sample_rate, speaking_rate), sample_rate), []
    body = document.replace("<speak>", "").replace("</speak>", "")
    # re.split with one group alternates: text, mark name, text, mark name, ..., text
    parts = _MARK.split(body)
    pcm = bytearray()
    timepoints: list[dict[str, Any]] = []
    for position, part in enumerate(parts):
        if position % 2:
            timepoints.append({"markName": part, "timeSeconds": len(pcm) / 2 / sample_rate})
        else:
            text = html.unescape(_TAG.sub("", part))
            pcm += tone(spoken_samples(text, sample_rate, speaking_rate), sample_rate)
    return bytes(pcm), timepoints


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    return status, {"error": {"code": status, "message": message, "status": name}}


VOICES_PATH = "/v1beta1/voices"
# What ``voices.list`` offers for en-US here (a small, real-looking subset).
OFFERED_VOICES = ("en-US-Chirp3-HD-Charon", "en-US-Chirp3-HD-Kore", "en-US-Neural2-F")


def _handler_for(stub: TtsStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != VOICES_PATH:
                self._send(*_error(404, f"no such method: {self.path}"))
                return
            voices = [
                {"name": name, "languageCodes": ["en-US"], "naturalSampleRateHertz": 24000}
                for name in OFFERED_VOICES
            ]
            self._send(200, {"voices": voices})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            if self.path.split("?")[0] != SYNTHESIZE_PATH:
                self._send(*_error(404, f"no such method: {self.path}"))
                return
            body = json.loads(raw or b"{}")
            stub._record(body)
            failure = stub._take_failure()
            if failure is not None and (failure.mode == DROP or failure.status == 0):
                self.close_connection = True
                return
            if failure is not None and failure.mode == HANG:
                time.sleep(failure.seconds)
            elif failure is not None and failure.mode == INVALID_JSON:
                self._send_raw(200, b'{"audioContent": "UklGRiQAAABXQVZFZm10IBAAAAABAAEA')
                return
            elif failure is not None and failure.mode == WRONG_AUDIO:
                self._send(200, _wrong_audio())
                return
            elif failure is not None:
                self._send(*_error(failure.status, failure.message))
                return
            self._send(*_answer(body, stub.omit_timepoints))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(payload).encode("utf-8"))

        def _send_raw(self, status: int, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up waiting (a held-back answer)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output readable

    return Handler


@contextmanager
def running_tts_stub() -> Iterator[TtsStub]:
    """Serve a fresh stub on a free loopback port for the duration of the block."""
    stub = TtsStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval keeps shutdown (once per test) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="tts-stub", daemon=True
    )
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
