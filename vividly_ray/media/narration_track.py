"""ProgressiveNarration: the narration track encoded to AAC while the scenes still render.

The delivered MP4's narration is one AAC encode of every piece's PCM laid back to back
(``media.narration``); done at assembly, that encode is most of processing_video, with the
pools idle. Here one ffmpeg process reads the PCM from a pipe as the pieces finish, in
timeline order, so by the time the last segment is encoded the track is nearly done, and the
assembler only copies it. The samples are laid out by the same ``SlotFitter`` as the joined
track and encoded with the same settings, so the packets are the ones a direct encode makes.

The encode starts at the first piece that was not reused from the cache: a repeated request,
whose assembled files are cached too, encodes nothing. Anything that goes wrong (a blob that
cannot be read, ffmpeg failing) only loses the head start: ``finish`` returns None and the
assembler encodes the narration itself.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import EncodedNarration, SceneAudio, SceneSegment
from vividly_ray.media.ffmpeg import (
    command_line,
    narration_encode_args,
)
from vividly_ray.media.narration import PcmFormat, SlotFitter, in_format, read_wav
from vividly_ray.observability.cpu import cpu_meter

STAGE = "processing_video"
log = logging.getLogger("vividly.narration")


class ProgressiveNarration:
    """Implements the ``NarrationEncoder`` port; tracks work in ``work_dir`` on this node."""

    def __init__(self, blobs: BlobStore, work_dir: Path) -> None:
        self.blobs = blobs
        self.work_dir = Path(work_dir)

    def start(self) -> NarrationTrackEncode:
        return NarrationTrackEncode(self.blobs, self.work_dir)


class NarrationTrackEncode:
    """One request's track (the ``NarrationTrack`` port): pieces in, one M4A out."""

    def __init__(self, blobs: BlobStore, work_dir: Path) -> None:
        self._blobs = blobs
        self._work_dir = work_dir
        self._lock = threading.Lock()
        self._pieces: list[tuple[SceneAudio, float]] = []
        self._work: queue.Queue[tuple[SceneAudio, float] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._scratch: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stopped = threading.Event()
        self._result: EncodedNarration | None = None

    def add(self, audio: SceneAudio, segment: SceneSegment) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            self._pieces.append((audio, segment.duration))
            if self._thread is None:
                if segment.reused:
                    return  # nothing encoded yet: the assembled files may well be cached
                try:
                    self._work_dir.mkdir(parents=True, exist_ok=True)
                    self._scratch = Path(tempfile.mkdtemp(prefix="narration-", dir=self._work_dir))
                except OSError as exc:
                    # Never the request's failure: the assembler encodes the narration instead.
                    log.warning("the narration is not encoded ahead: %s", exc)
                    self._stopped.set()
                    return
                self._thread = threading.Thread(
                    target=self._encode_all, name="narration", daemon=True
                )
                self._thread.start()
                for piece in self._pieces:
                    self._work.put(piece)
            else:
                self._work.put(self._pieces[-1])

    def finish(self, timeout: float) -> EncodedNarration | None:
        with self._lock:
            thread = self._thread
            if thread is None or self._stopped.is_set():
                return None
            self._work.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the narration encode did not finish within %.0f s", timeout)
            self.abandon()
            return None
        return self._result

    def abandon(self) -> None:
        with self._lock:
            self._stopped.set()
            self._work.put(None)
            process, scratch, thread = self._process, self._scratch, self._thread
        if process is not None and process.returncode is None:
            process.kill()
        if thread is not None and thread is not threading.current_thread():
            thread.join(5.0)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    # -- the encoding thread ---------------------------------------------------------------

    def _encode_all(self) -> None:
        assert self._scratch is not None
        try:
            self._result = self._encode(self._scratch)
        except Exception as exc:  # noqa: BLE001 - the assembler encodes the narration instead
            if not self._stopped.is_set():
                log.warning("the narration was not encoded ahead (%s); assembly encodes it", exc)
        finally:
            process = self._process
            if process is not None and process.returncode is None:
                process.kill()  # stopped part way: nothing waits for this encode any more
                process.wait()

    def _encode(self, scratch: Path) -> EncodedNarration | None:
        out = scratch / "narration.m4a"
        fitter: SlotFitter | None = None
        encoded: list[tuple[str, str, float]] = []
        stderr_path = scratch / "ffmpeg.log"
        with cpu_meter() as measured, stderr_path.open("wb") as stderr:
            while (piece := self._work.get()) is not None:
                if self._stopped.is_set():
                    return None
                audio, slot = piece
                fmt, pcm = self._samples(audio, fitter.fmt if fitter else None)
                if fitter is None:
                    fitter = SlotFitter(fmt)
                    with self._lock:
                        if self._stopped.is_set():
                            return None
                        self._process = self._start(fmt, out, stderr)
                assert self._process is not None and self._process.stdin is not None
                self._process.stdin.write(fitter.fit(pcm, slot))
                encoded.append((audio.wav_key, audio.content_key, slot))
            if self._process is None or self._stopped.is_set():
                return None
            assert self._process.stdin is not None
            self._process.stdin.close()
            _, status, usage = os.wait4(self._process.pid, 0)
            self._process.returncode = os.waitstatus_to_exitcode(status)
        if self._process.returncode != 0:
            tail = stderr_path.read_text("utf-8", errors="replace").strip()[-500:]
            raise StageFailed(
                STAGE, f"ffmpeg exited with status {self._process.returncode}: {tail}"
            )
        return EncodedNarration(
            path=out,
            pieces=tuple(encoded),
            cpu_seconds=measured.seconds + usage.ru_utime + usage.ru_stime,
        )

    def _start(self, fmt: PcmFormat, out: Path, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
        args = narration_encode_args(fmt.rate, fmt.channels, fmt.width, out)
        return subprocess.Popen(
            command_line(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )

    def _samples(self, audio: SceneAudio, target: PcmFormat | None) -> tuple[PcmFormat, bytes]:
        """The piece's PCM, in the track's format (a fallback voice speaks at its own rate)."""
        assert self._scratch is not None
        local = self._blobs.get_file(audio.wav_key, self._scratch / "piece.wav")
        converted = local
        try:
            if target is not None:
                converted = in_format(local, target)
            return read_wav(converted)
        finally:
            local.unlink(missing_ok=True)
            converted.unlink(missing_ok=True)
