"""The narration encoded as the pieces finish, by the real ffmpeg, is the track the assembler
would have encoded: the same AAC packets at the same times in the delivered MP4, whatever the
pieces' slots and voices; and when it cannot be used, the assembler still makes the video."""

from __future__ import annotations

import dataclasses
import math
import struct
import tempfile
import wave
from pathlib import Path

import av
import pytest

from vividly_ray.domain.models import (
    AssembledVideo,
    EncodedNarration,
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    SceneSegment,
    Script,
)
from vividly_ray.media.assemble import VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.narration_track import ProgressiveNarration
from vividly_ray.pipeline.ports import NarrationTrack
from vividly_ray.speech.silent_narrator import SilentNarrator
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

SPEC = RenderSpec(width=320, height=180)
GRADE = Grade(5)
SCENES = (
    Scene(0, SceneKind.TITLE, "Rain", ("Grade 5 science",), ("Rain falls from clouds.",)),
    Scene(
        1,
        SceneKind.CONCEPT,
        "Why It Rains",
        ("Droplets grow", "They fall"),
        (
            "Tiny droplets in a cloud bump into each other and grow.",
            "When they are too heavy to float, they fall as rain.",
        ),
        reveal_at=(0, 1),
    ),
    Scene(2, SceneKind.RECAP, "Recap", ("Droplets grow and fall",), ("That is rain.",)),
)
SCRIPT = Script("Rain", GRADE, 20.0, SCENES, ())


def _tone(path: Path, seconds: float, hertz: float, rate: int = 22_050) -> None:
    """A real signal (a silent track would encode to the same packets whatever went wrong)."""
    frames = round(seconds * rate)
    samples = (round(9000 * math.sin(2 * math.pi * hertz * n / rate)) for n in range(frames))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))


@dataclasses.dataclass
class Pieces:
    root: Path
    store: LocalBlobStore
    pieces: list[tuple[SceneAudio, SceneSegment]]

    def assembler(self) -> VideoAssembler:
        return VideoAssembler(self.store, self.root / "work", reuse=False)

    def track_dir(self) -> Path:
        """A folder of its own for each track, so one test's leftovers fail only that test."""
        return Path(tempfile.mkdtemp(prefix="narration-", dir=self.root))

    def encode_ahead(
        self, pieces: list[tuple[SceneAudio, SceneSegment]] | None = None
    ) -> tuple[NarrationTrack, EncodedNarration | None, Path]:
        folder = self.track_dir()
        track = ProgressiveNarration(self.store, folder).start()
        for audio, segment in pieces if pieces is not None else self.pieces:
            track.add(audio, segment)
        return track, track.finish(60.0), folder


def _pieces(root: Path, *, fallback_rate: int | None = None) -> Pieces:
    store = LocalBlobStore(root / "blobs")
    cache = ContentCache(store, root / "tmp")
    narrator = SilentNarrator(cache)
    encoder = FfmpegSegmentEncoder(SPEC, cache, root / "work")
    pieces = []
    for scene in SCENES:
        silent = narrator.narrate(scene, GRADE)
        wav = root / f"tone-{scene.index}.wav"
        # The last scene's voice may be a fallback's, at its own rate.
        rate = fallback_rate if fallback_rate and scene.index == 2 else 22_050
        # A little shorter than its slot (padded) for one scene, longer (trimmed) for another.
        stretch = {0: 0.8, 1: 1.1, 2: 1.0}[scene.index]
        _tone(wav, silent.duration * stretch, 220.0 * (scene.index + 1), rate)
        key = f"cache/tone/{scene.index}.wav"
        store.put_file(key, wav, "audio/wav")
        audio = dataclasses.replace(silent, wav_key=key, content_key=f"tone-{scene.index}")
        pieces.append((audio, encoder.encode(scene, audio)))
    return Pieces(root, store, pieces)


def _audio_packets(video: AssembledVideo) -> list[tuple[int | None, int | None, bytes]]:
    with av.open(str(video.video_path)) as container:
        stream = container.streams.audio[0]
        return [(p.pts, p.duration, bytes(p)) for p in container.demux(stream) if p.size]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Pieces:
    return _pieces(tmp_path_factory.mktemp("pieces"))


