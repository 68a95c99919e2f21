"""Following a request from the terminal: live progress from its events, then its files.

The CLI records its request through the same intake as the HTTP API and watches the same
event history the live event stream serves; the Dispatcher deployment does the work.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from rich.console import Console

from actors.cli_progress import ConsoleProgress
from actors.doorbell import DispatcherDoorbell
from actors.service_runtime import APP_NAME
from vividly_ray.bootstrap import Stores, build_intake, build_stores
from vividly_ray.domain.errors import Conflict
from vividly_ray.domain.status import RequestStatus
from vividly_ray.edge import EXIT_CLARIFY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED
from vividly_ray.service.intake import Intake
from vividly_ray.settings import Settings

POLL_S = 0.2
# At most this long for the Dispatchers' first answer (the app may not be deployed yet).
PRIME_WAIT_S = 2.0


def local_intake(settings: Settings, app_name: str = APP_NAME) -> tuple[Stores, Intake]:
    """The stores and an intake of this process, ringing the Dispatchers of the Serve app
    ``app_name`` (when this process has joined Ray) for each request it records."""
    stores = build_stores(settings)
    doorbell = DispatcherDoorbell(app_name)
    # This process records its request right away: connect before, not while, it does.
    doorbell.prime(wait_s=PRIME_WAIT_S)
    return stores, build_intake(settings, stores, doorbell)


def follow_request(
    stores: Stores,
    request_id: str,
    out_dir: Path,
    out: Console,
    err: Console,
    *,
    startup_s: float = 0.0,
) -> int:
    started = time.perf_counter()
    seen = 0
    status = RequestStatus.PENDING
    try:
        with ConsoleProgress(err) as progress:
            while True:
                for event in stores.requests.events(request_id, seen):
                    seen = event.sequence
                    status = event.status
                    if event.event_type == "status":
                        progress.stage(event.status)
                    elif "scenes_done" in event.details:
                        progress.scenes(
                            int(event.details["scenes_done"]), int(event.details["scenes_total"])
                        )
                if status.is_terminal or status is RequestStatus.CLARIFICATION_NEEDED:
                    break
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        with contextlib.suppress(Conflict):
            stores.requests.cancel(request_id, reason="interrupted from the terminal")
        err.print(f"cancelled request {request_id}", highlight=False)
        return EXIT_INTERRUPTED
    return _finish(stores, request_id, out_dir, out, err, time.perf_counter() - started, startup_s)


def _finish(
    stores: Stores,
    request_id: str,
    out_dir: Path,
    out: Console,
    err: Console,
    elapsed: float,
    startup_s: float,
) -> int:
    record = stores.requests.get(request_id)
    meta = record.request_metadata
    if record.status is RequestStatus.CLARIFICATION_NEEDED:
        out.print("The question needs clarification before a video can be made:")
        for question in meta.get("clarifying_questions", []):
            out.print(f"  - {question}", highlight=False)
        out.print(
            f'Answer with: vividly answer {request_id} "YOUR ANSWER" --out {out_dir}',
            highlight=False,
        )
        return EXIT_CLARIFY
    if record.status is RequestStatus.FAILED:
        error = record.error
        if error is not None and error.code == "refused":
            out.print(f"Refused: {error.message}", highlight=False)
            return EXIT_REFUSED
        stage = error.stage if error else record.current_stage
        reason = error.message if error else record.error_message
        err.print(f"[red]failed[/red] in stage {stage}: {reason}", highlight=False)
        err.print(f"details: vividly status {request_id}", highlight=False)
        return EXIT_FAILED
    if record.status is RequestStatus.CANCELLED:
        err.print(f"request {request_id} was cancelled", highlight=False)
        return EXIT_FAILED
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, key in dict(meta.get("files", {})).items():
        written.append(stores.blobs.get_file(key, out_dir / name))
    out.print(
        f"completed: {float(meta.get('video_seconds', 0.0)):.1f} s of video, "
        f"{meta.get('scenes_total', 0)} scenes ({meta.get('scenes_reused', 0)} reused) "
        f"rendered in {elapsed:.1f} s after {startup_s:.1f} s of start-up",
        highlight=False,
    )
    for path in written:
        out.print(f"  {path.stem:<10} {path}", highlight=False)
    return EXIT_OK
