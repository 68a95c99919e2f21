"""The Pub/Sub bridge: the intake loop and the results relay, with one health verdict.

The Serve deployment (``actors.pubsub_bridge``) holds one bridge and fails its health check when
``problem()`` returns a reason, so Serve replaces a replica whose loop died.
"""

from __future__ import annotations

import logging
import threading

from vividly_ray.messaging.pubsub import PubSubIntakeLoop
from vividly_ray.service.results_relay import ResultsRelay

log = logging.getLogger("vividly.pubsub")


class PubSubBridge:
    """Starts, watches and stops the intake loop (if a subscription is configured) and the
    results relay (if a results topic is)."""

    def __init__(
        self,
        intake: PubSubIntakeLoop | None,
        relay: ResultsRelay | None,
        poll_seconds: float = 0.5,
    ) -> None:
        self.intake = intake
        self.relay = relay
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._relay_thread: threading.Thread | None = None
        self._relay_error = ""
        self.published_passes = 0

    def start(self) -> None:
        if self.intake is not None:
            self.intake.start()
        if self.relay is not None and self._relay_thread is None:
            self._relay_thread = threading.Thread(
                target=self._relay_forever, name="results-relay", daemon=True
            )
            self._relay_thread.start()

    def _relay_forever(self) -> None:
        assert self.relay is not None
        failures = 0
        while not self._stop.is_set():
            try:
                self.relay.publish_due()
                self.published_passes += 1
                failures = 0
            except Exception as exc:  # database trouble: keep trying, but say so
                failures += 1
                log.exception("results relay pass failed")
                if failures >= 20:
                    self._relay_error = f"results relay keeps failing: {exc}"
                    return
            self._stop.wait(self._poll)

    def problem(self) -> str:
        """Why the bridge is unhealthy, or "" when it is healthy."""
        if self.intake is not None and not self.intake.alive():
            return "the Pub/Sub intake loop is not running: " + (self.intake.failure() or "stopped")
        if self._relay_thread is not None and not self._relay_thread.is_alive():
            return self._relay_error or "the results relay stopped"
        return ""

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self.intake is not None:
            self.intake.stop(timeout)
        if self._relay_thread is not None:
            self._relay_thread.join(timeout)
