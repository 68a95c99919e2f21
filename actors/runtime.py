"""LocalRuntime: a Ray instance (started here or joined via RAY_ADDRESS) with the pools up.

The CLI and the tests run requests through this; the pipeline code is the same one a service
deployment runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ray

from actors.pools import NarratorActor
from actors.scene_executor import RaySceneExecutor
from actors.tracker import RayStatusTracker, TrackerActor
from vividly_ray.bootstrap import CoreServices, build_core, render_spec
from vividly_ray.domain.models import VideoRequest, VideoResult
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.pipeline.ports import PipelineListener
from vividly_ray.settings import Settings


class LocalRuntime:
    """Owns the Ray connection, the narrator pool and the tracker for this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.core: CoreServices = build_core(settings)
        self.repository = SqlRequestRepository.from_url(settings.effective_database_url)
        self._started_ray = False
        self._narrators: list[Any] = []
        self._tracker: Any = None

    def start(self) -> LocalRuntime:
        if not ray.is_initialized():
            # A local laptop cluster needs no token; a joined cluster brings its own settings.
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            address = self.settings.ray_address or "local"
            ray.init(
                address=address,
                num_cpus=self.settings.ray_num_cpus if address == "local" else None,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self._started_ray = True
        cache_root = str(self.settings.cache_dir.resolve())
        self._narrators = [
            NarratorActor.options(  # type: ignore[attr-defined]
                num_cpus=self.settings.narrator_cpus, max_restarts=2, max_task_retries=2
            ).remote(cache_root, self.settings.narrator_threads)
            for _ in range(self.settings.narrator_pool_size)
        ]
        # Both actors may be restarted and their calls retried: narration is content-addressed
        # and every tracker write is idempotent (same status again is a no-op, progress only
        # rises), so a retry never records anything twice.
        self._tracker = TrackerActor.options(  # type: ignore[attr-defined]
            max_restarts=2, max_task_retries=2
        ).remote(self.settings.effective_database_url)
        # Load the voice in every narrator now, without waiting: validation, retrieval and script
        # writing run meanwhile, and a narrator's first scene simply queues behind its warm-up.
        for narrator in self._narrators:
            narrator.warm_up.remote()
        ray.get(self._tracker.ready.remote())  # the database is reachable before any request
        return self

    @property
    def narrators(self) -> list[Any]:
        """The narrator actor handles (for operations and tests)."""
        return list(self._narrators)

    def pipeline(
        self, request: VideoRequest, listener: PipelineListener | None = None
    ) -> VideoPipeline:
        executor = RaySceneExecutor(
            self._narrators,
            render_spec(request),
            self.settings.cache_dir.resolve(),
            self.settings.work_dir.resolve(),
            encoder_cpus=self.settings.encoder_cpus,
            encoder_threads=self.settings.encoder_threads,
        )
        ports = PipelinePorts(
            assessor=self.core.validator,
            retriever=self.core.library,
            writer=self.core.writer,
            executor=executor,
            assembler=self.core.assembler,
            tracker=RayStatusTracker(self._tracker),
        )
        return VideoPipeline(ports, listener)

    def submit(self, request: VideoRequest) -> str:
        """Record the request durably (status pending) before any work starts."""
        return self.repository.create(request)

    def run(
        self, request: VideoRequest, out_dir: Path, listener: PipelineListener | None = None
    ) -> tuple[str, VideoResult]:
        request_id = self.submit(request)
        result = self.pipeline(request, listener).run(request_id, request, out_dir)
        return request_id, result

    def close(self) -> None:
        for actor in [*self._narrators, self._tracker]:
            if actor is not None:
                ray.kill(actor)
        self._narrators, self._tracker = [], None
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
