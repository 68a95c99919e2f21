"""ServeSceneExecutor: narration on the Narrator pool, encoding on the SegmentEncoder pool.

Scenes are first cut into parts of bounded length (``speech.parts``; the bound shrinks as the
Narrator pool grows, about four pieces per narration slot, and grows with the requests the
Dispatcher runs at once, which share the slots): a long scene's sentences are
narrated and encoded as several pieces, on whichever replicas are free, so one long scene
cannot leave the other workers idle at the end. Each piece runs on its own thread:
narrate (the least-loaded Narrator replica takes it), then send the encode at once. A piece's
encode starts the moment its own audio exists: no barrier between narrating and encoding.
``stop`` (cancelled, or the lease was lost) cancels the rest.

Pieces are sent in ``dispatch_order``: the first scene's pieces first, in order, so the stream
has something to play almost at once (it publishes pieces in timeline order), then the rest
longest first, so the long ones do not finish last. The threads take turns to send, and at most
``narration_slots`` narrations (the Narrator pool's capacity) are in flight at once: Serve's
router does not keep the order of calls that queue for a replica, so the rest wait here, in
order, until a narration returns. Encodes are held the same way to the SegmentEncoder pool's
capacity (``encode_slots``). A call that finds every replica busy waits in the router, which
retries with a growing backoff; one sent as a slot frees starts at once. The slots are
``PoolSlots`` shared by every request a Dispatcher runs, so its requests queue here, not in
the router.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

from ray.serve.exceptions import RequestCancelledError

from actors.errors import unwrapped
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    ScenePart,
    SceneSegment,
    Script,
)
from vividly_ray.observability.logs import bind_context, current_context
from vividly_ray.pipeline.ports import SceneDone
from vividly_ray.speech.parts import (
    FIRST_MAX_PART_SECONDS,
    MAX_PART_SECONDS,
    piece_seconds,
    pool_bound,
    script_pieces,
)

POLL_S = 0.1
Piece = tuple[Scene, ScenePart | None]


class PoolSlots:
    """The calls one Dispatcher may have in flight on each pool: its narration and encoding
    capacity (replicas x calls each). Shared by the executors of every request it runs."""

    def __init__(self, narrations: int, encodes: int | None = None) -> None:
        if narrations < 1 or (encodes is not None and encodes < 1):
            raise ValueError("a pool has at least one slot")
        self.narrations = narrations
        self.narrate = threading.BoundedSemaphore(narrations)
        self.encode = threading.BoundedSemaphore(encodes) if encodes is not None else None


def dispatch_order(pieces: Sequence[Piece], grade: Grade) -> list[Piece]:
    """The first scene's pieces in order, then the others longest first (ties in timeline
    order)."""
    if not pieces:
        return []
    opening = min(scene.index for scene, _ in pieces)
    first = [p for p in pieces if p[0].index == opening]
    rest = [p for p in pieces if p[0].index != opening]
    timeline = {id(p): n for n, p in enumerate(rest)}
    return [
        *first,
        *sorted(rest, key=lambda p: (-piece_seconds(p[0], p[1], grade), timeline[id(p)])),
    ]


class ServeSceneExecutor:
    """Implements the SceneExecutor port over the pools."""

    def __init__(
        self,
        narrators: Any,
        encoders: Any,
        *,
        stop: threading.Event,
        max_part_seconds: float = MAX_PART_SECONDS,
        first_max_part_seconds: float = FIRST_MAX_PART_SECONDS,
        narration_slots: int = 2,
        load: Callable[[], int] | None = None,
        slots: PoolSlots | None = None,
    ) -> None:
        if narration_slots < 1:
            raise ValueError("narration_slots must be 1 or more")
        # Without shared slots, each request holds its narrations to the pool's capacity alone.
        self._shared = slots
        if slots is not None:
            narration_slots = slots.narrations
        self._load = load
        self._narrators = narrators
        self._encoders = encoders
        self._stop = stop
        self._slots = narration_slots
        self._max_part_seconds = max_part_seconds
        self._first_max_part_seconds = first_max_part_seconds

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        # Requests running beside this one share the pool: each is cut for its share, since
        # every piece costs a fixed share (a call each way, an encoder start, a stream part).
        share = self._slots / max(1, self._load()) if self._load is not None else self._slots
        bound = pool_bound(script.scenes, script.grade, share, self._max_part_seconds)
        pieces = script_pieces(script.scenes, script.grade, bound, self._first_max_part_seconds)
        order = dispatch_order(pieces, script.grade)
        # turns[i] is set once the piece before it has sent its narration.
        turns = [threading.Event() for _ in range(len(order) + 1)]
        turns[0].set()
        results: dict[tuple[int, int], tuple[SceneAudio, SceneSegment]] = {}
        gates = self._shared or PoolSlots(self._slots)
        calls: list[Any] = []
        lock = threading.Lock()
        context = current_context()  # this request's ids, for the logs of the scene threads

        def call(response: Any) -> Any:
            with lock:
                calls.append(response)
            if self._stop.is_set():
                response.cancel()
            try:
                return unwrapped(response.result)
            except RequestCancelledError:
                raise StageFailed("generating_video", "stopped", retryable=True) from None

        def acquire(gate: threading.BoundedSemaphore) -> None:
            while not gate.acquire(timeout=POLL_S):
                if self._stop.is_set():
                    raise StageFailed("generating_video", "stopped", retryable=True)

        @contextmanager
        def held(gate: threading.BoundedSemaphore | None) -> Iterator[None]:
            if gate is None:  # no limit on this pool
                yield
                return
            acquire(gate)
            try:
                yield
            finally:
                gate.release()

        def one(piece: Piece, turn: int) -> tuple[SceneAudio, SceneSegment]:
            scene, part = piece
            with bind_context(context):
                try:
                    turns[turn].wait()
                    # Holding the turn while waiting for a slot keeps the sending order.
                    acquire(gates.narrate)
                    try:
                        if self._stop.is_set():
                            raise StageFailed("generating_video", "stopped", retryable=True)
                        narrating = self._narrators.narrate.remote(scene, script.grade, part)
                    except BaseException:
                        gates.narrate.release()
                        raise
                finally:
                    turns[turn + 1].set()
                try:
                    audio: SceneAudio = call(narrating)
                finally:
                    gates.narrate.release()
                with held(gates.encode):
                    segment: SceneSegment = call(self._encoders.encode.remote(spec, scene, audio))
                return audio, segment

        with ThreadPoolExecutor(max_workers=max(1, len(order)), thread_name_prefix="scene") as pool:
            futures: dict[Future[tuple[SceneAudio, SceneSegment]], tuple[int, int]] = {
                pool.submit(one, piece, turn): _place(piece) for turn, piece in enumerate(order)
            }
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        audio, segment = future.result()
                        results[futures[future]] = (audio, segment)
                        on_scene_done(audio, segment)
                    if self._stop.is_set() and pending:
                        raise StageFailed("generating_video", "stopped", retryable=True)
            except BaseException:
                self._stop.set()
                with lock:
                    for response in calls:
                        response.cancel()
                raise
        return [results[_place(piece)] for piece in pieces]


def _place(piece: Piece) -> tuple[int, int]:
    scene, part = piece
    return scene.index, 0 if part is None else part.first
