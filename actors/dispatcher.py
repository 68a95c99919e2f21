"""The Dispatcher deployment: a route-less replica that claims requests and drives pipelines.

It runs three background loops: pipelines (up to ``pipelines_per_dispatcher`` at once), the
webhook outbox, and the retention sweep (every ``VIVIDLY_RETENTION_SWEEP_S``: erasures that are
due and requests past ``VIVIDLY_RETENTION_DAYS``). Serve's health check fails if any loop has
died, so Serve replaces the replica; any request it held is reclaimed by another dispatcher once
its lease expires. Several replicas sweeping at once is harmless: erasing twice finds nothing.

The pipelines loop claims every ``VIVIDLY_POLL_SECONDS``, and at once when an intake rings
``wake`` (``actors.doorbell``) after recording a request.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

from ray import serve

from actors.errors import unwrapped
from actors.scene_executor import PoolSlots, ServeSceneExecutor
from actors.tracker import TrackerClient
from vividly_ray.bootstrap import (
    build_eraser,
    build_library,
    build_pipeline,
    build_stores,
    build_validator,
)
from vividly_ray.domain.models import Retrieval, Script, VideoRequest
from vividly_ray.notify.webhooks import HttpWebhookSender
from vividly_ray.observability.logs import configure_logging
from vividly_ray.pipeline.orchestrator import VideoPipeline
from vividly_ray.pipeline.ports import StatusTracker
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, Outcome, dispatch_forever
from vividly_ray.service.webhook_relay import WebhookRelay
from vividly_ray.settings import Settings, load_settings

log = logging.getLogger("vividly.dispatcher")


class ServeScriptWriter:
    """The ScriptWriter port over the ScriptWriter pool."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        script: Script = unwrapped(
            lambda: self._handle.write.remote(request, retrieval, topic).result(),
            "generating_script",
        )
        return script


def dispatch_policy(settings: Settings) -> DispatchPolicy:
    return DispatchPolicy(
        lease_s=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        retry_base_s=settings.retry_base_seconds,
    )


@serve.deployment(name="Dispatcher")
class DispatcherDeployment:
    def __init__(
        self,
        tracker: Any,
        narrators: Any,
        encoders: Any,
        writers: Any,
        narration_slots: int = 2,
        encode_slots: int | None = None,
    ) -> None:
        settings = load_settings()
        configure_logging(settings.log_level)
        self._settings = settings
        stores = build_stores(settings)
        library = build_library(settings)
        validator = build_validator(library)  # built once: it indexes the library's terms
        writer = ServeScriptWriter(writers)
        tracker_client = TrackerClient(tracker)
        # Every request this replica runs holds its calls to the pools' capacity together.
        slots = PoolSlots(narration_slots, encode_slots)

        def pipelines(tracked: StatusTracker, stop: threading.Event) -> VideoPipeline:
            executor = ServeSceneExecutor(
                narrators,
                encoders,
                stop=stop,
                max_part_seconds=settings.part_seconds,
                first_max_part_seconds=settings.first_part_seconds,
                narration_slots=narration_slots,
                load=lambda: self._dispatcher.running(),
                slots=slots,
            )
            return build_pipeline(
                settings,
                executor=executor,
                tracker=tracked,
                library=library,
                writer=writer,
                assessor=validator,
                blobs=stores.blobs,
            )

        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._dispatcher = Dispatcher(
            stores.queue, tracker_client, pipelines, dispatch_policy(settings), owner
        )
        self._relay = WebhookRelay(
            stores.outbox,
            stores.accounts,
            HttpWebhookSender(
                timeout_s=settings.webhook_timeout_s,
                allow_private=settings.webhook_allow_private,
            ),
            settings.webhook_max_attempts,
        )
        self._eraser = build_eraser(settings, stores)
        self._stopping = threading.Event()
        # Set by ``wake`` (an intake recorded a request): the dispatch loop claims at once.
        self._wake = threading.Event()
        # Set when a pipeline here ends: its webhook (if it has one) is due now.
        self._relay_due = threading.Event()
        self._outcomes: list[Outcome] = []
        self._pipelines = threading.Thread(target=self._dispatch, name="dispatch", daemon=True)
        self._webhooks = threading.Thread(target=self._relay_loop, name="webhooks", daemon=True)
        self._retention = threading.Thread(
            target=self._retention_loop, name="retention", daemon=True
        )
        threading.Thread(
            target=self._prime_tracker, args=(tracker,), name="prime-tracker", daemon=True
        ).start()
        self._pipelines.start()
        self._webhooks.start()
        self._retention.start()
        log.info("dispatcher started", extra={"fields": {"owner": owner}})

    @staticmethod
    def _prime_tracker(tracker: Any) -> None:
        """Send the Tracker an empty batch at start-up: a handle's first call waits while its
        router learns the replicas (tens of milliseconds), and the first request's first
        transition would wait for it otherwise."""
        try:
            tracker.write_many.remote([]).result(timeout_s=60)
        except Exception:  # the first transition simply pays for it
            log.info("the Tracker did not answer at start-up", exc_info=True)

    def _dispatch(self) -> None:
        dispatch_forever(
            self._dispatcher,
            self._settings.pipelines_per_dispatcher,
            self._stopping,
            self._settings.poll_seconds,
            self._remember,
            self._wake,
        )

    def _remember(self, outcome: Outcome) -> None:
        self._outcomes = [*self._outcomes[-99:], outcome]
        self._relay_due.set()
        log.info(
            "request outcome",
            extra={"fields": {"request_id": outcome.request_id, "outcome": outcome.status}},
        )

    def _relay_loop(self) -> None:
        """Deliver due webhooks when a pipeline here ends, and at each poll for the rest (a
        retry coming due, a request another Dispatcher or the API ended): an idle pass is a
        query, so it is not run more often than the poll."""
        while not self._stopping.is_set():
            self._relay_due.wait(self._settings.poll_seconds)
            self._relay_due.clear()
            if self._stopping.is_set():
                break
            try:
                self._relay.deliver_due()
            except Exception:  # the loop must survive a database blip
                log.exception("webhook relay pass failed")

    def _retention_loop(self) -> None:
        while not self._stopping.wait(self._settings.retention_sweep_s):
            try:
                self._eraser.sweep()
            except Exception:  # the next pass finishes what this one could not
                log.exception("retention sweep failed")

    def wake(self) -> None:
        """A request is waiting (the intakes' doorbell): claim it now, not at the next poll."""
        self._wake.set()

    def check_health(self) -> None:
        loops = (self._pipelines, self._webhooks, self._retention)
        if not all(loop.is_alive() for loop in loops):
            raise RuntimeError("a dispatcher loop has stopped")

    def owner(self) -> str:
        return self._dispatcher.owner

    def recent_outcomes(self) -> list[dict[str, str]]:
        return [{"request_id": o.request_id, "status": o.status} for o in self._outcomes]

    def __del__(self) -> None:
        # Serve calls this when it stops the replica (an upgrade, a scale-down, shutdown):
        # running requests are handed back so another dispatcher resumes them at once.
        self._stopping.set()
        self._wake.set()
        self._relay_due.set()
        self._dispatcher.shutdown()
        self._pipelines.join(timeout=10)
