"""The one edge policy: every error type maps to an exit code and an HTTP status."""

from __future__ import annotations

import inspect

import pytest

from vividly_ray.domain import errors
from vividly_ray.domain.errors import (
    InternalError,
    InvalidFields,
    InvalidRequest,
    Overloaded,
    RateLimited,
    RequestNotFound,
    StageFailed,
    VividlyError,
)
from vividly_ray.edge import POLICIES, UNEXPECTED, field_errors, policy_for, problem_details


def _error_classes() -> list[type[VividlyError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, VividlyError) and cls is not VividlyError
    ]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_type_has_a_policy_of_its_own_or_its_parents(cls: type[VividlyError]) -> None:
    assert any(base in POLICIES for base in cls.__mro__), cls


def test_input_errors_are_4xx_and_exit_2_naming_every_field() -> None:
    problems = InvalidFields(
        [
            InvalidRequest("grade_level", "must be K or 1-12"),
            InvalidRequest("duration_minutes", "x"),
        ]
    )
    policy = policy_for(problems)
    assert (policy.http_status, policy.exit_code) == (422, 2)
    assert [p["field"] for p in field_errors(problems)] == ["grade_level", "duration_minutes"]
    body = problem_details(problems, "/v1/videos")
    assert body["status"] == 422 and len(body["errors"]) == 2 and body["instance"] == "/v1/videos"


def test_the_most_specific_class_wins() -> None:
    assert policy_for(RateLimited("busy", 3)).http_status == 429
    assert policy_for(Overloaded("busy", 3)).http_status == 503
    assert problem_details(RateLimited("busy", 3))["retry_after"] == 3
    assert policy_for(RequestNotFound("nope")).http_status == 404


def test_an_unexpected_exception_is_a_500_that_reveals_nothing() -> None:
    assert policy_for(KeyError("secret")) is UNEXPECTED
    body = problem_details(KeyError("secret"))
    assert body["status"] == 500 and "secret" not in str(body)
    internal = InternalError("generating_video", "0123456789ab", "KeyError: secret")
    shown = problem_details(internal)
    assert shown["error_id"] == "0123456789ab" and "secret" not in str(shown)
    assert not internal.retryable


def test_a_stage_failure_exits_1() -> None:
    assert policy_for(StageFailed("retrieving", "no material")).exit_code == 1
