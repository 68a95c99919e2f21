"""DispatcherDoorbell: tells a Dispatcher replica that a request is waiting.

A Dispatcher finds work by polling the database every ``VIVIDLY_POLL_SECONDS``; a request
recorded just after a poll would wait out the rest of the interval before anything happens.
The intakes (the Gateway, the Pub/Sub bridge, the command line's own) ring once the row is
committed, and the Dispatcher that answers claims at once.

The ring is only a hint, sent without waiting for its answer: the request is already durable
and the poll still runs, so a ring that finds no Dispatcher (none up yet, a replica being
replaced, the call lost) delays the request by one poll at most and loses nothing. With several
Dispatcher replicas, Serve hands the ring to one of them; the others keep polling.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("vividly.doorbell")

DISPATCHER = "Dispatcher"


class DispatcherDoorbell:
    """An intake's doorbell (``Intake(doorbell=...)``) over the Dispatcher deployment.

    ``app_name`` names the Serve application; None means the one this replica belongs to.
    Outside Ray (a process that never joined a cluster) it does nothing, so building an intake
    never starts one.
    """

    def __init__(self, app_name: str | None = None) -> None:
        self._app_name = app_name
        self._handle: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        self._ring()

    def prime(self, wait_s: float = 0.0) -> None:
        """Ring once now, as the intake starts, waiting up to ``wait_s`` for the answer. A
        handle's first call waits while its router learns the replicas (tens of
        milliseconds); primed, the first request's ring does not. A Dispatcher woken for
        nothing finds nothing to claim."""
        try:
            response = self._ring()
            if response is not None and wait_s > 0:
                response.result(timeout_s=wait_s)
        except Exception:  # Ray or the app not up yet: the first request's ring connects
            log.debug("the Dispatchers could not be rung yet", exc_info=True)

    def _ring(self) -> Any:
        handle = self._dispatchers()
        if handle is None:
            return None
        # Not awaited: the Dispatcher answers nothing worth waiting for.
        return handle.wake.remote()

    def _dispatchers(self) -> Any:
        import ray

        if not ray.is_initialized():
            return None
        with self._lock:
            if self._handle is None:
                from ray import serve

                app = self._app_name or serve.get_replica_context().app_name
                self._handle = serve.get_deployment_handle(DISPATCHER, app_name=app)
            return self._handle
