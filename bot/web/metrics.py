"""``/metrics``: the engine's latest state in Prometheus text format.

A custom collector reads the in-memory latest states at scrape time, so a scrape costs no
store query and exports exactly what ``/status`` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.records import LatestState
from checks.base import Status

STATUS_CODE = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}


class LatestStateCollector(Collector):
    """Exports check status, run duration and every latest sample value."""

    def __init__(self, latest: Callable[[], Mapping[tuple[str, str], LatestState]]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "selfreg_check_status",
            "Latest status per check subject: 0 ok, 1 warning, 2 critical, 3 unknown.",
            labels=["check", "subject"],
        )
        duration = GaugeMetricFamily(
            "selfreg_check_duration_seconds", "How long the latest run took.", labels=["check"]
        )
        value = GaugeMetricFamily(
            "selfreg_check_value",
            "Latest value of every metric a check reports.",
            labels=["check", "subject", "metric"],
        )
        seen_duration: set[str] = set()
        for (check, subject), state in sorted(self._latest().items()):
            status.add_metric([check, subject], STATUS_CODE[state.status])
            if state.duration is not None and check not in seen_duration:
                seen_duration.add(check)
                duration.add_metric([check], state.duration)
            for metric, number in sorted(state.values.items()):
                value.add_metric([check, subject, metric], number)
        yield status
        yield duration
        yield value


def metrics_registry(
    latest: Callable[[], Mapping[tuple[str, str], LatestState]],
) -> CollectorRegistry:
    """A private registry holding only selfreg's own collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatestStateCollector(latest))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
