"""Resource detectors (pure): a trend in the stored history becomes a ``Finding`` with its
evidence, or nothing. Each has its thresholds in ``[regulate.leak|disk|cpu]``; the engine
(``detecting``) reads the history, turns findings into proposals and never acts by itself.

* leak: a ``process`` check's ``rss`` growing steadily (a straight line, R² ≥ ``min_r2``, by
  at least ``min_growth`` over ``min_span`` or more). Urgent when the line reaches the check's
  rss limit before the component's next quiet window.
* disk: a ``system`` check's ``disk_percent`` heading for 100 % within ``horizon``; urgent
  within ``urgent``.
* cpu: a ``process`` check's ``cpu_percent`` over the last ``window`` at least ``factor``
  times its usual (the median hourly average of ``usual``) and at least ``min_percent``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import messages
from bot.config.regulate import CpuDetector, DiskDetector, LeakDetector
from bot.engine.regulate.trends import Line

FULL = 100.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """What a detector saw: where, the worded evidence, the numbers, and how soon."""

    detector: str
    check: str
    subject: str
    metric: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False
    eta: float | None = None


def _line_evidence(line: Line) -> dict[str, Any]:
    return {
        "slope_per_hour": line.slope * 3600,
        "r2": round(line.r2, 3),
        "span": line.span,
        "level": line.level,
        "first": line.first,
    }


def leak(
    check: str,
    subject: str,
    line: Line | None,
    limit: float | None,
    settings: LeakDetector,
    until_quiet: float,
) -> Finding | None:
    """A steady growth of resident memory, or None."""
    if line is None or line.span < settings.min_span or line.r2 < settings.min_r2:
        return None
    growth = line.slope * line.span / line.first if line.first > 0 else 0.0
    if line.slope <= 0 or growth < settings.min_growth:
        return None
    eta = line.eta(limit) if limit is not None else None
    urgent = eta is not None and eta <= until_quiet
    summary = messages.leak_found(check, subject, line.slope * 3600, line.span, line.r2, limit, eta)
    evidence = {**_line_evidence(line), "growth": growth, "limit": limit, "eta": eta}
    return Finding(
        detector="leak", check=check, subject=subject, metric="rss", summary=summary,
        evidence=evidence, urgent=urgent, eta=eta,
    )  # fmt: skip


def disk(check: str, subject: str, line: Line | None, settings: DiskDetector) -> Finding | None:
    """A mount heading for full within the horizon, or None."""
    if line is None or line.span < settings.min_span or line.r2 < settings.min_r2:
        return None
    eta = line.eta(FULL)
    if eta is None or eta > settings.horizon:
        return None
    summary = messages.disk_filling(check, subject, line.level, line.slope * 3600, eta, line.r2)
    return Finding(
        detector="disk", check=check, subject=subject, metric="disk_percent", summary=summary,
        evidence={**_line_evidence(line), "eta": eta}, urgent=eta <= settings.urgent, eta=eta,
    )  # fmt: skip


def cpu(
    check: str,
    subject: str,
    recent: Sequence[float],
    hourly: Sequence[float],
    settings: CpuDetector,
) -> Finding | None:
    """A process far above its usual CPU, or None (no usual yet: nothing to compare)."""
    if not recent or len(hourly) < 3:
        return None
    now = statistics.fmean(recent)
    usual = statistics.median(hourly)
    if now < settings.min_percent or now < settings.factor * max(usual, 1.0):
        return None
    summary = messages.cpu_pinned(check, subject, now, usual, settings.window)
    return Finding(
        detector="cpu", check=check, subject=subject, metric="cpu_percent", summary=summary,
        evidence={"recent": now, "usual": usual, "factor": now / max(usual, 1.0)},
    )  # fmt: skip
