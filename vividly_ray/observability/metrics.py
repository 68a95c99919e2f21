"""Prometheus text exposition of a point-in-time snapshot of the service.

The service does not keep live metric objects: whoever serves ``/metrics`` reads the
numbers (from the database and the dispatchers) into a ``ServiceSnapshot`` and renders it
on a fresh registry, so nothing is shared between requests or processes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from vividly_ray.domain.status import RequestStatus

STAGE_BUCKETS: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
WEBHOOK_OUTCOMES: tuple[str, ...] = ("delivered", "retry", "failed")
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


@dataclass(frozen=True)
class ServiceSnapshot:
    """What the service looks like at one moment, as read for a ``/metrics`` scrape.

    ``queue_depth`` counts requests waiting to be claimed, ``active_pipelines`` those a
    dispatcher currently holds a lease on. ``webhook_attempts`` maps an outcome
    ("delivered", "retry", "failed") to how many attempts ended that way.
    ``stage_seconds`` holds one ``(stage, seconds)`` pair per observed stage run.
    """

    requests_by_status: Mapping[str, int]
    queue_depth: int
    active_pipelines: int
    webhook_attempts: Mapping[str, int]
    stage_seconds: Sequence[tuple[str, float]]
    oldest_pending_age_s: float


@dataclass(frozen=True)
class HistogramData:
    """Cumulative bucket counts (one per bound in ``STAGE_BUCKETS``, then +Inf) and sum."""

    cumulative: tuple[int, ...]
    total: float

    @property
    def count(self) -> int:
        return self.cumulative[-1]


def with_defaults(counts: Mapping[str, int], names: Iterable[str]) -> list[tuple[str, int]]:
    """``names`` in order with their count (0 when missing), then any other keys sorted."""
    ordered = list(dict.fromkeys(names))
    extra = sorted(k for k in counts if k not in ordered)
    return [(name, counts.get(name, 0)) for name in ordered + extra]


def histogram(values: Iterable[float], bounds: Sequence[float] = STAGE_BUCKETS) -> HistogramData:
    """Bucket ``values`` into cumulative ``le`` counts over ``bounds`` plus +Inf."""
    per_bucket = [0] * (len(bounds) + 1)
    total = 0.0
    for value in values:
        per_bucket[bisect.bisect_left(bounds, value)] += 1
        total += value
    cumulative: list[int] = []
    running = 0
    for n in per_bucket:
        running += n
        cumulative.append(running)
    return HistogramData(cumulative=tuple(cumulative), total=total)


def group_by_stage(stage_seconds: Iterable[tuple[str, float]]) -> dict[str, list[float]]:
    """Observed durations per stage name, stages sorted by name."""
    grouped: dict[str, list[float]] = {}
    for stage, seconds in stage_seconds:
        grouped.setdefault(stage, []).append(seconds)
    return dict(sorted(grouped.items()))


def _bucket_labels(bounds: Sequence[float]) -> list[str]:
    return [repr(float(b)) for b in bounds] + ["+Inf"]


class SnapshotCollector:
    """A prometheus_client collector that yields the metric families of one snapshot."""

    def __init__(self, snapshot: ServiceSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot

        requests = GaugeMetricFamily(
            "vividly_requests", "Requests currently in each status.", labels=["status"]
        )
        statuses = (s.value for s in RequestStatus)
        for status, count in with_defaults(snap.requests_by_status, statuses):
            requests.add_metric([status], count)
        yield requests

        yield GaugeMetricFamily(
            "vividly_queue_depth", "Requests waiting to be claimed.", value=snap.queue_depth
        )
        yield GaugeMetricFamily(
            "vividly_active_pipelines",
            "Requests currently leased by a dispatcher.",
            value=snap.active_pipelines,
        )
        yield GaugeMetricFamily(
            "vividly_oldest_pending_age_seconds",
            "Age of the oldest request waiting to be claimed.",
            value=snap.oldest_pending_age_s,
        )

        webhooks = CounterMetricFamily(
            "vividly_webhook_attempts", "Webhook delivery attempts by outcome.", labels=["outcome"]
        )
        for outcome, count in with_defaults(snap.webhook_attempts, WEBHOOK_OUTCOMES):
            webhooks.add_metric([outcome], count)
        yield webhooks

        stages = HistogramMetricFamily(
            "vividly_stage_duration_seconds", "Duration of pipeline stage runs.", labels=["stage"]
        )
        labels = _bucket_labels(STAGE_BUCKETS)
        for stage, values in group_by_stage(snap.stage_seconds).items():
            data = histogram(values)
            stages.add_metric([stage], list(zip(labels, data.cumulative, strict=True)), data.total)
        yield stages


def render_metrics(snapshot: ServiceSnapshot) -> tuple[bytes, str]:
    """The Prometheus text exposition of ``snapshot`` and the content type to serve it with."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry), CONTENT_TYPE
