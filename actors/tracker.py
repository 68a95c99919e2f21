"""The Tracker deployment: the writer of pipeline state, and the dispatcher's client for it.

Writes arriving together (several pipelines, several scenes) are batched into one database
transaction with ``serve.batch``. Every write is fenced by its claim's token and idempotent
(the same status again is a no-op, progress only rises), so a retried call records nothing
twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ray import serve

from actors.errors import unwrapped
from vividly_ray.bootstrap import build_repository
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.settings import load_settings

Write = tuple[str, tuple[Any, ...], dict[str, Any]]

# Writes one replica accepts at once, and the most it commits in one transaction.
TRACKER_MAX_ONGOING = 512
TRACKER_MAX_BATCH = 256


@serve.deployment(name="Tracker")
class Tracker:
    """Persists status, progress and events to SQL; the database is the source of truth."""

    def __init__(self) -> None:
        self._repo = build_repository(load_settings())

    async def write(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = await self._batched((name, args, kwargs))
        if isinstance(result, BaseException):
            raise result
        if isinstance(result, RequestRecord):
            return result.status.value  # the caller needs no more than this
        return result

    @serve.batch(max_batch_size=TRACKER_MAX_BATCH, batch_wait_timeout_s=0.005)
    async def _batched(self, writes: list[Write]) -> list[Any]:
        return await asyncio.to_thread(self._repo.apply_batch, writes)


class TrackerClient:
    """The dispatcher's RequestWriter over the Tracker deployment; each call waits for its row."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def _write(self, name: str, *args: Any, **kwargs: Any) -> object:
        return unwrapped(lambda: self._handle.write.remote(name, args, kwargs).result(), "tracking")

    def transition(self, request_id: str, status: RequestStatus, **kwargs: Any) -> object:
        return self._write("transition", request_id, status, **kwargs)

    def progress(self, request_id: str, percentage: int, detail: str = "", **kwargs: Any) -> object:
        return self._write("progress", request_id, percentage, detail, **kwargs)

    def merge_metadata(self, request_id: str, values: dict[str, Any], **kwargs: Any) -> object:
        return self._write("merge_metadata", request_id, values, **kwargs)
