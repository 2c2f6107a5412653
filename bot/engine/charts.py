"""One metric over a range, with what is drawn over it: what the dashboard's SVG charts and
the PNG chart posted in an incident's thread are made of.

Raw samples up to ``history.RAW_UP_TO``, rollup bands beyond; the check's thresholds; anomaly
marks from the predictions table; transitions; and a forecast line (``forecast``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.records import Incident
from bot.store import Store, history, predictions

CHART_BUCKETS = 400
"""Buckets a long range is folded into (a chart is never wider than this in pixels' worth)."""

Limits = list[tuple[str, float, str]]
"""A metric's (name, limit, direction) thresholds, as ``metric_limits`` gives them."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Chart:
    """One metric over a range: raw points or rollup bands, plus what is drawn over them."""

    series: history.Series
    start: float
    end: float
    points: list[tuple[float, float]]
    bands: list[history.Band]
    limits: Limits
    anomalies: list[tuple[float, float]]
    transitions: list[tuple[float, str]]

    @property
    def line(self) -> list[tuple[float, float]]:
        """The values drawn as a line: the raw points, else the bands' means."""
        return self.points or [(b.at, b.mean) for b in self.bands]


def chart_of(
    store: Store, series: history.Series, start: float, end: float, limits: Limits
) -> Chart:
    """``series`` between ``start`` and ``end`` with its thresholds and marks."""
    raw = end - start <= history.RAW_UP_TO
    found = predictions.recent(store, start, check=series.check, limit=200)
    return Chart(
        series=series,
        start=start,
        end=end,
        points=history.raw_points(store, series.id, start, end) if raw else [],
        bands=[] if raw else history.bands(store, series.id, start, end, CHART_BUCKETS),
        limits=list(limits),
        anomalies=[
            (p.at, float(p.detail.get("value", p.score)))
            for p in found
            if p.kind == "anomaly"
            and p.subject == series.subject
            and p.detail.get("metric") == series.metric
            and p.at < end
        ],
        transitions=[
            (at, current)
            for at, subject, _, current in history.transitions_of(store, series.check, start, end)
            if subject == series.subject
        ],
    )


def incident_window(incident: Incident, now: float) -> tuple[float, float]:
    """The range an incident's chart covers: from a while before it opened to after its end."""
    end = incident.resolved_at or now
    margin = max(900.0, (end - incident.opened_at) / 2)
    return incident.opened_at - margin, min(now, end + margin / 4)


def incident_series(store: Store, incident: Incident) -> list[history.Series]:
    """The series an incident is about: its subject's metrics (those in its values, if any)."""
    return [
        s
        for s in history.all_series(store, incident.check)
        if s.subject == incident.subject and (not incident.values or s.metric in incident.values)
    ]


def forecast(
    points: Sequence[tuple[float, float]], until: float
) -> list[tuple[float, float, float]]:
    """A least-squares line through the last third of ``points``, from the last point to
    ``until``: [(at, value, half-width of its ~95 % interval)]; empty when too few points."""
    tail = list(points[len(points) * 2 // 3 :])
    if len(tail) < 5:
        return []
    n = len(tail)
    mt = sum(t for t, _ in tail) / n
    mv = sum(v for _, v in tail) / n
    var = sum((t - mt) ** 2 for t, _ in tail)
    if var == 0:
        return []
    slope = sum((t - mt) * (v - mv) for t, v in tail) / var
    resid = math.sqrt(sum((v - mv - slope * (t - mt)) ** 2 for t, v in tail) / max(1, n - 2))
    start = tail[-1][0]
    return [
        (t, mv + slope * (t - mt), 2 * resid * math.sqrt(1 + 1 / n + (t - mt) ** 2 / var))
        for t in (start, (start + until) / 2, until)
    ]
