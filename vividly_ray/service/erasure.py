"""Erasure: a request and everything it stored, on demand and after the retention period.

Children's data is kept no longer than it is needed. ``DELETE /v1/videos/{id}`` (or
``vividly erase ID``) erases one request; the retention sweep (``vividly retention``, and the
Dispatcher every few minutes) erases every request that ended more than
``VIVIDLY_RETENTION_DAYS`` ago, forgets rejected intake messages of that age, and removes
delivered files whose request no longer exists.

What a request stored: its row (student id, question, answers, results), its events, webhook
and results outbox rows (deleted with the row), its delivered files (``videos/<id>/``) and the
scene blobs it recorded in its events (audio and segments in the content-addressed cache).
The blobs go first, then the row, so an interrupted erasure is finished by the next sweep.
A scene blob that another request also used is evicted too; that request has its video
already, and a later request simply renders the scene again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.persistence.orm import utcnow
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.persistence.results_outbox import SqlRejections
from vividly_ray.storage.cache import evict

log = logging.getLogger("vividly.erasure")

DELIVERED_PREFIX = "videos/"


@dataclass(frozen=True)
class ErasureOutcome:
    """``erased`` now, or ``due`` at a later moment (a running request is stopped first)."""

    request_id: str
    erased: bool
    due: datetime
    blobs_removed: int = 0


@dataclass(frozen=True)
class SweepReport:
    requests_erased: int
    blobs_removed: int
    orphans_removed: int
    rejections_forgotten: int

    def as_dict(self) -> dict[str, int]:
        return {
            "requests_erased": self.requests_erased,
            "blobs_removed": self.blobs_removed,
            "orphans_removed": self.orphans_removed,
            "rejections_forgotten": self.rejections_forgotten,
        }


class Eraser:
    """``grace`` must exceed the time a cancelled holder needs to notice (a heartbeat, which
    is a third of the lease); ``retention_days`` 0 keeps requests until they are deleted."""

    def __init__(
        self,
        requests: SqlRequestRepository,
        blobs: BlobStore,
        rejections: SqlRejections | None,
        *,
        retention_days: float,
        grace: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._requests = requests
        self._blobs = blobs
        self._rejections = rejections
        self.retention_days = retention_days
        self.grace = grace
        self._clock = clock

    def request(self, request_id: str, organization_id: str | None) -> ErasureOutcome:
        """Erase now if nothing may still write for the request, else schedule it."""
        now = self._clock()
        due = self._requests.schedule_erasure(
            request_id, organization_id, grace=self.grace, now=now
        )
        if due > now:
            return ErasureOutcome(request_id, erased=False, due=due)
        removed = self.erase(request_id)
        return ErasureOutcome(request_id, erased=True, due=due, blobs_removed=removed)

    def erase(self, request_id: str) -> int:
        """Remove the request's blobs, then its row; returns how many blobs went."""
        removed = 0
        for key in self._requests.erasure_keys(request_id):
            removed += evict(self._blobs, key) if key.startswith("cache/") else self._delete(key)
        for key in list(self._blobs.list_keys(f"{DELIVERED_PREFIX}{request_id}/")):
            removed += self._delete(key)
        self._requests.erase(request_id)
        log.info("erased a request", extra={"request_id": request_id, "blobs": removed})
        return removed

    def sweep(self, batch: int = 200) -> SweepReport:
        now = self._clock()
        cutoff = now - timedelta(days=self.retention_days) if self.retention_days > 0 else None
        erased = blobs = 0
        while True:
            due = self._requests.due_erasures(now, cutoff, limit=batch)
            for request_id in due:
                blobs += self.erase(request_id)
                erased += 1
            if len(due) < batch:
                break
        orphans = self._orphans()
        forgotten = 0
        if cutoff is not None and self._rejections is not None:
            forgotten = self._rejections.forget_before(cutoff)
        report = SweepReport(erased, blobs, orphans, forgotten)
        if erased or orphans or forgotten:
            log.info("retention sweep", extra={"fields": report.as_dict()})
        return report

    def _orphans(self) -> int:
        """Delivered files whose request is gone (written by a holder after its erasure)."""
        by_request: dict[str, list[str]] = {}
        for key in self._blobs.list_keys(DELIVERED_PREFIX):
            request_id = key[len(DELIVERED_PREFIX) :].split("/", 1)[0]
            by_request.setdefault(request_id, []).append(key)
        if not by_request:
            return 0
        alive = self._requests.existing(list(by_request))
        removed = 0
        for request_id, keys in by_request.items():
            if request_id not in alive:
                removed += sum(self._delete(key) for key in keys)
        return removed

    def _delete(self, key: str) -> int:
        return int(self._blobs.delete(key))
