"""``/metrics``: selfreg in Prometheus text format, named as Prometheus' naming guide asks
(base units in the name: ``_seconds``, ``_bytes``; counters end in ``_total``).

Custom collectors read at scrape time: the engine's in-memory latest states (so a scrape
exports exactly what ``/status`` shows) and the ``Tally`` of what selfreg did since it
started; the outbox backlog is one count query. The standard ``process_*`` and ``python_*``
collectors come from prometheus-client. Everything lives in one registry per app, never the
library's global one: tests build many selfregs in one process.

Series: ``selfreg_build_info{version, python_version}``; per check ``selfreg_check_up``
(1 while no subject is critical or unknown), ``selfreg_check_status`` (0 ok, 1 warning,
2 critical, 3 unknown, per subject), ``selfreg_check_duration_seconds``,
``selfreg_check_runs_total`` and ``selfreg_check_value`` (each metric a check reports, in
its own unit: latency and connect_time in seconds, rss in bytes, ``*_percent`` 0-100,
cert_days in days); ``selfreg_incidents_opened_total`` / ``_resolved_total`` by severity,
``selfreg_deliveries_total`` and ``selfreg_delivery_failures_total`` (``kind`` transient or
permanent) by channel, ``selfreg_action_runs_total`` by action and outcome (ok, failed,
dry_run), ``selfreg_outbox_backlog_messages``.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from bot import __version__
from bot.records import LatestState
from bot.tally import Tally
from checks.base import Status

STATUS_CODE = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
DOWN = frozenset({Status.CRITICAL, Status.UNKNOWN})
COUNTERS = (
    ("check_runs", "Check runs recorded, per check.", ["check"]),
    ("incidents_opened", "Incidents opened or reopened, by severity.", ["severity"]),
    ("incidents_resolved", "Incidents resolved, by severity.", ["severity"]),
    ("deliveries", "Outbox messages delivered, per channel.", ["channel"]),
    (
        "delivery_failures",
        "Failed delivery attempts per channel: transient (retried) or permanent.",
        ["channel", "kind"],
    ),
    ("action_runs", "Remediation action runs, by action and outcome.", ["action", "outcome"]),
)


class LatestStateCollector(Collector):
    """Exports check up, status, run duration and every latest sample value."""

    def __init__(self, latest: Callable[[], Mapping[tuple[str, str], LatestState]]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "selfreg_check_up",
            "1 while no subject of the check is critical or unknown, else 0.",
            labels=["check"],
        )
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
            "Latest value of every metric a check reports, in that metric's own unit.",
            labels=["check", "subject", "metric"],
        )
        healthy: dict[str, bool] = {}
        durations: dict[str, float] = {}
        for (check, subject), state in sorted(self._latest().items()):
            healthy[check] = healthy.get(check, True) and state.status not in DOWN
            status.add_metric([check, subject], STATUS_CODE[state.status])
            if state.duration is not None:
                durations.setdefault(check, state.duration)
            for metric, number in sorted(state.values.items()):
                value.add_metric([check, subject, metric], number)
        for check, ok in healthy.items():
            up.add_metric([check], 1 if ok else 0)
        for check, seconds in durations.items():
            duration.add_metric([check], seconds)
        yield from (up, status, duration, value)


class ActivityCollector(Collector):
    """The build, the counters of what selfreg did, and the outbox backlog."""

    def __init__(self, tally: Tally, backlog: Callable[[], int]) -> None:
        self._tally = tally
        self._backlog = backlog

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily(
            "selfreg_build_info",
            "Always 1: the selfreg version and Python that run.",
            labels=["version", "python_version"],
        )
        build.add_metric([__version__, platform.python_version()], 1)
        yield build
        for name, text, labels in COUNTERS:
            family = CounterMetricFamily(f"selfreg_{name}", text, labels=labels)
            for found, count in self._tally.counts(name):
                family.add_metric([found.get(label, "") for label in labels], count)
            yield family
        yield GaugeMetricFamily(
            "selfreg_outbox_backlog_messages",
            "Outbox messages waiting for delivery (every channel).",
            value=self._backlog(),
        )


def metrics_registry(
    latest: Callable[[], Mapping[tuple[str, str], LatestState]],
    tally: Tally | None = None,
    backlog: Callable[[], int] = lambda: 0,
) -> CollectorRegistry:
    """A registry of this app's own: selfreg's collectors and the process / python ones."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LatestStateCollector(latest))
    registry.register(ActivityCollector(tally or Tally(), backlog))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
