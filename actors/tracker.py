"""The tracker actor: the single writer of request state, and its synchronous client."""

from __future__ import annotations

from typing import Any

import ray

from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.repository import RequestRecord, SqlRequestRepository


@ray.remote(num_cpus=0)
class TrackerActor:
    """Persists status, progress and events to SQL; the database is the source of truth."""

    def __init__(self, database_url: str) -> None:
        self._repo = SqlRequestRepository.from_url(database_url)

    def ready(self) -> bool:
        return True

    def transition(
        self,
        request_id: str,
        status: str,
        message: str = "",
        progress: int | None = None,
        error: str | None = None,
    ) -> RequestRecord:
        return self._repo.transition(
            request_id, RequestStatus(status), message=message, progress=progress, error=error
        )

    def progress(self, request_id: str, percentage: int, detail: str = "") -> RequestRecord:
        return self._repo.progress(request_id, percentage, detail)


class RayStatusTracker:
    """StatusTracker port over the tracker actor; each call returns once the row is written."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: str | None = None,
    ) -> RequestRecord:
        ref = self._actor.transition.remote(request_id, status.value, message, progress, error)
        record: RequestRecord = ray.get(ref)
        return record

    def progress(self, request_id: str, percentage: int, detail: str = "") -> RequestRecord:
        record: RequestRecord = ray.get(self._actor.progress.remote(request_id, percentage, detail))
        return record
