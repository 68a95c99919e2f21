"""CoalescingWriter: request-state writes sent in batches, in the order they were made.

Pipelines report progress and scene events many times a minute; sending each alone costs a
call to the writer (a Serve call to the Tracker deployment) and caps the events a dispatcher
can record. This writer queues them and sends everything queued in one batch:

- progress and scene events (``progress``) and metadata (``merge_metadata``) are queued and
  return at once;
- the queue is sent at least every ``flush_s`` seconds (sooner when ``max_pending`` writes are
  waiting), by a thread of its own;
- a ``transition`` is sent with everything queued before it, in the same batch and after it,
  and waits for its own result: a transition that returned is persisted together with every
  write made before it, and its error (a stale token, an illegal move) is raised to its caller;
- ``flush()`` sends the queue and waits.

Batches go out one at a time, so the database applies writes in the order they were made.
A queued write the database refused (its claim's token was superseded, the request is gone)
is raised at that request's next write, as the write itself would have raised; so is the
error of a batch that could not be sent at all (the database or the Tracker unreachable).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from vividly_ray.domain.status import RequestStatus

log = logging.getLogger("vividly.tracking")

Write = tuple[str, tuple[Any, ...], dict[str, Any]]
# Sends writes as one batch; returns one result per write, an exception in place of a refused
# write, and raises when the batch as a whole could not be applied.
BatchSender = Callable[[Sequence[Write]], Sequence[Any]]

FLUSH_S = 0.1
MAX_PENDING = 256


class CoalescingWriter:
    """A ``RequestWriter`` that batches progress and metadata writes (see the module text)."""

    def __init__(
        self, send: BatchSender, *, flush_s: float = FLUSH_S, max_pending: int = MAX_PENDING
    ) -> None:
        if flush_s <= 0 or max_pending < 1:
            raise ValueError("flush_s must be positive and max_pending at least 1")
        self._send = send
        self._flush_s = flush_s
        self._max_pending = max_pending
        self._pending: list[Write] = []
        self._failed: dict[str, BaseException] = {}
        self._lock = threading.Lock()  # guards _pending and _failed
        self._sending = threading.Lock()  # one batch in flight: writes land in order
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- RequestWriter ---------------------------------------------------------------------

    def transition(self, request_id: str, status: RequestStatus, **kwargs: Any) -> object:
        return self._now(("transition", (request_id, status), kwargs))

    def progress(self, request_id: str, percentage: int, detail: str = "", **kwargs: Any) -> object:
        return self._queue(("progress", (request_id, percentage, detail), kwargs))

    def merge_metadata(self, request_id: str, values: dict[str, Any], **kwargs: Any) -> object:
        return self._queue(("merge_metadata", (request_id, dict(values)), kwargs))

    # -- control ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Send every queued write and wait until they are applied (refusals are kept for
        their requests' next writes)."""
        with self._sending:
            batch = self._take()
            if batch:
                self._deliver(batch)

    def close(self) -> None:
        """Send what is queued and stop the flushing thread."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    # -- inside ----------------------------------------------------------------------------

    def _queue(self, write: Write) -> object:
        request_id = write[1][0]
        with self._lock:
            self._raise_failure(request_id)
            self._pending.append(write)
            full = len(self._pending) >= self._max_pending
        self._ensure_thread()
        if full:
            self._wake.set()
        return None

    def _now(self, write: Write) -> object:
        request_id = write[1][0]
        with self._sending:
            with self._lock:
                self._raise_failure(request_id)
            batch = [*self._take(), write]
            try:
                results = self._deliver(batch)
            except BaseException:
                with self._lock:
                    self._failed.pop(request_id, None)  # raised now, not again later
                raise
        result = results[-1] if results else None
        with self._lock:
            # The queued writes of this request went first; their refusal is this write's too.
            self._raise_failure(request_id)
        if isinstance(result, BaseException):
            raise result
        return result

    def _take(self) -> list[Write]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _deliver(self, batch: list[Write]) -> list[Any]:
        """Send ``batch`` (the caller holds ``_sending``); refusals of queued writes are kept
        for their requests. A batch that could not be sent fails every request in it."""
        waited = bool(batch) and batch[-1][0] == "transition"
        queued = batch[:-1] if waited else batch
        try:
            results = list(self._send(batch))
        except BaseException as exc:
            with self._lock:
                for request_id in {w[1][0] for w in queued}:
                    self._failed.setdefault(request_id, exc)
            if waited:
                raise
            return []
        if len(results) != len(batch):
            raise RuntimeError(f"the writer answered {len(results)} results for {len(batch)}")
        with self._lock:
            for write, result in zip(queued, results, strict=False):
                if isinstance(result, BaseException):
                    self._failed.setdefault(write[1][0], result)
        return results

    def _raise_failure(self, request_id: str) -> None:
        failure = self._failed.pop(request_id, None)
        if failure is not None:
            raise failure

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._flush_loop, name="tracker-flush", daemon=True
                    )
                    self._thread.start()

    def _flush_loop(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self._flush_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # kept for the requests it concerns; the loop goes on
                log.warning("a batch of request events could not be sent", exc_info=True)
