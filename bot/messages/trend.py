"""``selfreg history CHECK`` and ``/selfreg history CHECK``: a check's trend as text lines.

The same lines serve the terminal and Slack (inside a code block there).
"""

from __future__ import annotations

import math
import time
from typing import Any

from bot.messages.common import human_duration

TREND_RANGES_HELP = "1h, 24h, 7d or 30d"


def _day(at: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(at))


def _num(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.4g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def trend_heading(check: str, word: str) -> str:
    return f"{check}: the last {word}, per UTC day (from the one-minute rollups)"


def trend_lines(found: Any, now: float) -> list[str]:
    """A ``bot.engine.trend.Trend`` as aligned lines: availability, metrics, incidents."""
    lines = [trend_heading(found.check, found.span), "", "availability"]
    for day, share in zip(found.days, found.availability, strict=True):
        lines.append(f"  {_day(day)}  {_percent(share):>8}")
    for name, days in found.metrics.items():
        lines += ["", f"{name or 'value'}", f"  {'day':10}  {'min':>9} {'mean':>9} {'max':>9}"]
        lines += [
            f"  {_day(d.day):10}  {_num(d.low):>9} {_num(d.mean):>9} {_num(d.high):>9}"
            for d in days
        ] or ["  no rollups in this range"]
    lines += ["", f"incidents: {len(found.incidents)}"]
    for i in found.incidents:
        lasted = human_duration((i.resolved_at or now) - i.opened_at)
        lines.append(
            f"  #{i.id}  {time.strftime('%Y-%m-%d %H:%M', time.gmtime(i.opened_at))}  "
            f"{i.severity.value:8} {i.state.value:12} {lasted:>8}  {i.summary}"
        )
    return lines


def trend_unknown_check(check: str, known: list[str]) -> str:
    """``history CHECK`` for a check with no stored history."""
    names = ", ".join(known) or "none yet"
    return f"No check named {check!r} has history; checks with history: {names}"


def trend_bad_range(word: str) -> str:
    return f"history takes a range of {TREND_RANGES_HELP}, not {word!r}"


def trend_block(found: Any, now: float) -> str:
    """The trend for Slack: the same lines in a code block."""
    return "```\n" + "\n".join(trend_lines(found, now)) + "\n```"
