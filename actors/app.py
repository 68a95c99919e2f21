"""The Serve application: one typed builder composes every deployment with ``.bind()``.

    Gateway (FastAPI ingress) ──> Dispatcher (route-less) ──> Tracker, Narrator pool,
            │                                                 SegmentEncoder pool, ScriptWriter
            └──> PubSubBridge (route-less; only when Pub/Sub is configured)

``serve run actors.app:build_app`` and ``deploy/serve_config.yaml`` use ``build_app``; the CLI
calls it with arguments taken from the settings. Fractional CPUs let the whole app schedule
on two cores; ``max_ongoing_requests`` is set for each deployment on purpose.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ray import serve
from ray.serve import Application

from actors.dispatcher import DispatcherDeployment
from actors.gateway import Gateway
from actors.pools import NarratorPool, ScriptWriterPool, SegmentEncoderPool
from actors.pubsub_bridge import PubSubBridgeDeployment
from actors.tracker import TRACKER_MAX_ONGOING, Tracker
from vividly_ray.settings import Settings, load_settings


class AppArgs(BaseModel):
    """Sizes of the deployments; defaults fit a 2-core laptop. An unknown name is refused, so a
    misspelt or renamed size in a Serve config fails the deploy instead of being ignored."""

    model_config = ConfigDict(extra="forbid")

    gateway: bool = Field(
        default=True,
        description="deploy the HTTP ingress (off: the Dispatcher is the app's ingress, as for "
        "the command line, which records its request itself and serves no HTTP)",
    )
    gateway_replicas: int = Field(default=1, ge=1)
    gateway_cpus: float = Field(default=0.1, gt=0)
    dispatcher_replicas: int = Field(default=1, ge=1)
    dispatcher_cpus: float = Field(default=0.1, gt=0)
    tracker_cpus: float = Field(default=0.05, gt=0)
    writer_replicas: int = Field(default=1, ge=1)
    writer_cpus: float = Field(default=0.1, gt=0)
    scene_writer_replicas: int = Field(
        default=0, ge=0, description="SceneWriter replicas (0: the writer needs none)"
    )
    scene_writer_cpus: float = Field(default=0.02, gt=0)
    narrator_min_replicas: int = Field(default=2, ge=1)
    narrator_max_replicas: int = Field(default=2, ge=1)
    narrator_cpus: float = Field(default=0.4, gt=0)
    narrator_threads: int = Field(default=1, ge=1)
    narrator_max_ongoing: int = Field(default=1, ge=1)
    encoder_min_replicas: int = Field(default=2, ge=1)
    encoder_max_replicas: int = Field(default=2, ge=1)
    encoder_cpus: float = Field(default=0.4, gt=0)
    encoder_threads: int = Field(default=1, ge=1)
    pubsub_bridge: bool = Field(default=False, description="deploy the Pub/Sub bridge")
    pubsub_cpus: float = Field(default=0.05, gt=0)

    @model_validator(mode="after")
    def _bridge_needs_gateway(self) -> AppArgs:
        if self.pubsub_bridge and not self.gateway:
            raise ValueError("the Pub/Sub bridge is deployed beside the Gateway: keep gateway on")
        return self

    @classmethod
    def from_settings(cls, settings: Settings, *, gateway: bool = True) -> AppArgs:
        """The sizes for the settings' stack; ``gateway=False`` leaves the HTTP ingress out
        unless the Pub/Sub bridge (deployed beside it) is configured. Each replica left out
        saves its worker's start-up: about 3 CPU-seconds of importing Ray, Serve and the app."""
        pubsub = bool(settings.pubsub_subscription or settings.pubsub_results_topic)
        return cls(
            gateway=gateway or pubsub,
            narrator_min_replicas=settings.narrator_pool_size,
            narrator_max_replicas=settings.narrator_pool_size,
            narrator_cpus=min(settings.narrator_cpus, 0.4),
            narrator_threads=settings.narrator_threads,
            encoder_cpus=min(settings.encoder_cpus, 0.4),
            encoder_threads=settings.encoder_threads,
            encoder_min_replicas=local_encoders(settings),
            encoder_max_replicas=local_encoders(settings),
            pubsub_bridge=pubsub,
            # A model-backed writer plans on ScriptWriter and writes scenes on SceneWriter.
            scene_writer_replicas=0 if settings.script_writer == "offline" else 2,
            # ...and both only wait on the network, so they take a sliver of a core.
            writer_cpus=0.1 if settings.script_writer == "offline" else 0.02,
            # A remote voice waits on the network, not the cores: let each replica overlap calls.
            narrator_max_ongoing=4 if settings.narrator == "google" else 1,
        )


# Piper narration costs about 4.4 times the CPU of drawing and encoding the same scene (7 and
# 1.6 CPU-seconds per minute of 720p video), so one encoder keeps up with two Piper narrators.
PIPER_NARRATORS_PER_ENCODER = 2


