"""The numbers the detectors and the plan stand on (pure): a least-squares line with its R²
over a series, and a component's quiet hour from its load by hour of the day."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """``value ≈ level + slope * (t - last_at)``: ``slope`` in units a second, ``level`` the
    fitted value at the last point, ``r2`` how straight the series is, ``span`` seconds."""

    slope: float
    level: float
    r2: float
    span: float
    first: float
    last_at: float

    def eta(self, limit: float) -> float | None:
        """Seconds until the line reaches ``limit`` going up; 0 when past; None when flat or
        falling."""
        if self.level >= limit:
            return 0.0
        if self.slope <= 0:
            return None
        return (limit - self.level) / self.slope


def fit_line(points: Sequence[tuple[float, float]]) -> Line | None:
    """Least squares over ``points`` (time, value); None for fewer than 3 points or no time."""
    if len(points) < 3:
        return None
    t = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    dt = t - t[-1]
    if float(np.ptp(dt)) <= 0:
        return None
    slope, intercept = np.polyfit(dt, y, 1)
    residual = float(np.sum((y - (slope * dt + intercept)) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - residual / total if total > 0 else 0.0
    return Line(
        slope=float(slope),
        level=float(intercept),
        r2=max(r2, 0.0),
        span=float(t[-1] - t[0]),
        first=float(y[0]),
        last_at=float(t[-1]),
    )


def quiet_hour(load: Mapping[int, tuple[float, int]], min_minutes: int = 30) -> int | None:
    """The hour of the day (UTC) with the lowest average load among hours with at least
    ``min_minutes`` of history; None until there is any."""
    known = {h: avg for h, (avg, minutes) in load.items() if minutes >= min_minutes}
    if not known:
        return None
    return min(sorted(known), key=lambda h: known[h])


def next_at_hour(now: float, hour: int) -> float:
    """The next start of ``hour`` (UTC) after ``now``."""
    day = math.floor(now / 86400) * 86400
    at = day + hour * 3600
    return at if at > now else at + 86400
