"""Helpers the benchmarks share: following a recorded request, and where its time went."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any, Protocol

# The stages that do the request's work; the rest of its wall time is orchestration.
WORK_STAGES = ("retrieving", "generating_script", "generating_video", "processing_video")


class _Status(Protocol):
    @property
    def is_terminal(self) -> bool: ...

    @property
    def value(self) -> str: ...


class _Record(Protocol):
    @property
    def status(self) -> _Status: ...

    @property
    def request_metadata(self) -> dict[str, Any]: ...

    @property
    def error_message(self) -> str | None: ...


class _Requests(Protocol):
    def get(self, request_id: str) -> Any: ...


def wait_terminal(requests: _Requests, request_id: str, poll_s: float = 0.05) -> Any:
    """The request's record once it is completed, failed or cancelled."""
    while True:
        current: _Record = requests.get(request_id)
        if current.status.is_terminal:
            return current
        time.sleep(poll_s)


def work_seconds(stage_seconds: Mapping[str, float]) -> float:
    return sum(float(stage_seconds.get(stage, 0.0)) for stage in WORK_STAGES)


def outside_stages(wall_s: float, stage_seconds: Mapping[str, float]) -> float:
    """A request's wall time less its work stages: queue wait, validation, bookkeeping."""
    return wall_s - work_seconds(stage_seconds)


def add_request_arguments(parser: argparse.ArgumentParser, minutes: int = 3) -> None:
    """The benchmarked request's options, the same in every pipeline benchmark."""
    parser.add_argument("--question", default="Explain the water cycle")
    parser.add_argument("--grade", default="5")
    parser.add_argument("--minutes", type=int, default=minutes)
    parser.add_argument("--resolution", default="720p")