def local_encoders(settings: Settings) -> int:
    """SegmentEncoder replicas for the stack this process starts: one per two Piper narrators,
    since an idle replica still holds about 200 MB. A remote voice returns scenes far faster,
    so it keeps two encoders."""
    if settings.narrator == "google":
        return 2
    return max(1, -(-settings.narrator_pool_size // PIPER_NARRATORS_PER_ENCODER))


def _replicas(minimum: int, maximum: int) -> dict[str, Any]:
    """A fixed replica count, or Serve autoscaling between the bounds that aims at one request
    in flight per replica."""
    if maximum > minimum:
        return {
            "autoscaling_config": {
                "min_replicas": minimum,
                "max_replicas": maximum,
                "target_ongoing_requests": 1,
            }
        }
    return {"num_replicas": minimum}


def _narrators(args: AppArgs) -> Application:
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": args.narrator_cpus},
        # One synthesis at a time per replica keeps onnxruntime on its thread share (Serve runs
        # a sync method on a thread pool, so a higher limit would synthesise concurrently).
        "max_ongoing_requests": args.narrator_max_ongoing,
        **_replicas(args.narrator_min_replicas, args.narrator_max_replicas),
    }
    app: Application = NarratorPool.options(**options).bind(  # type: ignore[attr-defined]
        args.narrator_threads
    )
    return app


def build_app(args: dict[str, Any] | AppArgs | None = None) -> Application:
    """The whole vividly-ray Serve application."""
    parsed = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    tracker = Tracker.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": parsed.tracker_cpus},
        # Writes are batched into one transaction each, so the replica takes many at once: a
        # replica at its limit makes every router wait for a free slot before sending.
        max_ongoing_requests=TRACKER_MAX_ONGOING,
        # A line per write was a quarter of the replica's work; its events are in the database.
        logging_config={"enable_access_log": False},
    ).bind()
    narrators = _narrators(parsed)
    encoders = SegmentEncoderPool.options(  # type: ignore[attr-defined]
        **_replicas(parsed.encoder_min_replicas, parsed.encoder_max_replicas),
        ray_actor_options={"num_cpus": parsed.encoder_cpus},
        # One encode at a time per replica: x264 gets its thread share, the router the rest.
        max_ongoing_requests=1,
    ).bind(parsed.encoder_threads)
    scene_writers = None
    if parsed.scene_writer_replicas:
        scene_writers = ScriptWriterPool.options(  # type: ignore[attr-defined]
            name="SceneWriter",
            num_replicas=parsed.scene_writer_replicas,
            ray_actor_options={"num_cpus": parsed.scene_writer_cpus},
            # Each scene call waits on the model's network round trip, not on a core.
            max_ongoing_requests=8,
        ).bind()
    writers = ScriptWriterPool.options(  # type: ignore[attr-defined]
        num_replicas=parsed.writer_replicas,
        ray_actor_options={"num_cpus": parsed.writer_cpus},
        max_ongoing_requests=4,
    ).bind(scene_writers)
    # The Dispatcher's requests keep at most each pool's capacity in flight, so the pools take
    # their pieces in the order they are sent (the first scene first) and no call waits out
    # the router's backoff for a busy replica.
    dispatcher: Application = DispatcherDeployment.options(  # type: ignore[attr-defined]
        num_replicas=parsed.dispatcher_replicas,
        ray_actor_options={"num_cpus": parsed.dispatcher_cpus},
        # Route-less: it only answers health checks and small status calls.
        max_ongoing_requests=4,
        health_check_period_s=5,
    ).bind(
        tracker,
        narrators,
        encoders,
        writers,
        parsed.narrator_max_replicas * parsed.narrator_max_ongoing,
        # One encode at a time per replica (below its options): the pool's capacity.
        parsed.encoder_max_replicas,
    )
    if not parsed.gateway:
        # Route-less like the rest: the command line records its request and rings this one.
        return dispatcher
    handles = [dispatcher, tracker, narrators, encoders, writers]
    if parsed.pubsub_bridge:
        handles.append(
            PubSubBridgeDeployment.options(  # type: ignore[attr-defined]
                num_replicas=1,
                ray_actor_options={"num_cpus": parsed.pubsub_cpus},
                max_ongoing_requests=4,
                health_check_period_s=5,
            ).bind()
        )
    app: Application = Gateway.options(  # type: ignore[attr-defined]
        num_replicas=parsed.gateway_replicas,
        ray_actor_options={"num_cpus": parsed.gateway_cpus},
        # Each open event stream holds a slot for its whole life.
        max_ongoing_requests=200,
    ).bind(*handles)
    return app


def app_from_settings() -> Application:
    return build_app(AppArgs.from_settings(load_settings()))


__all__ = ["AppArgs", "build_app", "app_from_settings", "serve"]
