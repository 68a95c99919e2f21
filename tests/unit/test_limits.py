"""Request limits: every field's accepted forms, every rejected form, and what the message says."""

from __future__ import annotations

import pytest

from vividly_ray.domain.errors import InvalidRequest
from vividly_ray.domain.models import Aspect, Grade, Resolution, VideoRequest
from vividly_ray.validation.limits import (
    parse_aspect,
    parse_grade,
    parse_minutes,
    parse_question,
    parse_request,
    parse_resolution,
    validate_fields,
)

# --- question ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("How do tides work?", "How do tides work?"),
        ("   Why is ice slippery?  \n", "Why is ice slippery?"),
        ("abc", "abc"),
        ("x" * 500, "x" * 500),
        ("  " + "y" * 500 + "  ", "y" * 500),  # the limit applies after trimming
        ("line one\nline two", "line one\nline two"),
        ("col one\tcol two", "col one\tcol two"),
        ("first\r\nsecond", "first\nsecond"),  # form posts end lines with CRLF
        ("¿Qué es la fotosíntesis?", "¿Qué es la fotosíntesis?"),
    ],
)
def test_question_accepts_trimmed_text_of_3_to_500_characters(raw: str, parsed: str) -> None:
    assert parse_question(raw) == parsed


@pytest.mark.parametrize(
    "raw, echoed",
    [("hi", "got 2: 'hi'"), ("   ab   ", "got 2: 'ab'"), ("", "got 0: ''"), ("x" * 501, "got 501")],
)
def test_question_length_outside_3_to_500_is_refused(raw: str, echoed: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_question(raw)
    assert caught.value.field == "question"
    assert caught.value.message.startswith("question: must be text of 3-500 characters")
    assert echoed in caught.value.message


def test_question_long_values_are_echoed_shortened() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_question("z" * 900)
    assert "got 900" in caught.value.message
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("bad\x00byte", r"'\x00' at position 3"),
        ("ring\x07", r"'\x07' at position 4"),
        ("carriage\rreturn", r"'\r' at position 8"),
        ("esc\x1b[31m", r"'\x1b'"),
    ],
)
def test_question_with_control_characters_is_refused(raw: str, shown: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_question(raw)
    message = caught.value.message
    assert message.startswith("question: must be text of 3-500 characters")
    assert "control characters" in message and "newline and tab are allowed" in message
    assert shown in message


@pytest.mark.parametrize("raw", [None, 42, b"bytes question", ["a list"]])
def test_question_must_be_a_string(raw: object) -> None:
    with pytest.raises(InvalidRequest, match=r"^question: must be text of 3-500 characters, got "):
        parse_question(raw)


# --- grade -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, level",
    [
        ("K", 0),
        ("k", 0),
        ("kindergarten", 0),
        (" Kindergarten ", 0),
        ("grade K", 0),
        (0, 0),
        ("0", 0),
        ("5", 5),
        (" 5 ", 5),
        ("5th", 5),
        ("5TH", 5),
        ("grade 5", 5),
        ("Grade 5", 5),
        ("grade5", 5),
        ("5th grade", 5),
        ("1st", 1),
        ("2nd", 2),
        ("3rd", 3),
        ("11th", 11),
        ("12th grade", 12),
        ("12", 12),
        (1, 1),
        (5, 5),
        (12, 12),
        (7.0, 7),
    ],
)
def test_grade_accepts_k_and_1_to_12_in_common_forms(raw: object, level: int) -> None:
    assert parse_grade(raw) == Grade(level)


@pytest.mark.parametrize(
    "raw, echoed",
    [
        ("13", "'13'"),
        (13, "13"),
        (-1, "-1"),
        ("-1", "'-1'"),
        ("5st", "'5st'"),
        ("1th", "'1th'"),
        ("grade", "'grade'"),
        ("", "''"),
        ("pre-k", "'pre-k'"),
        ("thirteen", "'thirteen'"),
        (None, "None"),
        (5.5, "5.5"),
        (True, "True"),
        (False, "False"),
        ([5], "[5]"),
        ("5.0", "'5.0'"),
        ("100th", "'100th'"),
    ],
)
def test_grade_outside_k_to_12_is_refused_with_the_value(raw: object, echoed: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_grade(raw)
    assert caught.value.field == "grade"
    assert caught.value.message == f"grade: must be K or 1-12, got {echoed}"


# --- minutes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, minutes",
    [
        (1, 1.0),
        (10, 10.0),
        (3, 3.0),
        (2.5, 2.5),
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("10", 10.0),
        ("1.0", 1.0),
        (1.0, 1.0),
    ],
)
def test_minutes_accepts_numbers_from_1_to_10(raw: object, minutes: float) -> None:
    parsed = parse_minutes(raw)
    assert parsed == minutes
    assert isinstance(parsed, float)


