"""Request limits: turning raw request fields into a ``VideoRequest``, or saying what is wrong.

Fields arrive from HTTP bodies, Pub/Sub messages and the command line, so each accepts the forms
those sources send ("5", "5th", "grade 5" or 5 for a grade; 3, 2.5 or "3" for minutes). Every
problem is an ``InvalidRequest`` naming the field, the allowed range and the value received.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from vividly_ray.domain.errors import InvalidRequest
from vividly_ray.domain.models import Aspect, Grade, Resolution, VideoRequest

QUESTION_MIN_CHARS = 3
QUESTION_MAX_CHARS = 500
ANSWER_MIN_CHARS = 1
ANSWER_MAX_CHARS = 500
MIN_MINUTES = 1.0
MAX_MINUTES = 10.0
ID_MAX_CHARS = 128

_GRADE_RANGE = "must be K or 1-12"
_KINDERGARTEN = frozenset({"k", "kg", "kindergarten", "grade k", "k grade"})
_GRADE = re.compile(r"(?:grade\s*)?(\d{1,2})(st|nd|rd|th)?(?:\s*grade)?")
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}
_ALLOWED_CONTROLS = frozenset("\n\t")

T = TypeVar("T")


def _shown(value: object, limit: int = 60) -> str:
    """The bad value as the message echoes it: repr, shortened if long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_question(value: object) -> str:
    """The question, trimmed: 3-500 characters, no control characters but newline and tab."""
    return _student_text("question", value, QUESTION_MIN_CHARS, QUESTION_MAX_CHARS)


def parse_answer(value: object) -> str:
    """A student's answer to a clarifying question, trimmed: 1-500 characters, held to the
    same rules as the question it completes."""
    return _student_text("answer", value, ANSWER_MIN_CHARS, ANSWER_MAX_CHARS)


def _student_text(field: str, value: object, shortest: int, longest: int) -> str:
    rule = f"must be text of {shortest}-{longest} characters"
    if not isinstance(value, str):
        raise InvalidRequest(field, f"{rule}, got {_shown(value)}")
    # Browsers send form text with CRLF line ends; that is a newline, not a control character.
    text = value.replace("\r\n", "\n").strip()
    if not shortest <= len(text) <= longest:
        raise InvalidRequest(field, f"{rule} after trimming, got {len(text)}: {_shown(text)}")
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Cc" and char not in _ALLOWED_CONTROLS:
            raise InvalidRequest(
                field,
                f"{rule} without control characters (newline and tab are allowed), "
                f"got {char!r} at position {position}",
            )
        if category == "Cs":
            # A lone surrogate (JSON allows "\ud800") is no character at all: it cannot be
            # stored or shown as UTF-8.
            raise InvalidRequest(
                field, f"{rule} of valid Unicode, got a lone surrogate at position {position}"
            )
    return text


def parse_grade(value: object) -> Grade:
    """K or 1-12, from "K", "kindergarten", "5", "5th", "grade 5", 5 or 0 (kindergarten)."""
    error = InvalidRequest("grade", f"{_GRADE_RANGE}, got {_shown(value)}")
    if isinstance(value, bool):  # bool is an int subclass; True is not grade 1
        raise error
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if 0 <= value <= 12:
            return Grade(value)
        raise error
    if not isinstance(value, str):
        raise error
    text = " ".join(value.strip().casefold().split())
    if text in _KINDERGARTEN:
        return Grade(0)
    match = _GRADE.fullmatch(text)
    if not match:
        raise error
    level, suffix = int(match.group(1)), match.group(2)
    if not 0 <= level <= 12 or (suffix and suffix != _SUFFIXES.get(level, "th")):
        raise error
    return Grade(level)


def parse_minutes(value: object) -> float:
    """1-10 minutes, from an int, a float or a numeric string."""
    error = InvalidRequest(
        "minutes", f"must be a number from {MIN_MINUTES:g} to {MAX_MINUTES:g}, got {_shown(value)}"
    )
    if isinstance(value, bool):
        raise error
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise error from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise error
    if math.isnan(number) or not MIN_MINUTES <= number <= MAX_MINUTES:
        raise error
    return number


def _parse_choice(field: str, value: object, choices: type[T], names: dict[str, T]) -> T:
    if isinstance(value, choices):
        return value
    if isinstance(value, str):
        found = names.get(value.strip().casefold())
        if found is not None:
            return found
    allowed = ", ".join(dict.fromkeys(str(choice) for choice in names.values()))
    raise InvalidRequest(field, f"must be one of {allowed}, got {_shown(value)}")


def parse_aspect(value: object) -> Aspect:
    """16:9, 9:16 or 1:1 (also by name: wide, tall, square)."""
    names = {str(aspect): aspect for aspect in Aspect}
    names |= {aspect.name.casefold(): aspect for aspect in Aspect}
    return _parse_choice("aspect", value, Aspect, names)


def parse_resolution(value: object) -> Resolution:
    """480p, 720p or 1080p (the "p" may be left out)."""
    names = {str(resolution): resolution for resolution in Resolution}
    names |= {str(resolution).removesuffix("p"): resolution for resolution in Resolution}
    return _parse_choice("resolution", value, Resolution, names)


def _parse_id(field: str, value: object, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, str) and 1 <= len(value) <= ID_MAX_CHARS and value.isprintable():
        return value
    kind = "text" if not optional else "absent or text"
    raise InvalidRequest(
        field, f"must be {kind} of 1-{ID_MAX_CHARS} printable characters, got {_shown(value)}"
    )


def validate_fields(
    question: object,
    grade: object,
    minutes: object,
    *,
    aspect: object = "16:9",
    resolution: object = "720p",
    student_id: object = "local",
    organization_id: object = None,
    correlation_id: object = None,
) -> list[InvalidRequest]:
    """Every field problem at once, in field order, so an HTTP edge can report them together."""
    checks: tuple[Callable[[], object], ...] = (
        lambda: parse_question(question),
        lambda: parse_grade(grade),
        lambda: parse_minutes(minutes),
        lambda: parse_aspect(aspect),
        lambda: parse_resolution(resolution),
        lambda: _parse_id("student_id", student_id, optional=False),
        lambda: _parse_id("organization_id", organization_id, optional=True),
        lambda: _parse_id("correlation_id", correlation_id, optional=True),
    )
    problems: list[InvalidRequest] = []
    for check in checks:
        try:
            check()
        except InvalidRequest as problem:
            problems.append(problem)
    return problems


def parse_request(
    question: object,
    grade: object,
    minutes: object,
    *,
    aspect: object = "16:9",
    resolution: object = "720p",
    student_id: str = "local",
    organization_id: str | None = None,
    correlation_id: str | None = None,
) -> VideoRequest:
    """A validated ``VideoRequest``; raises ``InvalidRequest`` for the first bad field."""
    problems = validate_fields(
        question,
        grade,
        minutes,
        aspect=aspect,
        resolution=resolution,
        student_id=student_id,
        organization_id=organization_id,
        correlation_id=correlation_id,
    )
    if problems:
        raise problems[0]
    # Every field is known to parse now; parsing is cheap and pure, so it is simply done again.
    return VideoRequest(
        question=parse_question(question),
        grade=parse_grade(grade),
        minutes=parse_minutes(minutes),
        aspect=parse_aspect(aspect),
        resolution=parse_resolution(resolution),
        student_id=student_id,
        organization_id=organization_id,
        correlation_id=correlation_id,
    )
