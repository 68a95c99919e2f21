"""When each bullet (or part of a visual) appears, and the distinct on-screen states that follow.

A scene with a visual reveals its items, each at the sentence its ``reveal_at`` names; a scene
without one reveals its bullets.

Pure functions over the scene and its audio timings. Times are quantised to whole microseconds
(the unit ffmpeg's concat demuxer reads durations in), and every state's duration is a
difference of quantised boundaries, so the durations add up to the audio duration exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from vividly_ray.domain.models import Scene, SceneAudio, SceneKind

MICROSECONDS = 1_000_000


@dataclass(frozen=True)
class SlideState:
    """``revealed`` parts are on screen from ``start_us`` to ``end_us`` into the scene."""

    revealed: int
    start_us: int
    end_us: int

    @property
    def start(self) -> float:
        return self.start_us / MICROSECONDS

    @property
    def end(self) -> float:
        return self.end_us / MICROSECONDS

    @property
    def duration(self) -> float:
        return (self.end_us - self.start_us) / MICROSECONDS


def revealed_parts(scene: Scene) -> int:
    """How many parts the scene reveals one after another: visual items, else bullets."""
    return len(scene.visual.items) if scene.visual is not None else len(scene.bullets)


def reveal_sentences(scene: Scene, sentence_count: int) -> list[int]:
    """For each part (visual item, else bullet), the sentence at whose start it appears.

    A visual's items carry their own ``reveal_at``. For bullets, explicit ``reveal_at`` entries
    win; bullets without one are spread evenly over the narration. A part never appears before
    the one before it, because the slide only ever gains parts.
    """
    count = revealed_parts(scene)
    if sentence_count == 0:
        return [0] * count
    if scene.visual is not None:
        chosen = [item.reveal_at for item in scene.visual.items]
    else:
        spread = [i * sentence_count // count for i in range(count)]
        chosen = [
            scene.reveal_at[i] if i < len(scene.reveal_at) else spread[i] for i in range(count)
        ]
    result: list[int] = []
    for sentence in chosen:
        clamped = min(max(sentence, 0), sentence_count - 1)
        result.append(max(clamped, result[-1]) if result else clamped)
    return result


def reveal_times(scene: Scene, audio: SceneAudio) -> list[float]:
    """Seconds into the audio at which each part appears.

    For the audio of one part of a scene (``audio.part``), a part revealed at an earlier
    sentence is on screen from the start, and one revealed at a later sentence is not shown
    (its time is the audio's end); so the pieces, joined, show what the whole scene shows.
    """
    if scene.kind in (SceneKind.TITLE, SceneKind.CREDITS):
        # Title cards and credits are read as a whole, so everything is there from the start.
        return [0.0] * len(scene.bullets)
    sentences = audio.sentences
    if not sentences:
        return [0.0] * revealed_parts(scene)
    piece = audio.part
    first, total = (0, len(sentences)) if piece is None else (piece.first, piece.total)
    times = []
    for k in reveal_sentences(scene, total):
        if k < first:
            times.append(0.0)
        elif k - first >= len(sentences):
            times.append(audio.duration)
        else:
            times.append(min(max(sentences[k - first].start, 0.0), audio.duration))
    return times


def _quantise(seconds: float) -> int:
    return round(seconds * MICROSECONDS)


def slide_states(scene: Scene, audio: SceneAudio) -> list[SlideState]:
    """The distinct visual states of a scene, back to back from 0 to the audio's end.

    Parts revealed at the same instant share a state; a state of zero length is dropped.
    """
    total = _quantise(audio.duration)
    times = [_quantise(t) for t in reveal_times(scene, audio)]
    # (boundary in microseconds, parts visible from then on)
    changes: list[tuple[int, int]] = [(0, 0)]
    for i, at in enumerate(times):
        # Clamp into the scene and never step back in time (sentence starts should not, but a
        # narrator's rounding could).
        at = max(min(at, total), changes[-1][0])
        if at == changes[-1][0]:
            changes[-1] = (at, i + 1)
        else:
            changes.append((at, i + 1))
    states: list[SlideState] = []
    for (start, revealed), (end, _) in zip(changes, [*changes[1:], (total, 0)], strict=True):
        if end > start:
            states.append(SlideState(revealed, start, end))
    return states
