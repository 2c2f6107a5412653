"""``selfreg``: selfreg watching itself: CPU, memory, event-loop lag, check run times, backlog.

The figures come from ``ctx.engine_stats()`` (the engine measures loop lag and run times) and
from psutil for this process, and become ordinary metrics and alerts like any other check's.
"""

from __future__ import annotations

import os
import time
from typing import Literal

import psutil
from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from checks.thresholds import DurationThreshold, PercentThreshold, SizeThreshold, describe_ms


class SelfregSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``selfreg``."""

    kind: Literal["selfreg"]
    cpu: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=25, critical=80),
        description="selfreg's own CPU use, percent of one core, since the previous run.",
    )
    rss: SizeThreshold = Field(
        default_factory=lambda: SizeThreshold(warn=300e6, critical=1e9),
        description="selfreg's resident memory.",
    )
    loop_lag: DurationThreshold = Field(
        default_factory=lambda: DurationThreshold(warn=0.1, critical=1.0),
        description="Worst event-loop lag seen since the previous run.",
    )
    backlog: int = Field(
        default=10, ge=1, description="Undelivered outbox rows at or above which it warns."
    )


class SelfregCheck(Check):
    """Report selfreg's own health as metrics, warning when it strains."""

    Spec = SelfregSpec

    def __init__(self, spec: SelfregSpec) -> None:
        super().__init__(spec)
        self.spec: SelfregSpec = spec
        self._process = psutil.Process(os.getpid())
        self._last: tuple[float, float] | None = None

    @property
    def server(self) -> str | None:
        """None: it reads selfreg's own figures and opens no connection, so its runs start at once."""
        return None

    def _cpu_percent(self) -> float | None:
        times = self._process.cpu_times()
        sample = (time.monotonic(), times.user + times.system)
        previous, self._last = self._last, sample
        if previous is None or sample[0] <= previous[0]:
            return None
        return 100 * (sample[1] - previous[1]) / (sample[0] - previous[0])

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        stats = dict(ctx.engine_stats())
        values = dict(stats)
        values["rss"] = float(self._process.memory_info().rss)
        cpu = self._cpu_percent()
        if cpu is not None:
            values["cpu_percent"] = cpu
        lag = stats.get("loop_lag_max", 0.0)
        backlog = stats.get("outbox_pending", 0.0)
        judged = [
            spec.rss.status(values["rss"]),
            spec.loop_lag.status(lag),
            Status.WARNING if backlog >= spec.backlog else Status.OK,
        ]
        if cpu is not None:
            judged.append(spec.cpu.status(cpu))
        parts = [
            f"rss {values['rss'] / 1e6:.0f} MB",
            f"loop lag {describe_ms(lag)}",
            f"outbox {backlog:.0f} pending",
        ]
        if cpu is not None:
            parts.insert(0, f"cpu {cpu:.1f}%")
        return [self.observe(ctx, Status.worst(judged), ", ".join(parts), values)]
