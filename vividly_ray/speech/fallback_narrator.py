"""FallbackNarrator: a paid voice first, the embedded voice whenever the paid one fails.

One provider error must not kill a video. A scene the primary narrator cannot speak is spoken by
the fallback instead, and a circuit breaker keeps a broken primary from being tried (and waited
on) for every scene of every request. Each scene's ``voiced_by`` names the voice that really
spoke it, so the manifest reports a mixed-voice video truthfully.
"""

from __future__ import annotations

import logging

from vividly_ray.domain.models import Grade, Scene, SceneAudio, ScenePart
from vividly_ray.pipeline.ports import Narrator
from vividly_ray.resilience import CircuitBreaker
from vividly_ray.storage.cache import out_of_space

_log = logging.getLogger("vividly.speech")


class FallbackNarrator:
    """Implements the Narrator port over a primary narrator, a fallback and the primary's breaker.

    While ``breaker`` allows it, each scene goes to ``primary``; any exception it raises is
    recorded against the breaker and the scene is narrated by ``fallback``. While the breaker is
    open, scenes go straight to ``fallback``. Errors of the fallback itself propagate, and so
    does a full local disk met by the primary (the provider is not to blame for it).
    """

    def __init__(self, primary: Narrator, fallback: Narrator, breaker: CircuitBreaker) -> None:
        self._primary = primary
        self._fallback = fallback
        self._breaker = breaker

    def warm_up(self) -> None:
        """Load the fallback voice now, so the first failure costs no model load."""
        warm = getattr(self._fallback, "warm_up", None)
        if callable(warm):
            warm()

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        if not self._breaker.allow():
            _log.debug(
                "speech provider %s is switched off for now; scene %d uses the fallback voice",
                self._breaker.name,
                scene.index,
            )
            return self._fallback.narrate(scene, grade, part)
        try:
            audio = self._primary.narrate(scene, grade, part)
        # Whatever the provider raised (its SDK has many kinds), the scene still gets a voice.
        except Exception as exc:
            if out_of_space(exc.__cause__):
                # This node's disk is full: not the provider's fault, and the fallback would
                # store its audio on the same disk.
                raise
            self._breaker.record_failure()
            _log.warning(
                "speech provider %s failed on scene %d (%s); using the fallback voice (breaker %s)",
                self._breaker.name,
                scene.index,
                exc,
                self._breaker.state.value,
            )
            return self._fallback.narrate(scene, grade, part)
        self._breaker.record_success()
        return audio
