"""The Tracker deployment: the writer of pipeline state, and the dispatcher's client for it.

Writes arriving together (several pipelines, several scenes) are batched into one database
transaction with ``serve.batch``; ``write_many`` hands in a caller's batch whole, so its writes
are applied in order within one transaction. Every write is fenced by its claim's token and
idempotent (the same status again is a no-op, progress only rises), so a retried call records
nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ray import serve

from actors.errors import unwrapped
from vividly_ray.bootstrap import build_repository
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.service.coalescing import FLUSH_S, MAX_PENDING, CoalescingWriter, Write
from vividly_ray.settings import load_settings

# Calls one replica accepts at once, and the most it commits in one transaction.
TRACKER_MAX_ONGOING = 512
TRACKER_MAX_BATCH = 256


def _answer(result: Any) -> Any:
    if isinstance(result, RequestRecord):
        return result.status.value  # the caller needs no more than this
    return result


@serve.deployment(name="Tracker")
class Tracker:
    """Persists status, progress and events to SQL; the database is the source of truth."""

    def __init__(self) -> None:
        self._repo = build_repository(load_settings())

    async def write(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        (result,) = await self._batched([(name, args, kwargs)])
        if isinstance(result, BaseException):
            raise result
        return _answer(result)

    async def write_many(self, writes: list[Write]) -> list[Any]:
        """Several writes in order; each result in its place (a refused write's error too)."""
        return [_answer(result) for result in await self._batched(list(writes))]

    @serve.batch(max_batch_size=TRACKER_MAX_BATCH, batch_wait_timeout_s=0.005)
    async def _batched(self, calls: list[list[Write]]) -> list[list[Any]]:
        flat = [write for call in calls for write in call]
        results = await asyncio.to_thread(self._repo.apply_batch, flat)
        out, at = [], 0
        for call in calls:
            out.append(results[at : at + len(call)])
            at += len(call)
        return out


class TrackerClient(CoalescingWriter):
    """The dispatcher's RequestWriter over the Tracker deployment: progress and metadata are
    sent together in ``write_many`` calls, a transition waits for its row."""

    def __init__(
        self, handle: Any, *, flush_s: float = FLUSH_S, max_pending: int = MAX_PENDING
    ) -> None:
        self._handle = handle
        super().__init__(self._send_batch, flush_s=flush_s, max_pending=max_pending)

    def _send_batch(self, writes: Sequence[Write]) -> list[Any]:
        results: list[Any] = unwrapped(
            lambda: self._handle.write_many.remote(list(writes)).result(), "tracking"
        )
        return results
