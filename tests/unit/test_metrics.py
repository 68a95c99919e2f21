from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from vividly_ray.domain.status import RequestStatus
from vividly_ray.observability.metrics import (
    STAGE_BUCKETS,
    ServiceSnapshot,
    histogram,
    render_metrics,
    with_defaults,
)


def _snapshot(
    *,
    requests_by_status: Mapping[str, int] | None = None,
    webhook_attempts: Mapping[str, int] | None = None,
    stage_seconds: Sequence[tuple[str, float]] = (),
) -> ServiceSnapshot:
    return ServiceSnapshot(
        requests_by_status=requests_by_status or {},
        queue_depth=4,
        active_pipelines=2,
        webhook_attempts=webhook_attempts or {},
        stage_seconds=stage_seconds,
        oldest_pending_age_s=12.5,
    )


def _families(snapshot: ServiceSnapshot) -> dict[str, Metric]:
    body, _ = render_metrics(snapshot)
    return {f.name: f for f in text_string_to_metric_families(body.decode("utf-8"))}


def _values(family: Metric, label: str, sample_name: str | None = None) -> dict[str, float]:
    name = sample_name or family.name
    return {s.labels[label]: s.value for s in family.samples if s.name == name}


def test_content_type_is_the_prometheus_text_format() -> None:
    body, content_type = render_metrics(_snapshot())
    assert content_type.startswith("text/plain; version=0.0.4")
    assert body.startswith(b"# HELP vividly_")


def test_every_status_appears_with_zero_when_missing() -> None:
    families = _families(_snapshot(requests_by_status={"pending": 3, "completed": 7}))
    family = families["vividly_requests"]
    assert family.type == "gauge"
    values = _values(family, "status")
    assert set(values) == {s.value for s in RequestStatus}
    assert values["pending"] == 3
    assert values["completed"] == 7
    assert values["failed"] == 0


def test_unknown_status_is_still_reported() -> None:
    values = _values(
        _families(_snapshot(requests_by_status={"legacy": 1}))["vividly_requests"], "status"
    )
    assert values["legacy"] == 1
    assert len(values) == len(RequestStatus) + 1


def test_scalar_gauges() -> None:
    families = _families(_snapshot())
    assert families["vividly_queue_depth"].samples[0].value == 4
    assert families["vividly_active_pipelines"].samples[0].value == 2
    assert families["vividly_oldest_pending_age_seconds"].samples[0].value == 12.5
    for name in ("vividly_queue_depth", "vividly_active_pipelines"):
        assert families[name].type == "gauge"


def test_webhook_attempts_is_a_counter_with_every_outcome() -> None:
    families = _families(_snapshot(webhook_attempts={"delivered": 9, "failed": 1}))
    family = families["vividly_webhook_attempts"]
    assert family.type == "counter"
    assert _values(family, "outcome", "vividly_webhook_attempts_total") == {
        "delivered": 9,
        "retry": 0,
        "failed": 1,
    }


def test_stage_histogram_buckets_are_cumulative_with_count_and_sum() -> None:
    observed = [
        ("validating", 0.05),
        ("validating", 0.1),
        ("validating", 0.7),
        ("validating", 45.0),
        ("validating", 301.0),
        ("retrieving", 2.0),
    ]
    family = _families(_snapshot(stage_seconds=observed))["vividly_stage_duration_seconds"]
    assert family.type == "histogram"

    def buckets(stage: str) -> dict[float, float]:
        return {
            float(s.labels["le"]): s.value
            for s in family.samples
            if s.name.endswith("_bucket") and s.labels["stage"] == stage
        }

    def single(stage: str, suffix: str) -> float:
        (value,) = [
            s.value
            for s in family.samples
            if s.name.endswith(suffix) and s.labels["stage"] == stage
        ]
        return value

    validating = buckets("validating")
    assert list(validating) == [*STAGE_BUCKETS, float("inf")]
    assert validating == {
        0.1: 2,
        0.5: 2,
        1.0: 3,
        2.0: 3,
        5.0: 3,
        10.0: 3,
        30.0: 3,
        60.0: 4,
        120.0: 4,
        300.0: 4,
        float("inf"): 5,
    }
    assert single("validating", "_count") == 5
    assert single("validating", "_sum") == pytest.approx(0.05 + 0.1 + 0.7 + 45.0 + 301.0)

    retrieving = buckets("retrieving")
    assert retrieving[1.0] == 0
    assert retrieving[2.0] == 1
    assert retrieving[float("inf")] == 1
    assert single("retrieving", "_sum") == 2.0


def test_no_stage_runs_means_no_histogram_samples() -> None:
    family = _families(_snapshot())["vividly_stage_duration_seconds"]
    assert family.samples == []


def test_histogram_helper_counts_a_value_on_a_bound_in_that_bucket() -> None:
    data = histogram([1.0, 1.0, 300.0], bounds=(1.0, 300.0))
    assert data.cumulative == (2, 3, 3)
    assert data.count == 3
    assert data.total == 302.0


def test_with_defaults_keeps_order_then_sorts_extras() -> None:
    assert with_defaults({"z": 1, "b": 2, "y": 3}, ["a", "b"]) == [
        ("a", 0),
        ("b", 2),
        ("y", 3),
        ("z", 1),
    ]


def test_each_render_uses_a_fresh_registry() -> None:
    first, _ = render_metrics(_snapshot(requests_by_status={"pending": 1}))
    second, _ = render_metrics(_snapshot(requests_by_status={"pending": 1}))
    assert first == second
