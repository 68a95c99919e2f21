"""Per-stage wall time, kept by the pipeline for the manifest and the progress display."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vividly_ray.domain.status import RequestStatus


@dataclass
class StageTimeline:
    """Records when each status was entered; a stage's time runs until the next one starts."""

    _entries: list[tuple[RequestStatus, datetime, float]] = field(default_factory=list)

    def enter(self, status: RequestStatus) -> None:
        self._entries.append((status, datetime.now(UTC), time.perf_counter()))

    def to_list(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for i, (status, at, started) in enumerate(self._entries):
            ended = self._entries[i + 1][2] if i + 1 < len(self._entries) else None
            rows.append(
                {
                    "status": status.value,
                    "entered_at": at.isoformat(),
                    "seconds": None if ended is None else round(ended - started, 3),
                }
            )
        return rows

    def stage_seconds(self) -> dict[str, float]:
        return {r["status"]: r["seconds"] for r in self.to_list() if r["seconds"] is not None}
