"""The PubSubBridge deployment: route-less, a streaming-pull intake loop and the results relay.

Serve calls ``check_health`` every few seconds; it raises when the loop has died, so Serve
replaces the replica. A message the dead replica held was never acknowledged (it is
acknowledged only after its request is committed), so Pub/Sub redelivers it.
"""

from __future__ import annotations

import logging

from ray import serve

from actors.doorbell import DispatcherDoorbell
from vividly_ray.bootstrap import build_pubsub_bridge, build_stores
from vividly_ray.observability.logs import configure_logging
from vividly_ray.settings import load_settings

log = logging.getLogger("vividly.pubsub")


@serve.deployment(name="PubSubBridge")
class PubSubBridgeDeployment:
    def __init__(self) -> None:
        settings = load_settings()
        configure_logging(settings.log_level)
        bridge = build_pubsub_bridge(settings, build_stores(settings), DispatcherDoorbell())
        if bridge is None:
            raise RuntimeError(
                "PubSubBridge needs PUBSUB_SUBSCRIPTION or PUBSUB_RESULTS_TOPIC to be set"
            )
        self._bridge = bridge
        self._bridge.start()

    def check_health(self) -> None:
        problem = self._bridge.problem()
        if problem:
            raise RuntimeError(problem)

    def status(self) -> dict[str, object]:
        intake = self._bridge.intake
        return {
            "intake": intake is not None and intake.alive(),
            "handled": intake.handled if intake is not None else 0,
            "relay_passes": self._bridge.published_passes,
            "problem": self._bridge.problem(),
        }

    def __del__(self) -> None:
        bridge = getattr(self, "_bridge", None)
        if bridge is not None:
            bridge.stop()
