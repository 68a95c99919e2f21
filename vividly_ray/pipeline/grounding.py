"""Is there enough on-topic material to ground the video that was asked for?

Retrieval already keeps only passages about the topic. This check turns "nothing found" and
"far too little for the minutes asked" into a clear failure of the retrieving stage, instead of a
video padded with off-topic text or one a fraction of the length the student asked for.
"""

from __future__ import annotations

import math

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Retrieval, VideoRequest
from vividly_ray.pipeline.ports import SpeechPacing

MIN_MATERIAL_SHARE = 0.5  # on-topic text must be able to fill at least half the video
BASE_PASSAGES = 12
PASSAGES_PER_MINUTE = 8


def retrieval_limit(request: VideoRequest) -> int:
    """How many passages to ask for: longer videos need more material to choose from."""
    return BASE_PASSAGES + PASSAGES_PER_MINUTE * math.ceil(request.minutes)


def require_material(
    retrieval: Retrieval, request: VideoRequest, topic: str, pacing: SpeechPacing
) -> None:
    """Raise StageFailed("retrieving", ...) unless the passages can ground the video."""
    subject = topic or request.question
    if not retrieval.passages:
        raise StageFailed(
            "retrieving",
            f"the library has no material on {subject!r}; add some with `vividly library add PATH`",
        )
    available = pacing.seconds(" ".join(p.passage.text for p in retrieval.passages), request.grade)
    wanted = request.minutes * 60
    if available < MIN_MATERIAL_SHARE * wanted:
        raise StageFailed(
            "retrieving",
            f"the library holds only about {available:.0f} seconds of narration on {subject!r}, "
            f"too little for a {request.minutes:g}-minute video; add material with "
            "`vividly library add PATH` or ask for a shorter video",
        )
