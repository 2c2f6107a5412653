"""The numbers the detectors and the plan stand on (pure): a least-squares line with its R²
over a series, and a component's quiet hour from its load by hour of the day."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


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
    """Least squares over ``points`` (time, value); None for fewer than 3 points or no time.
    Plain sums, no numpy: a few thousand points a series, every ten minutes."""
    if len(points) < 3:
        return None
    last_at = points[-1][0]
    n = len(points)
    mean_t = sum(p[0] - last_at for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    stt = sum((p[0] - last_at - mean_t) ** 2 for p in points)
    if stt <= 0:
        return None
    sty = sum((p[0] - last_at - mean_t) * (p[1] - mean_y) for p in points)
    slope = sty / stt
    level = mean_y - slope * mean_t  # the line at the last point (t - last_at = 0)
    total = sum((p[1] - mean_y) ** 2 for p in points)
    residual = sum((p[1] - (level + slope * (p[0] - last_at))) ** 2 for p in points)
    r2 = 1.0 - residual / total if total > 0 else 0.0
    return Line(
        slope=slope,
        level=level,
        r2=max(r2, 0.0),
        span=last_at - points[0][0],
        first=points[0][1],
        last_at=last_at,
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
