"""Cutting scenes into parts of bounded length, so no long scene is left running alone.

A scene is narrated and encoded as one piece of work. On a pool of several workers a long scene
started late can leave the others idle while it finishes, and the first scene, which the
stream is waiting for, takes as long as its whole narration. So before a script goes to the
pools each scene is cut, at sentence boundaries, into parts of at most ``max_seconds`` of
estimated speech (the estimate the script's pacing uses), as evenly as the sentences allow:
a 20 s scene with a 12 s bound becomes two parts of about 10 s, not 12 and 8. The first scene
is cut finer (``first_max_seconds``), so the stream has a short piece to play almost at once.

Every piece costs a fixed share of work (a call, an encoder start, a stream part), so the
bound follows the pool (``pool_bound``): about ``PIECES_PER_SLOT`` pieces for each narration
the pool runs at once are enough to keep it busy to the end, and parts are never cut shorter
than ``MIN_PART_SECONDS``.

A scene that fits in one part is not cut (its piece is the whole scene, ``None``), and a
sentence is never split: a sentence longer than the bound is a part of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vividly_ray.domain.models import Grade, Scene, ScenePart
from vividly_ray.script.pacing import spoken_words
from vividly_ray.speech.timing import SENTENCE_GAP_SECONDS, spoken_sentences, words_per_second

MAX_PART_SECONDS = 30.0
FIRST_MAX_PART_SECONDS = 4.0
MIN_PART_SECONDS = 4.0
PIECES_PER_SLOT = 4


def pool_bound(
    scenes: Sequence[Scene], grade: Grade, slots: float, max_seconds: float = MAX_PART_SECONDS
) -> float:
    """The part bound for a pool that narrates ``slots`` pieces at once for this script: the
    script's speech shared into ``PIECES_PER_SLOT`` pieces a slot, within [MIN_PART_SECONDS,
    max_seconds]. ``slots`` may be a share of the pool (two slots among four requests running
    at once: half a slot each), since the other requests' pieces keep the pool busy too."""
    if slots <= 0:
        raise ValueError("slots must be positive")
    speech = sum(piece_seconds(scene, None, grade) for scene in scenes)
    wanted = speech / (PIECES_PER_SLOT * slots)
    return min(max_seconds, max(MIN_PART_SECONDS, wanted))


def scene_parts(
    scene: Scene, grade: Grade, max_seconds: float = MAX_PART_SECONDS
) -> list[ScenePart | None]:
    """The parts ``scene`` is narrated and encoded in, in order; ``[None]`` keeps it whole."""
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    sentences = spoken_sentences(scene)
    seconds = [_spoken_seconds(s, grade) for s in sentences]
    groups = _even_groups(seconds, max_seconds)
    if len(groups) <= 1:
        return [None]
    parts: list[ScenePart | None] = []
    first = 0
    for count in groups:
        parts.append(ScenePart(first=first, count=count, total=len(sentences)))
        first += count
    return parts


def script_pieces(
    scenes: Sequence[Scene],
    grade: Grade,
    max_seconds: float = MAX_PART_SECONDS,
    first_max_seconds: float = FIRST_MAX_PART_SECONDS,
) -> list[tuple[Scene, ScenePart | None]]:
    """Every scene's parts, in timeline order; the first scene with the finer bound."""
    if not scenes:
        return []
    opening = min(scenes, key=lambda s: s.index)
    pieces: list[tuple[Scene, ScenePart | None]] = []
    for scene in sorted(scenes, key=lambda s: s.index):
        bound = min(max_seconds, first_max_seconds) if scene is opening else max_seconds
        pieces.extend((scene, part) for part in scene_parts(scene, grade, bound))
    return pieces


def piece_seconds(scene: Scene, part: ScenePart | None, grade: Grade) -> float:
    """Estimated speech in one piece (its sentences and the gaps between them)."""
    sentences = spoken_sentences(scene, part)
    return sum(_spoken_seconds(s, grade) for s in sentences) - SENTENCE_GAP_SECONDS


def _spoken_seconds(sentence: str, grade: Grade) -> float:
    """A sentence's estimated speech plus the gap before the next one."""
    return spoken_words(sentence) / words_per_second(grade) + SENTENCE_GAP_SECONDS


def _even_groups(seconds: Sequence[float], bound: float) -> list[int]:
    """Sizes of consecutive groups, each at most ``bound`` where the sentences allow, as even
    as consecutive sentences can be: the fewest groups that fit, cut near equal shares."""
    if not seconds:
        return []
    total = sum(seconds)
    wanted = max(1, math.ceil(total / bound - 1e-9))
    while True:
        groups = _cut(seconds, total / wanted)
        if all(sum(g) <= bound for g in groups if len(g) > 1) or wanted >= len(seconds):
            return [len(g) for g in groups]
        wanted += 1


def _cut(seconds: Sequence[float], share: float) -> list[list[float]]:
    """Consecutive groups: a group closes at the sentence boundary nearest its share."""
    groups: list[list[float]] = [[]]
    elapsed, target = 0.0, share
    for index, value in enumerate(seconds):
        groups[-1].append(value)
        elapsed += value
        remaining = len(seconds) - index - 1
        if not remaining:
            break
        # Close here when stopping now is nearer the share than taking the next sentence.
        if abs(elapsed - target) <= abs(elapsed + seconds[index + 1] - target):
            groups.append([])
            target += share
    return groups
