"""Charts as inline SVG, drawn on the server: no chart library, nothing to fetch, and the
page shows its charts with JavaScript off.

A chart carries its scale in ``data-*`` attributes (time and value at the plot's edges, the
plot's box) so a test, or a reader, can map every drawn point back to the value it shows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from html import escape

from bot.engine.charts import Chart, forecast

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 22
AHEAD = 0.15
"""The forecast extends the time axis by this fraction of the range."""


def sparkline(values: Sequence[float], width: int = 120, height: int = 24) -> str:
    """A small line of ``values`` (NaN leaves a gap); empty when there is nothing to draw."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if math.isnan(v):
            runs.append([])
            continue
        y = height - 2 - (v - low) / span * (height - 4)
        runs[-1].append(f"{i * step:.1f},{y:.1f}")
    lines = "".join(f'<polyline points="{" ".join(r)}"/>' for r in runs if r)
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="24 h">{lines}</svg>'
    )


class _Scale:
    """Maps (time, value) to the plot's pixels."""

    def __init__(self, t0: float, t1: float, v0: float, v1: float) -> None:
        if v1 - v0 < 1e-9:
            v0, v1 = v0 - 1, v1 + 1
        self.t0, self.t1, self.v0, self.v1 = t0, t1, v0, v1
        self.w, self.h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(self, t: float) -> float:
        return LEFT + (t - self.t0) / (self.t1 - self.t0) * self.w

    def y(self, v: float) -> float:
        return TOP + (self.v1 - v) / (self.v1 - self.v0) * self.h

    def attrs(self) -> str:
        return (
            f'data-t0="{self.t0:.3f}" data-t1="{self.t1:.3f}" data-v0="{self.v0!r}" '
            f'data-v1="{self.v1!r}" data-left="{LEFT}" data-top="{TOP}" '
            f'data-w="{self.w}" data-h="{self.h}"'
        )


def _values(chart: Chart, ahead: list[tuple[float, float, float]]) -> list[float]:
    found = [v for _, v in chart.points] + [b.low for b in chart.bands]
    found += [b.high for b in chart.bands] + [limit for _, limit, _ in chart.limits]
    found += [v + w for _, v, w in ahead] + [v - w for _, v, w in ahead]
    return found or [0.0, 1.0]


def chart_svg(chart: Chart, span_label: str = "", shade: tuple[float, float] | None = None) -> str:
    """The chart of one metric: values (raw line or min/mean/max band), thresholds, anomaly
    marks, transitions and the forecast with its interval; ``shade``: an incident's span."""
    line = chart.line
    until = chart.end + (chart.end - chart.start) * AHEAD
    ahead = forecast(line, until)
    values = _values(chart, ahead)
    pad = (max(values) - min(values)) * 0.05
    s = _Scale(chart.start, until, min(values) - pad, max(values) + pad)
    parts = [_frame(s), _shade(shade, s), _bands(chart, s), _line(line, s), _forecast(ahead, s)]
    parts += [_limit(name, value, s) for name, value, _ in chart.limits]
    parts += [_transition(at, current, s) for at, current in chart.transitions]
    parts += [
        f'<circle class="anomaly" cx="{s.x(at):.1f}" cy="{s.y(v):.1f}" r="4">'
        f"<title>anomaly {v:g}</title></circle>"
        for at, v in chart.anomalies
    ]
    label = escape(
        f"{chart.series.check} {chart.series.subject} {chart.series.metric} {span_label}"
    )
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'data-series="{chart.series.id}" data-kind="{"raw" if chart.points else "bands"}" '
        f"{s.attrs()}>{''.join(parts)}</svg>"
    )


def _frame(s: _Scale) -> str:
    x0, x1, y0, y1 = LEFT, LEFT + s.w, TOP, TOP + s.h
    return (
        f'<rect class="plot" x="{x0}" y="{y0}" width="{s.w}" height="{s.h}"/>'
        f'<text class="axis" x="{x0 - 4}" y="{y0 + 10}" text-anchor="end">{s.v1:.4g}</text>'
        f'<text class="axis" x="{x0 - 4}" y="{y1}" text-anchor="end">{s.v0:.4g}</text>'
        f'<text class="axis" x="{x0}" y="{y1 + 16}">{_time(s.t0)}</text>'
        f'<text class="axis" x="{x1}" y="{y1 + 16}" text-anchor="end">{_time(s.t1)}</text>'
    )


def _time(at: float) -> str:
    return time.strftime("%m-%d %H:%M", time.gmtime(at))


def _shade(span: tuple[float, float] | None, s: _Scale) -> str:
    if span is None:
        return ""
    x0, x1 = s.x(max(span[0], s.t0)), s.x(min(span[1], s.t1))
    return (
        f'<rect class="span" x="{x0:.1f}" y="{TOP}" width="{max(1.0, x1 - x0):.1f}" '
        f'height="{s.h}"><title>the incident</title></rect>'
    )


def _bands(chart: Chart, s: _Scale) -> str:
    if not chart.bands:
        return ""
    top = [f"{s.x(b.at):.1f},{s.y(b.high):.1f}" for b in chart.bands]
    bottom = [f"{s.x(b.at):.1f},{s.y(b.low):.1f}" for b in reversed(chart.bands)]
    return f'<polygon class="band" points="{" ".join(top + bottom)}"/>'


def _line(points: Sequence[tuple[float, float]], s: _Scale) -> str:
    if not points:
        return ""
    coords = " ".join(f"{s.x(t):.2f},{s.y(v):.2f}" for t, v in points)
    return f'<polyline class="value" points="{coords}"/>'


def _forecast(ahead: list[tuple[float, float, float]], s: _Scale) -> str:
    if not ahead:
        return ""
    upper = [f"{s.x(t):.1f},{s.y(v + w):.1f}" for t, v, w in ahead]
    lower = [f"{s.x(t):.1f},{s.y(v - w):.1f}" for t, v, w in reversed(ahead)]
    line = " ".join(f"{s.x(t):.1f},{s.y(v):.1f}" for t, v, _ in ahead)
    return (
        f'<polygon class="interval" points="{" ".join(upper + lower)}"/>'
        f'<polyline class="forecast" points="{line}"><title>forecast</title></polyline>'
    )


def _limit(name: str, value: float, s: _Scale) -> str:
    y = s.y(value)
    return (
        f'<line class="limit {escape(name)}" x1="{LEFT}" x2="{LEFT + s.w}" y1="{y:.1f}" '
        f'y2="{y:.1f}" data-value="{value!r}"><title>{escape(name)} {value:g}</title></line>'
    )


def _transition(at: float, current: str, s: _Scale) -> str:
    x = s.x(at)
    return (
        f'<line class="transition {escape(current)}" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
        f'y2="{TOP + s.h}"><title>→ {escape(current)}</title></line>'
    )