def test_the_track_encoded_ahead_is_the_track_assembly_encodes(made: Pieces) -> None:
    direct = made.assembler().assemble(SCRIPT, made.pieces, SPEC, made.root / "direct")
    track, encoded, folder = made.encode_ahead()
    assert encoded is not None
    assert [p[2] for p in encoded.pieces] == [s.duration for _, s in made.pieces]
    ahead = made.assembler().assemble(
        SCRIPT, made.pieces, SPEC, made.root / "ahead", narration=encoded
    )
    packets = _audio_packets(ahead)
    assert len(packets) > 100
    assert packets == _audio_packets(direct)
    assert ahead.duration == pytest.approx(direct.duration, abs=1e-6)
    assert ahead.chapters == direct.chapters
    assert ahead.vtt_path.read_text() == direct.vtt_path.read_text()
    # The encode's CPU is the assembly's work.
    assert encoded.cpu_seconds > 0
    assert ahead.cpu_seconds >= encoded.cpu_seconds
    track.abandon()
    assert list(folder.iterdir()) == []


def test_a_fallback_voice_at_another_rate_is_resampled_as_assembly_would(
    tmp_path: Path,
) -> None:
    pieces = _pieces(tmp_path, fallback_rate=24_000)
    direct = pieces.assembler().assemble(SCRIPT, pieces.pieces, SPEC, tmp_path / "direct")
    track, encoded, folder = pieces.encode_ahead()
    assert encoded is not None
    ahead = pieces.assembler().assemble(
        SCRIPT, pieces.pieces, SPEC, tmp_path / "ahead", narration=encoded
    )
    assert _audio_packets(ahead) == _audio_packets(direct)
    track.abandon()


def test_pieces_all_reused_start_no_encode(made: Pieces) -> None:
    reused = [(a, dataclasses.replace(s, reused=True)) for a, s in made.pieces]
    track, encoded, folder = made.encode_ahead(reused)
    assert encoded is None
    assert list(folder.iterdir()) == []  # not even a scratch folder
    track.abandon()


def test_the_encode_starts_at_the_first_new_piece_and_still_holds_every_piece(
    made: Pieces,
) -> None:
    (first_audio, first), *rest = made.pieces
    mixed = [(first_audio, dataclasses.replace(first, reused=True)), *rest]
    track, encoded, folder = made.encode_ahead(mixed)
    assert encoded is not None
    assert [p[0] for p in encoded.pieces] == [a.wav_key for a, _ in made.pieces]
    track.abandon()


def test_a_piece_that_cannot_be_read_only_loses_the_head_start(made: Pieces) -> None:
    audio, segment = made.pieces[1]
    broken = [made.pieces[0], (dataclasses.replace(audio, wav_key="cache/tone/gone.wav"), segment)]
    track, encoded, folder = made.encode_ahead(broken)
    assert encoded is None
    track.abandon()
    assert list(folder.iterdir()) == []


def test_a_track_of_other_pieces_is_not_used(made: Pieces, tmp_path: Path) -> None:
    track, encoded, folder = made.encode_ahead(made.pieces[:2])
    assert encoded is not None
    direct = made.assembler().assemble(SCRIPT, made.pieces, SPEC, tmp_path / "direct")
    video = made.assembler().assemble(
        SCRIPT, made.pieces, SPEC, tmp_path / "ahead", narration=encoded
    )
    # The whole narration, not the first two pieces' track.
    assert _audio_packets(video) == _audio_packets(direct)
    track.abandon()


def test_an_abandoned_track_stops_its_encode_and_removes_its_files(made: Pieces) -> None:
    folder = made.track_dir()
    track = ProgressiveNarration(made.store, folder).start()
    track.add(*made.pieces[0])
    track.abandon()
    track.add(*made.pieces[1])  # too late: ignored
    assert track.finish(5.0) is None
    assert list(folder.iterdir()) == []


def test_a_scratch_folder_that_cannot_be_made_only_loses_the_head_start(made: Pieces) -> None:
    blocked = made.root / "blocked"
    blocked.write_text("a file where the folder would go")
    track = ProgressiveNarration(made.store, blocked / "narration").start()
    for piece in made.pieces:
        track.add(*piece)  # never raises: the render goes on
    assert track.finish(5.0) is None
    track.abandon()


def test_the_track_makes_its_folder(made: Pieces) -> None:
    folder = made.root / "not" / "there" / "yet"
    track = ProgressiveNarration(made.store, folder).start()
    for piece in made.pieces:
        track.add(*piece)
    assert track.finish(60.0) is not None
    track.abandon()
    assert list(folder.iterdir()) == []
