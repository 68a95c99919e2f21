"""The validating stage's decision: make the video, ask the student, or refuse.

Safety is checked first, so an unsafe request is refused even when it names a clear topic. A safe
request proceeds when it has a topic; a request with only a whole subject, or with nothing but
scaffolding ("explain this", "do my worksheet"), gets one to three clarifying questions.
"""

from __future__ import annotations

from collections.abc import Iterable

from vividly_ray.domain.assessment import Assessment, Decision
from vividly_ray.domain.models import Grade
from vividly_ray.validation.clarify import clarify_reason, clarifying_questions
from vividly_ray.validation.safety import find_concerns
from vividly_ray.validation.topic import read_topic, subject_index, term_index

__all__ = ["Assessment", "Decision", "QuestionValidator"]


class QuestionValidator:
    """Decides whether a student's question can become a video.

    ``extra_terms`` are topic words and phrases from the library (titles, keywords), lowercased;
    they widen what counts as a known topic. Without them the built-in K-12 vocabulary and the
    content-word fallback still apply.
    """

    def __init__(self, extra_terms: Iterable[str] = ()) -> None:
        # A number is never a topic by itself: "3.14" (a keyword of the article on circles)
        # must not make "a 3-minute video" a question about the number 3.
        worded = (term for term in extra_terms if any(char.isalpha() for char in term))
        self._terms = term_index(worded)
        self._subjects = subject_index()

    def assess(self, question: str, grade: Grade) -> Assessment:
        concerns = find_concerns(question)
        if concerns:
            return Assessment(Decision.REFUSE, tuple(str(concern) for concern in concerns))
        reading = read_topic(question, self._terms, self._subjects)
        if not reading.topic:
            return Assessment(
                Decision.CLARIFY,
                (clarify_reason(reading),),
                clarifying_questions(reading, grade),
            )
        reasons = [f"topic: {reading.topic}"]
        related = [term for term in reading.known_terms if term not in reading.topic]
        if related:
            reasons.append("also mentions: " + ", ".join(related))
        if not any(term in reading.topic for term in reading.known_terms):
            reasons.append("topic not in the vocabulary; taken from the question's content words")
        return Assessment(
            Decision.PROCEED, tuple(reasons), topic=reading.topic, terms=reading.known_terms
        )

    @staticmethod
    def to_json(assessment: Assessment) -> dict[str, str | list[str]]:
        """The platform's shape: ``{"decision", "reasons", "questions"}``."""
        return {
            "decision": str(assessment.decision),
            "reasons": list(assessment.reasons),
            "questions": list(assessment.questions),
        }
