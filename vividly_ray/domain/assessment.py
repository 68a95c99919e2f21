"""The validating stage's verdict, as a plain value the pipeline and its ports share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vividly_ray.domain.errors import ClarificationNeeded, RefusedUnsafe


class Decision(StrEnum):
    """What the pipeline does with a request."""

    PROCEED = "proceed"
    CLARIFY = "clarify"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Assessment:
    """A decision with the reasons for it and, when clarifying, the questions to ask.

    ``questions`` has one to three entries for ``clarify`` and none otherwise. ``topic`` is the
    topic phrase as the student wrote it ("photosynthesis"), or "" when there is none.
    ``terms`` are the known vocabulary terms found in the question ("magnets" in "How do magnets
    stick to the fridge?"): what retrieval must find material on.
    """

    decision: Decision
    reasons: tuple[str, ...]
    questions: tuple[str, ...] = ()
    topic: str = ""
    terms: tuple[str, ...] = ()

    @property
    def grounding_topic(self) -> str:
        """The words the library must cover: the known terms, else the topic phrase."""
        return " ".join(self.terms) or self.topic

    def raise_unless_proceed(self) -> None:
        """Raise the domain error for ``clarify`` or ``refuse``; do nothing for ``proceed``."""
        if self.decision is Decision.REFUSE:
            raise RefusedUnsafe(self.reasons)
        if self.decision is Decision.CLARIFY:
            raise ClarificationNeeded(self.reasons, self.questions)
