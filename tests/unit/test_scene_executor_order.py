"""The pools take a request's pieces in the order the executor sends them, even through a
router that serves queued calls newest first: at most ``narration_slots`` are in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    SceneSegment,
    Script,
    SentenceTiming,
)

scene_executor = pytest.importorskip("actors.scene_executor")


class _Response:
    def __init__(self) -> None:
        self._done = threading.Event()
        self._value: Any = None

    def finish(self, value: Any) -> None:
        self._value = value
        self._done.set()

    def result(self) -> Any:
        assert self._done.wait(10), "the fake pool never answered"
        return self._value

    def cancel(self) -> None:
        self._done.set()


class _BothPools:
    """A fake that stands for the Narrator and the SegmentEncoder handle alike."""

    @property
    def narrate(self) -> Any:
        return self

    @property
    def encode(self) -> Any:
        return self


@dataclass
class LifoPool(_BothPools):
    """``workers`` replicas that take the newest queued call first, as a router that does
    not keep the order of queued calls may."""

    work: Callable[..., Any]
    workers: int = 2
    started: list[tuple[int, int]] = field(default_factory=list)
    queue: list[tuple[tuple[Any, ...], _Response]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    closed: bool = False

    def __post_init__(self) -> None:
        for _ in range(self.workers):
            threading.Thread(target=self._serve, daemon=True).start()

    def remote(self, *args: Any) -> _Response:
        response = _Response()
        with self.cond:
            self.queue.append((args, response))
            self.cond.notify()
        return response

    def _serve(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.queue or self.closed, timeout=0.05)
                if self.closed:
                    return
                if not self.queue:
                    continue
            time.sleep(0.005)  # the router's own latency: calls sent meanwhile queue too
            with self.cond:
                if not self.queue:
                    continue
                args, response = self.queue.pop()  # a free worker takes the newest call
            response.finish(self.work(self, *args))


def _narrate(pool: LifoPool, scene: Scene, grade: Grade, part: Any) -> SceneAudio:
    with pool.cond:
        pool.started.append((scene.index, 0 if part is None else part.first))
    time.sleep(0.03)  # the work: calls sent meanwhile queue up
    timing = SentenceTiming(scene.narration[0], 0.1, 0.9)
    return SceneAudio(scene.index, "a.wav", 1.0, (timing,), f"a{scene.index}", part=part)


def _encode(pool: LifoPool, spec: RenderSpec, scene: Scene, audio: SceneAudio) -> SceneSegment:
    return SceneSegment(scene.index, "s.mp4", 1.0, f"s{scene.index}", part=audio.part)


def _script() -> Script:
    opening = Scene(0, SceneKind.TITLE, "T", (), ("Short one.", "Short two here.", "Three."))
    concepts = tuple(
        Scene(i, SceneKind.CONCEPT, f"C{i}", ("b",), (" ".join(["word"] * (5 + i)) + ".",))
        for i in range(1, 7)
    )
    return Script("T", Grade(6), 60.0, (opening, *concepts), ())


def _run(
    slots: int, script: Script | None = None, **options: Any
) -> tuple[LifoPool, list[tuple[SceneAudio, SceneSegment]], list[Any]]:
    narrators, encoders = LifoPool(_narrate), LifoPool(_encode)
    try:
        executor = scene_executor.ServeSceneExecutor(
            narrators,
            encoders,
            stop=threading.Event(),
            narration_slots=slots,
            **{"first_max_part_seconds": 1.0, **options},
        )
        done: list[tuple[int, int]] = []
        results = executor.run(
            script or _script(),
            RenderSpec(640, 360),
            lambda audio, segment: done.append((audio.scene_index, 0)),
        )
    finally:
        narrators.closed = encoders.closed = True
    return narrators, results, done


@pytest.mark.parametrize("slots", [1, 2])
def test_the_first_scenes_parts_are_narrated_first(slots: int) -> None:
    narrators, results, done = _run(slots)
    opening = [place for place in narrators.started if place[0] == 0]
    assert len(opening) == 3  # the opening scene was cut into its three sentences
    # Whatever order the pool serves queued calls in, it only ever holds ``slots`` of them, so
    # the opening's parts start among the first sent (two calls in flight at once may swap),
    # and the longest concept scene right after them.
    first = narrators.started[: 3 + slots - 1]
    assert all(place in first for place in [(0, 0), (0, 1), (0, 2)]), narrators.started
    assert (6, 0) in narrators.started[: 4 + slots - 1]
    assert [(a.scene_index, a.part.first if a.part else 0) for a, _ in results] == [
        (0, 0),
        (0, 1),
        (0, 2),
        *[(i, 0) for i in range(1, 7)],
    ]
    assert len(done) == 9


def test_without_the_limit_such_a_pool_would_take_them_out_of_order() -> None:
    """The same pool with every piece in flight at once: the newest calls go first."""
    narrators, _, _ = _run(slots=20)
    first = narrators.started[:4]
    assert not all(place in first for place in [(0, 0), (0, 1), (0, 2)]), narrators.started


def test_a_pool_without_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="narration_slots"):
        scene_executor.ServeSceneExecutor(None, None, stop=threading.Event(), narration_slots=0)


def test_requests_running_beside_this_one_make_its_pieces_fewer() -> None:
    def pieces(load: int) -> int:
        _, results, _ = _run(
            2,
            _long_script(),
            max_part_seconds=30.0,
            first_max_part_seconds=30.0,
            load=lambda: load,
        )
        return len(results)

    # Alone, the two slots get about four pieces each, so the long scenes are cut; with three
    # more requests running, each script has half a slot and its scenes stay whole.
    assert pieces(load=1) > pieces(load=4) == 3


def _long_script() -> Script:
    sentence = " ".join(["word"] * 12) + "."
    scenes = tuple(
        Scene(i, SceneKind.CONCEPT, f"C{i}", ("b",), tuple([sentence] * 6)) for i in range(3)
    )
    return Script("T", Grade(6), 60.0, scenes, ())


@dataclass
class CountingPool(_BothPools):
    """A pool that serves every call at once and records the most calls in flight at a time."""

    seconds: float
    busy: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remote(self, *args: Any) -> _Response:
        response = _Response()
        with self.lock:
            self.busy += 1
            self.most = max(self.most, self.busy)

        def serve() -> None:
            time.sleep(self.seconds)
            scene = args[0] if isinstance(args[0], Scene) else args[1]
            with self.lock:
                self.busy -= 1
            if len(args) == 3 and isinstance(args[0], Scene):  # narrate(scene, grade, part)
                timing = SentenceTiming(scene.narration[0], 0.1, 0.9)
                response.finish(SceneAudio(scene.index, "a.wav", 1.0, (timing,), "a", part=args[2]))
            else:  # encode(spec, scene, audio)
                response.finish(SceneSegment(scene.index, "s.mp4", 1.0, "s", part=args[2].part))

        threading.Thread(target=serve, daemon=True).start()
        return response


@pytest.mark.parametrize("shared", [True, False])
def test_requests_of_one_dispatcher_share_the_pools_slots(shared: bool) -> None:
    narrators, encoders = CountingPool(0.02), CountingPool(0.03)
    slots = scene_executor.PoolSlots(narrations=2, encodes=1) if shared else None

    def request() -> None:
        executor = scene_executor.ServeSceneExecutor(
            narrators, encoders, stop=threading.Event(), narration_slots=2, slots=slots
        )
        executor.run(_script(), RenderSpec(640, 360), lambda audio, segment: None)

    threads = [threading.Thread(target=request) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if shared:
        # Three requests at once, and still no more calls than the pools can take.
        assert (narrators.most, encoders.most) == (2, 1)
    else:
        # Each request alone holds its narrations to the capacity; together they exceed it,
        # and encodes are sent as soon as their audio exists.
        assert narrators.most > 2 and encoders.most > 1


def test_pool_slots_need_one_slot_each() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        scene_executor.PoolSlots(narrations=2, encodes=0)
