"""Scenes cut into parts: the cut itself, and that the parts add up to the whole scene.

The narrator is the real SilentNarrator (sample-exact layout, no voice), so the audio a part
gets is what the pools would get; the slide states are the encoder's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vividly_ray.domain.models import (
    Grade,
    Scene,
    SceneAudio,
    SceneKind,
    ScenePart,
    SceneSegment,
    Script,
    Visual,
    VisualItem,
    VisualKind,
    piece_label,
    piece_name,
)
from vividly_ray.media.assemble import _chapters
from vividly_ray.media.reveal import slide_states
from vividly_ray.speech.parts import (
    MAX_PART_SECONDS,
    MIN_PART_SECONDS,
    piece_seconds,
    pool_bound,
    scene_parts,
    script_pieces,
)
from vividly_ray.speech.silent_narrator import SilentNarrator
from vividly_ray.speech.timing import part_edges
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

GRADE = Grade(6)  # 3.3 words a second at this grade


def _sentence(words: int) -> str:
    return " ".join(["word"] * (words - 1) + ["end."])


def _scene(index: int, *word_counts: int, kind: SceneKind = SceneKind.CONCEPT) -> Scene:
    narration = tuple(_sentence(n) for n in word_counts)
    return Scene(index, kind, f"Scene {index}", ("a", "b", "c"), narration, reveal_at=(0, 2, 3))


def _covers(parts: list[ScenePart | None], total: int) -> bool:
    cut = [p for p in parts if p is not None]
    return [p.first for p in cut] == [sum(q.count for q in cut[:i]) for i in range(len(cut))] and (
        sum(p.count for p in cut) == total and all(p.total == total for p in cut)
    )


# -- the domain value -------------------------------------------------------------------------


def test_a_part_must_narrate_sentences_of_its_scene() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        ScenePart(first=2, count=2, total=3)
    with pytest.raises(ValueError, match="1 or more"):
        ScenePart(first=0, count=0, total=3)
    part = ScenePart(first=1, count=2, total=3)
    assert (part.opens, part.closes) == (False, True)
    assert part.of(["a", "b", "c"]) == ["b", "c"]


def test_pieces_are_named_for_files_and_for_people() -> None:
    assert piece_name(3, None) == "scene-003"
    assert piece_name(3, ScenePart(4, 2, 6)) == "scene-003-04"
    assert piece_label(3, None) == "scene 3"
    assert piece_label(3, ScenePart(4, 2, 6)) == "scene 3 (sentences 5-6 of 6)"


def test_only_the_first_part_has_the_lead_in_and_only_the_last_the_tail() -> None:
    lead, tail = part_edges(None)
    gap = part_edges(ScenePart(1, 1, 3))[0]
    assert part_edges(ScenePart(0, 1, 3)) == (lead, 0.0)
    assert part_edges(ScenePart(1, 1, 3)) == (gap, 0.0)
    assert part_edges(ScenePart(2, 1, 3)) == (gap, tail)
    assert 0 < gap < lead


# -- the cut ----------------------------------------------------------------------------------


def test_a_scene_within_the_bound_is_not_cut() -> None:
    assert scene_parts(_scene(1, 10, 10), GRADE, max_seconds=12.0) == [None]
    assert scene_parts(_scene(1, 80), GRADE, max_seconds=12.0) == [None]  # one sentence


def test_a_long_scene_is_cut_into_even_parts_at_sentence_boundaries() -> None:
    # Eight sentences of 10 words: about 3.3 s each with its gap, 26 s in all.
    scene = _scene(1, *[10] * 8)
    parts = scene_parts(scene, GRADE, max_seconds=12.0)
    assert _covers(parts, 8)
    counts = [p.count for p in parts if p is not None]
    # The fewest parts within 12 s is three; cut near thirds of 26 s, at 8.9 s and 17.7 s.
    assert counts == [3, 2, 3]
    for part in parts:
        assert piece_seconds(scene, part, GRADE) <= 12.0


def test_the_cut_is_even_rather_than_greedy() -> None:
    # Seven sentences of about 3.3 s (23 s): filling each part up to 12 s would give 3 + 3 + 1;
    # the even cut into the same three parts is 2 + 3 + 2. With 8 s, 2 + 2 + 2 + 1 greedy and
    # an even 2 + 2 + 2 + 1 too (four parts are needed, seven sentences).
    scene = _scene(1, *[10] * 7)
    parts = scene_parts(scene, GRADE, max_seconds=12.0)
    assert [p.count for p in parts if p is not None] == [2, 3, 2]
    parts = scene_parts(scene, GRADE, max_seconds=8.0)
    counts = [p.count for p in parts if p is not None]
    assert len(counts) == 4 and sum(counts) == 7 and max(counts) == 2


def test_a_sentence_longer_than_the_bound_is_a_part_of_its_own() -> None:
    scene = _scene(1, 5, 60, 5)
    parts = scene_parts(scene, GRADE, max_seconds=6.0)
    assert _covers(parts, 3)
    assert any(p is not None and p.count == 1 and p.first == 1 for p in parts)


def test_the_first_scene_is_cut_finer_than_the_others() -> None:
    opening = _scene(0, 6, 6, 6, kind=SceneKind.TITLE)
    concept = _scene(1, 6, 6, 6)
    pieces = script_pieces([concept, opening], GRADE, max_seconds=12.0, first_max_seconds=4.0)
    assert [(s.index, p is None) for s, p in pieces] == [(0, False)] * 3 + [(1, True)]


def test_a_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        scene_parts(_scene(1, 10), GRADE, max_seconds=0)


# -- the parts add up to the whole --------------------------------------------------------------


@pytest.fixture
def narrator(tmp_path: Path) -> SilentNarrator:
    blobs = LocalBlobStore(tmp_path / "blobs")
    return SilentNarrator(ContentCache(blobs, tmp_path / "scratch"))


def _parts_of(scene: Scene, narrator: SilentNarrator) -> tuple[SceneAudio, list[SceneAudio]]:
    whole = narrator.narrate(scene, GRADE)
    parts = [p for p in scene_parts(scene, GRADE, max_seconds=7.0) if p is not None]
    assert len(parts) > 1
    return whole, [narrator.narrate(scene, GRADE, part) for part in parts]


def test_the_parts_audio_joined_is_the_whole_scenes(narrator: SilentNarrator) -> None:
    scene = _scene(1, 9, 7, 12, 8, 10)
    whole, pieces = _parts_of(scene, narrator)
    assert sum(p.duration for p in pieces) == pytest.approx(whole.duration, abs=2e-4)
    joined, offset = [], 0.0
    for piece in pieces:
        joined.extend((t.text, t.start + offset, t.end + offset) for t in piece.sentences)
        offset += piece.duration
    expected = [(t.text, t.start, t.end) for t in whole.sentences]
    assert [t for t, _, _ in joined] == [t for t, _, _ in expected]
    for (_, start, end), (_, want_start, want_end) in zip(joined, expected, strict=True):
        assert start == pytest.approx(want_start, abs=2e-4)
        assert end == pytest.approx(want_end, abs=2e-4)
    assert all(p.part is not None for p in pieces) and whole.part is None
    # Each part is its own cache entry, apart from the whole scene's.
    assert len({p.content_key for p in pieces} | {whole.content_key}) == len(pieces) + 1


def _shown(states: list[tuple[float, float, int]], at: float) -> int:
    return next(revealed for start, end, revealed in states if start <= at < end)


@pytest.mark.parametrize("with_visual", [False, True])
def test_the_parts_slides_show_what_the_whole_scene_shows(
    narrator: SilentNarrator, with_visual: bool
) -> None:
    scene = _scene(1, 9, 7, 12, 8, 10)
    if with_visual:
        items = tuple(VisualItem(f"step {n}", reveal_at=at) for n, at in enumerate((0, 1, 3, 4)))
        scene = Scene(
            scene.index,
            scene.kind,
            scene.title,
            scene.bullets,
            scene.narration,
            visual=Visual(VisualKind.STEPS, items),
        )
    whole, pieces = _parts_of(scene, narrator)
    expected = [(s.start, s.end, s.revealed) for s in slide_states(scene, whole)]
    joined, offset = [], 0.0
    for piece in pieces:
        joined.extend(
            (s.start + offset, s.end + offset, s.revealed) for s in slide_states(scene, piece)
        )
        offset += piece.duration
    # Sample the two timelines every 50 ms: the same parts are on screen at every instant.
    steps = int(whole.duration / 0.05) - 1
    for step in range(steps):
        at = step * 0.05
        assert _shown(joined, at) == _shown(expected, at), f"at {at:.2f} s"
    assert max(r for _, _, r in joined) == max(r for _, _, r in expected)


def test_a_scene_cut_into_parts_is_one_chapter() -> None:
    scenes = (
        Scene(0, SceneKind.TITLE, "Title", (), ("Hello there.",)),
        Scene(1, SceneKind.CONCEPT, "Middle", ("b",), ("One.", "Two.", "Three.")),
        Scene(2, SceneKind.RECAP, "End", ("b",), ("Bye now.",)),
    )
    script = Script("T", GRADE, 30.0, scenes, ())

    def piece(
        index: int, seconds: float, part: ScenePart | None
    ) -> tuple[SceneAudio, SceneSegment]:
        audio = SceneAudio(index, f"a{index}", seconds, (), f"k{index}", part=part)
        return audio, SceneSegment(index, f"v{index}", seconds, f"s{index}", part=part)

    pieces = [
        piece(0, 2.0, None),
        piece(1, 3.0, ScenePart(0, 2, 3)),
        piece(1, 1.5, ScenePart(2, 1, 3)),
        piece(2, 2.5, None),
    ]
    chapters = _chapters(script, pieces, [0.0, 2.0, 5.0, 6.5])
    assert chapters == (("Title", 0.0, 2.0), ("Middle", 2.0, 6.5), ("End", 6.5, 9.0))


def test_the_bound_follows_the_pool() -> None:
    # Ten scenes of about 20 s of speech (six 10-word sentences each): 200 s in all.
    scenes = [_scene(i, *[10] * 6) for i in range(10)]
    speech = sum(piece_seconds(s, None, GRADE) for s in scenes)
    # Two narrations at once: four pieces each, 25 s: no scene needs cutting.
    assert pool_bound(scenes, GRADE, slots=2) == pytest.approx(speech / 8)
    assert all(scene_parts(s, GRADE, pool_bound(scenes, GRADE, 2)) == [None] for s in scenes)
    # Sixteen: the floor of 4 s, every scene in parts.
    assert pool_bound(scenes, GRADE, slots=16) == MIN_PART_SECONDS
    assert all(len(scene_parts(s, GRADE, MIN_PART_SECONDS)) > 1 for s in scenes)
    # One: never above the longest part allowed.
    assert pool_bound(scenes, GRADE, slots=1, max_seconds=12.0) == 12.0


def test_requests_running_together_share_the_pools_slots() -> None:
    # A 1-minute script: six scenes of about 10 s of speech.
    scenes = [_scene(i, *[10] * 3) for i in range(6)]
    speech = sum(piece_seconds(s, None, GRADE) for s in scenes)
    alone = pool_bound(scenes, GRADE, slots=2)
    # Two slots among four requests: half a slot each, so each script is cut four times
    # more coarsely (here up to the longest part allowed: whole scenes).
    shared = pool_bound(scenes, GRADE, slots=2 / 4)
    assert alone == pytest.approx(speech / 8)
    assert shared == pytest.approx(min(MAX_PART_SECONDS, speech / 2))
    assert sum(len(scene_parts(s, GRADE, shared)) for s in scenes) < sum(
        len(scene_parts(s, GRADE, alone)) for s in scenes
    )
    with pytest.raises(ValueError, match="slots"):
        pool_bound(scenes, GRADE, slots=0)
