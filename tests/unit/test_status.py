from __future__ import annotations

import pytest

from vividly_ray.domain.errors import IllegalTransition
from vividly_ray.domain.status import (
    PIPELINE,
    RequestStatus,
    band_progress,
    check_transition,
)


def test_pipeline_order_is_the_platform_contract() -> None:
    assert [s.value for s in PIPELINE] == [
        "pending",
        "validating",
        "retrieving",
        "generating_script",
        "generating_video",
        "processing_video",
        "notifying",
        "completed",
    ]


@pytest.mark.parametrize("here, there", list(zip(PIPELINE, PIPELINE[1:], strict=False)))
def test_each_stage_may_move_to_the_next(here: RequestStatus, there: RequestStatus) -> None:
    check_transition(here, there)


@pytest.mark.parametrize(
    "here, there",
    [
        (RequestStatus.PENDING, RequestStatus.GENERATING_VIDEO),
        (RequestStatus.COMPLETED, RequestStatus.FAILED),
        (RequestStatus.FAILED, RequestStatus.VALIDATING),
        (RequestStatus.GENERATING_VIDEO, RequestStatus.RETRIEVING),
        (RequestStatus.RETRIEVING, RequestStatus.CLARIFICATION_NEEDED),
    ],
)
def test_illegal_moves_are_refused(here: RequestStatus, there: RequestStatus) -> None:
    with pytest.raises(IllegalTransition, match=f"{here} to {there}"):
        check_transition(here, there)


def test_clarification_waits_and_can_resume_validation() -> None:
    check_transition(RequestStatus.VALIDATING, RequestStatus.CLARIFICATION_NEEDED)
    check_transition(RequestStatus.CLARIFICATION_NEEDED, RequestStatus.VALIDATING)
    assert not RequestStatus.CLARIFICATION_NEEDED.is_terminal


def test_any_running_stage_can_fail_or_be_cancelled() -> None:
    for status in PIPELINE[:-1]:
        check_transition(status, RequestStatus.FAILED)
        check_transition(status, RequestStatus.CANCELLED)


def test_band_progress_never_goes_backwards_along_the_pipeline() -> None:
    values = []
    for status in PIPELINE[:-1]:
        values += [band_progress(status, f / 4) for f in range(5)]
    values.append(band_progress(RequestStatus.COMPLETED, 0))
    assert values == sorted(values)
    assert values[0] == 0 and values[-1] == 100
