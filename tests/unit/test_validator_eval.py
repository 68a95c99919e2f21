"""The validator against the shared development questions (skipped where ../shared is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vividly_ray.domain.models import Grade
from vividly_ray.validation.assess import Decision, QuestionValidator
from vividly_ray.validation.limits import parse_request

EVAL_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "queries-dev.jsonl"
VALIDATION_SOURCE = Path(__file__).resolve().parents[2] / "vividly_ray" / "validation"
REQUIRED_ACCURACY = 0.90


def _rows() -> list[dict[str, object]]:
    if not EVAL_FILE.is_file():
        pytest.skip(f"no shared evaluation questions at {EVAL_FILE} (the ../shared checkout)")
    lines = EVAL_FILE.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_decisions_match_the_development_questions() -> None:
    rows = _rows()
    validator = QuestionValidator()
    mismatches: list[str] = []
    for number, row in enumerate(rows, start=1):
        request = parse_request(row["student_query"], row["grade_level"], row["duration_minutes"])
        assessment = validator.assess(request.question, request.grade)
        if assessment.decision != row["expect"]:
            mismatches.append(
                f"row {number}: expected {row['expect']}, got {assessment.decision}: "
                f"{row['student_query']!r} {list(assessment.reasons)}"
            )
    accuracy = 1 - len(mismatches) / len(rows)
    print(f"validator accuracy {accuracy:.1%} on {len(rows)} rows")
    for mismatch in mismatches:
        print(mismatch)
    assert accuracy >= REQUIRED_ACCURACY, "\n".join(mismatches)


def test_a_clear_biology_question_proceeds() -> None:
    assessment = QuestionValidator().assess(
        "Explain photosynthesis for 8th grade students", Grade(8)
    )
    assert assessment.decision is Decision.PROCEED
    assert assessment.topic == "photosynthesis"


def test_no_development_question_is_written_into_the_validator() -> None:
    """The decisions come from principles, so no query of several words may appear in the code.

    One-word queries ("science") are subject names that the validator must know, so they are
    left out of this check.
    """
    queries = [str(row["student_query"]).casefold() for row in _rows()]
    phrases = [query for query in queries if len(query.split()) > 1]
    files = sorted(VALIDATION_SOURCE.glob("*.py"))
    source = "\n".join(path.read_text("utf-8").casefold() for path in files)
    assert [phrase for phrase in phrases if phrase in source] == []