@pytest.mark.parametrize(
    "raw, echoed",
    [
        (0, "0"),
        (0.99, "0.99"),
        (10.01, "10.01"),
        (11, "11"),
        ("11", "'11'"),
        (-3, "-3"),
        ("three", "'three'"),
        ("", "''"),
        ("3 minutes", "'3 minutes'"),
        (None, "None"),
        (True, "True"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ("nan", "'nan'"),
        ("inf", "'inf'"),
        ([3], "[3]"),
    ],
)
def test_minutes_outside_1_to_10_is_refused_with_the_value(raw: object, echoed: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_minutes(raw)
    assert caught.value.field == "minutes"
    assert caught.value.message == f"minutes: must be a number from 1 to 10, got {echoed}"


# --- aspect and resolution ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, aspect",
    [
        ("16:9", Aspect.WIDE),
        ("9:16", Aspect.TALL),
        ("1:1", Aspect.SQUARE),
        (" 16:9 ", Aspect.WIDE),
        ("wide", Aspect.WIDE),
        ("TALL", Aspect.TALL),
        ("square", Aspect.SQUARE),
        (Aspect.TALL, Aspect.TALL),
    ],
)
def test_aspect_accepts_ratios_and_names(raw: object, aspect: Aspect) -> None:
    assert parse_aspect(raw) is aspect


@pytest.mark.parametrize("raw", ["4:3", "", None, 16, "16x9"])
def test_aspect_lists_the_allowed_ratios(raw: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_aspect(raw)
    assert caught.value.message == f"aspect: must be one of 16:9, 9:16, 1:1, got {raw!r}"


@pytest.mark.parametrize(
    "raw, resolution",
    [
        ("480p", Resolution.P480),
        ("720p", Resolution.P720),
        ("1080p", Resolution.P1080),
        ("1080P", Resolution.P1080),
        ("720", Resolution.P720),
        (Resolution.P480, Resolution.P480),
    ],
)
def test_resolution_accepts_line_counts(raw: object, resolution: Resolution) -> None:
    assert parse_resolution(raw) is resolution


@pytest.mark.parametrize("raw", ["4k", "360p", 720, None])
def test_resolution_lists_the_allowed_values(raw: object) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_resolution(raw)
    assert caught.value.message == f"resolution: must be one of 480p, 720p, 1080p, got {raw!r}"


# --- the whole request -------------------------------------------------------------------------


def test_parse_request_builds_a_video_request() -> None:
    request = parse_request(
        "  Why do cats purr?  ",
        "3rd",
        "2.5",
        aspect="9:16",
        resolution="1080p",
        student_id="s-1",
        organization_id="org-9",
        correlation_id="c-42",
    )
    assert request == VideoRequest(
        question="Why do cats purr?",
        grade=Grade(3),
        minutes=2.5,
        aspect=Aspect.TALL,
        resolution=Resolution.P1080,
        student_id="s-1",
        organization_id="org-9",
        correlation_id="c-42",
    )


def test_parse_request_defaults() -> None:
    request = parse_request("Why do cats purr?", "K", 1)
    assert (request.aspect, request.resolution) == (Aspect.WIDE, Resolution.P720)
    assert (request.student_id, request.organization_id, request.correlation_id) == (
        "local",
        None,
        None,
    )


def test_parse_request_raises_the_first_problem() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_request("Why do cats purr?", "13", 0)
    assert caught.value.field == "grade"


def test_validate_fields_reports_every_problem_in_field_order() -> None:
    problems = validate_fields(
        "?",
        "13",
        "eleven",
        aspect="4:3",
        resolution="4k",
        student_id="",
        organization_id=7,
        correlation_id="x" * 129,
    )
    assert [problem.field for problem in problems] == [
        "question",
        "grade",
        "minutes",
        "aspect",
        "resolution",
        "student_id",
        "organization_id",
        "correlation_id",
    ]
    assert "grade: must be K or 1-12, got '13'" in [problem.message for problem in problems]


def test_validate_fields_is_empty_for_a_good_request() -> None:
    assert validate_fields("Why do cats purr?", 4, 3) == []


@pytest.mark.parametrize("field", ["student_id", "organization_id", "correlation_id"])
def test_identifiers_must_be_short_printable_text(field: str) -> None:
    for bad in ("", "a\nb", "x" * 129):
        problems = validate_fields("Why do cats purr?", 4, 3, **{field: bad})
        assert [problem.field for problem in problems] == [field]
        assert "1-128 printable characters" in problems[0].message


def test_optional_identifiers_may_be_absent_but_the_student_may_not() -> None:
    assert validate_fields("Why do cats purr?", 4, 3, organization_id=None) == []
    problems = validate_fields("Why do cats purr?", 4, 3, student_id=None)
    assert problems[0].message == "student_id: must be text of 1-128 printable characters, got None"
