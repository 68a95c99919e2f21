"""A live progress line for the terminal: stage, scenes n/N, elapsed."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from vividly_ray.domain.status import PIPELINE, RequestStatus, band_progress


class ConsoleProgress:
    """Implements PipelineListener with a rich progress bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.fields[stage]:<18}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("scenes {task.fields[scenes]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> ConsoleProgress:
        self._progress.start()
        self._task = self._progress.add_task("request", total=100, stage="pending", scenes="-")
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def stage(self, status: RequestStatus) -> None:
        if self._task is not None:
            pct = band_progress(status, 0.0) if status in PIPELINE else None
            self._progress.update(self._task, stage=status.value, completed=pct)

    def scenes(self, done: int, total: int) -> None:
        if self._task is not None:
            pct = band_progress(RequestStatus.GENERATING_VIDEO, done / total if total else 1.0)
            self._progress.update(self._task, scenes=f"{done}/{total}", completed=pct)
