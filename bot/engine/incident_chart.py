"""The PNG chart of an incident's metric, drawn in a short-lived child process.

The data (raw samples or rollups around the incident, thresholds, anomaly marks, a forecast,
the incident's span) is read here, from the store; the drawing is ``common.png_chart``, run
as ``python -m common.png_chart`` with the chart as JSON on stdin, so its memory is never
selfreg's (like the model fits). What cannot be drawn raises ``ChartUnavailable`` with why.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.engine.charts import Chart, Limits, chart_of, forecast, incident_series, incident_window
from bot.errors import ChartUnavailable
from bot.records import Incident
from bot.store import Store

DRAW_TIMEOUT = 30.0
AHEAD = 0.15
"""The forecast extends the time axis by this fraction of the range."""


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentChart:
    """A drawn chart: the PNG, which metric, the thresholds drawn (for the caption)."""

    png: bytes
    metric: str
    limits: Limits


def chart_spec(chart: Chart, incident: Incident, now: float) -> dict[str, Any]:
    """The JSON ``common.png_chart`` draws for ``chart`` around ``incident``."""
    until = chart.end + (chart.end - chart.start) * AHEAD
    return {
        "start": chart.start,
        "end": until,
        "points": chart.points,
        "bands": [(b.at, b.low, b.mean, b.high) for b in chart.bands],
        "limits": [(name, value) for name, value, _ in chart.limits],
        "anomalies": chart.anomalies,
        "span": [incident.opened_at, incident.resolved_at or now],
        "forecast": forecast(chart.line, until),
    }


async def draw(spec: Mapping[str, Any], incident_id: int) -> bytes:
    """Run the drawing program on ``spec``; its PNG, or ``ChartUnavailable`` with its reason."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "common.png_chart",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(
            child.communicate(json.dumps(spec).encode()), DRAW_TIMEOUT
        )
    except TimeoutError:
        child.kill()
        await child.wait()
        raise ChartUnavailable(incident_id, messages.CHART_TIMED_OUT) from None
    if child.returncode != 0:
        reason = err.decode(errors="replace").strip().splitlines()
        raise ChartUnavailable(incident_id, reason[-1] if reason else str(child.returncode))
    return out


async def incident_chart(
    store: Store, incident: Incident, limits: Mapping[str, Limits], now: float
) -> IncidentChart:
    """The chart of the incident's (first) metric around it, drawn in a child process."""
    series = incident_series(store, incident)
    if not series:
        raise ChartUnavailable(incident.id, messages.CHART_NO_METRIC)
    start, end = incident_window(incident, now)
    found = chart_of(store, series[0], start, end, limits.get(series[0].metric, []))
    png = await draw(chart_spec(found, incident, now), incident.id)
    return IncidentChart(png=png, metric=series[0].metric, limits=found.limits)
