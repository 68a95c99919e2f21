"""The Tracker deployment: the writer of pipeline state, and the dispatcher's client for it.

Every write is fenced by the claim's token and idempotent (the same status again is a no-op,
progress only rises), so Serve may retry a call without recording anything twice.
"""

from __future__ import annotations

from typing import Any

from ray import serve

from actors.errors import unwrapped
from vividly_ray.bootstrap import build_repository
from vividly_ray.domain.status import RequestStatus
from vividly_ray.settings import load_settings


@serve.deployment(name="Tracker")
class Tracker:
    """Persists status, progress and events to SQL; the database is the source of truth."""

    def __init__(self) -> None:
        self._repo = build_repository(load_settings())

    def transition(self, request_id: str, status: str, kwargs: dict[str, Any]) -> str:
        return self._repo.transition(request_id, RequestStatus(status), **kwargs).status.value

    def progress(
        self, request_id: str, percentage: int, detail: str, kwargs: dict[str, Any]
    ) -> int:
        return self._repo.progress(request_id, percentage, detail, **kwargs).progress_percentage

    def merge_metadata(
        self, request_id: str, values: dict[str, Any], kwargs: dict[str, Any]
    ) -> None:
        self._repo.merge_metadata(request_id, values, **kwargs)


class TrackerClient:
    """The dispatcher's RequestWriter over the Tracker deployment; each call waits for its row."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def transition(self, request_id: str, status: RequestStatus, **kwargs: Any) -> object:
        return unwrapped(
            lambda: self._handle.transition.remote(request_id, status.value, kwargs).result(),
            "tracking",
        )

    def progress(self, request_id: str, percentage: int, detail: str = "", **kwargs: Any) -> object:
        return unwrapped(
            lambda: self._handle.progress.remote(request_id, percentage, detail, kwargs).result(),
            "tracking",
        )

    def merge_metadata(self, request_id: str, values: dict[str, Any], **kwargs: Any) -> object:
        return unwrapped(
            lambda: self._handle.merge_metadata.remote(request_id, values, kwargs).result(),
            "tracking",
        )
