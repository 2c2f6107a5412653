"""A check's trend over a range, from the rollups: per UTC day each metric's min / mean /
p95 / max, the check's availability, and its incidents. What ``selfreg history CHECK``,
``/selfreg history CHECK`` and the dashboard's history page show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.records import Incident
from bot.store import Store, history, timeline
from bot.store.availability import availability

RANGES = {"1h": 3600.0, "24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}
"""The ranges a chart or a trend covers, by the word that asks for them."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Trend:
    """One check over a range: days, availability per day, per-metric day rows, incidents."""

    check: str
    span: str
    start: float
    end: float
    days: list[float]
    availability: list[float | None]
    metrics: Mapping[str, list[history.DayTrend]]
    incidents: list[Incident]


def day_starts(now: float, span: float) -> list[float]:
    """The UTC day starts covering ``span`` up to ``now``, oldest first."""
    first = (now - span) // 86400 * 86400
    return [first + i * 86400 for i in range(int((now - first) // 86400) + 1)]


def daily_availability(store: Store, check: str, now: float, span: float) -> list[float | None]:
    """The check's availability on each UTC day of the span (the first and the last day:
    only their part inside the span)."""
    found = []
    for day in day_starts(now, span):
        begin, end = max(day, now - span), min(day + 86400, now)
        found.append(availability(store, check, end, max(1.0, end - begin)))
    return found


def trend(store: Store, check: str, word: str, now: float) -> Trend:
    """The trend of ``check`` over the range ``word`` (a key of ``RANGES``) up to ``now``."""
    span = RANGES[word]
    start = now - span
    metrics = {
        f"{s.subject} {s.metric}".strip(): history.day_trends(store, s.id, start, now)
        for s in history.all_series(store, check)
    }
    return Trend(
        check=check,
        span=word,
        start=start,
        end=now,
        days=day_starts(now, span),
        availability=daily_availability(store, check, now, span),
        metrics=metrics,
        incidents=timeline.incidents_of(store, check, start),
    )


def trend_document(found: Trend) -> dict[str, Any]:
    """The trend as JSON-ready data (``--json``)."""
    return {
        "check": found.check,
        "range": found.span,
        "start": found.start,
        "end": found.end,
        "availability": [
            {"day": day, "availability": a}
            for day, a in zip(found.days, found.availability, strict=True)
        ],
        "metrics": {
            name: [
                {"day": d.day, "min": d.low, "mean": d.mean, "p95": d.p95, "max": d.high}
                for d in days
            ]
            for name, days in found.metrics.items()
        },
        "incidents": [
            {
                "id": i.id,
                "opened_at": i.opened_at,
                "resolved_at": i.resolved_at,
                "severity": i.severity.value,
                "state": i.state.value,
                "summary": i.summary,
            }
            for i in found.incidents
        ],
    }
