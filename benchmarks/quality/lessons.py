"""Inputs (questions, answer keys, library files) and one lesson made the pipeline's way.

``LessonMaker`` runs what the pipeline runs before any audio or video: the validator's decision,
retrieval with the pipeline's limit and grounding topic, the material check, and the offline
writer. Nothing here starts Ray or encodes anything.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from vividly_ray.bootstrap import build_offline_writer, build_validator
from vividly_ray.domain.assessment import Assessment, Decision
from vividly_ray.domain.errors import InvalidRequest, StageFailed, VividlyError
from vividly_ray.domain.models import Retrieval, Script, VideoRequest
from vividly_ray.library.documents import load_documents
from vividly_ray.library.index import LibraryIndex
from vividly_ray.library.store import load_index
from vividly_ray.pipeline.grounding import require_material, retrieval_limit
from vividly_ray.script.pacing import EstimatedPacing
from vividly_ray.script.visuals import VisualWriter
from vividly_ray.validation.limits import parse_request


@dataclass(frozen=True)
class Query:
    """One evaluation question in the platform's message fields, with the expected decision."""

    student_query: str
    grade_level: Any
    duration_minutes: Any
    expect: str
    note: str = ""


def _records(path: Path) -> list[dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def load_queries(path: Path) -> list[Query]:
    return [
        Query(
            student_query=record["student_query"],
            grade_level=record["grade_level"],
            duration_minutes=record["duration_minutes"],
            expect=record.get("expect", "proceed"),
            note=record.get("note", ""),
        )
        for record in _records(path)
    ]


def load_keys(path: Path | None) -> dict[str, list[list[str]]]:
    """Answer keys by question text: each concept is a list of alternative patterns."""
    if path is None:
        return {}
    return {record["student_query"]: record["concepts"] for record in _records(path)}


def load_library(paths: Sequence[Path]) -> LibraryIndex:
    """The starter library plus the documents of each file (later files replace same ids)."""
    index = load_index(None)
    for path in paths:
        index.add(load_documents(Path(path)))
    return index


class Outcome(StrEnum):
    """How a question ended in this harness."""

    LESSON = "lesson"
    CLARIFY = "clarify"
    REFUSE = "refuse"
    TOO_LITTLE_MATERIAL = "too_little_material"  # the pipeline's honest retrieving failure
    WRITER_FAILED = "writer_failed"
    INVALID_REQUEST = "invalid_request"


@dataclass(frozen=True)
class LessonRun:
    query: Query
    outcome: Outcome
    decision: str  # the validator's decision ("" when the request did not parse)
    reason: str = ""
    request: VideoRequest | None = None
    assessment: Assessment | None = None
    retrieval: Retrieval | None = None
    script: Script | None = None
    seconds: float = 0.0


class LessonMaker:
    """Decides, retrieves and writes one lesson as ``VideoPipeline.run`` does."""

    def __init__(self, library: LibraryIndex) -> None:
        self.library = library
        self.validator = build_validator(library)
        self.writer = VisualWriter(build_offline_writer(library))
        self.pacing = EstimatedPacing()

    def run(self, query: Query) -> LessonRun:
        started = time.perf_counter()
        return dataclasses.replace(self._run(query), seconds=time.perf_counter() - started)

    def _run(self, query: Query) -> LessonRun:
        try:
            request = parse_request(query.student_query, query.grade_level, query.duration_minutes)
        except InvalidRequest as error:
            return LessonRun(query, Outcome.INVALID_REQUEST, "", reason=error.message)
        assessment = self.validator.assess(request.effective_question, request.grade)
        decision = assessment.decision.value
        if assessment.decision is not Decision.PROCEED:
            outcome = Outcome.CLARIFY if assessment.decision is Decision.CLARIFY else Outcome.REFUSE
            reason = "; ".join(assessment.reasons)
            return LessonRun(query, outcome, decision, reason, request, assessment)
        topic = assessment.grounding_topic
        retrieval = self.library.retrieve(
            request.effective_question, request.grade, retrieval_limit(request), topic=topic
        )
        try:
            require_material(retrieval, request, topic, self.pacing)
        except StageFailed as failure:
            return LessonRun(
                query,
                Outcome.TOO_LITTLE_MATERIAL,
                decision,
                failure.reason,
                request,
                assessment,
                retrieval,
            )
        try:
            script = self.writer.write(request, retrieval, assessment.topic)
        except VividlyError as failure:
            return LessonRun(
                query,
                Outcome.WRITER_FAILED,
                decision,
                failure.message,
                request,
                assessment,
                retrieval,
            )
        return LessonRun(
            query, Outcome.LESSON, decision, "", request, assessment, retrieval, script
        )
