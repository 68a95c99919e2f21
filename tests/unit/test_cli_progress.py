"""The terminal progress line shows the stage, scenes n/N and elapsed time."""

from __future__ import annotations

import io

from rich.console import Console

from actors.cli_progress import ConsoleProgress
from vividly_ray.domain.status import RequestStatus


def test_progress_line_shows_stage_and_scene_count() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False)
    with ConsoleProgress(console) as progress:
        progress.stage(RequestStatus.GENERATING_VIDEO)
        progress.scenes(3, 8)
    text = buffer.getvalue()
    assert "generating_video" in text
    assert "scenes 3/8" in text
    assert "0:00:0" in text  # elapsed


def test_clarification_does_not_break_the_bar() -> None:
    buffer = io.StringIO()
    with ConsoleProgress(Console(file=buffer, width=120)) as progress:
        progress.stage(RequestStatus.VALIDATING)
        progress.stage(RequestStatus.CLARIFICATION_NEEDED)
    assert "clarification_needed" in buffer.getvalue()
