"""Metric history read back for people: sparklines, chart points, per-day trends.

Raw samples are kept 24 h and one-minute rollups 30 days (``retention``); these reads pick
whichever covers the asked range at the resolution a chart can show. The rollups lag the
raw samples by up to a minute plus the housekeeping interval, so a short range reads raw
samples and a long one rollups (a gap of a minute or two at the right edge of a 7-day chart
is invisible at its resolution).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.store.db import Store

RAW_UP_TO = 6 * 3600.0
"""Ranges up to this long are drawn from raw samples; longer ones from rollups."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Series:
    """One stored metric series: its id and what it measures."""

    id: int
    check: str
    subject: str
    metric: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Band:
    """One bucket of a long chart: when it starts, and the min / mean / max inside it."""

    at: float
    low: float
    mean: float
    high: float


@dataclass(frozen=True, kw_only=True, slots=True)
class DayTrend:
    """One metric over one day (UTC): min, mean, 95th percentile of the minute means, max."""

    day: float
    low: float
    mean: float
    p95: float
    high: float
    count: int


def all_series(store: Store, check: str | None = None) -> list[Series]:
    """Every stored series (or one check's), ordered by check, subject, metric."""
    query = 'SELECT id, "check", subject, metric FROM series'
    args: tuple[str, ...] = ()
    if check is not None:
        query += ' WHERE "check" = ?'
        args = (check,)
    rows = store._conn.execute(query + ' ORDER BY "check", subject, metric', args)
    return [Series(id=r[0], check=r[1], subject=r[2], metric=r[3]) for r in rows]


def sparklines(
    store: Store, ids: Sequence[int], start: float, width: float, buckets: int
) -> dict[int, list[float]]:
    """Per series id of ``ids``, the mean in each of ``buckets`` buckets of ``width`` seconds
    from ``start`` (NaN where there is none): the overview's 24 h sparklines, from the
    rollups (read along their primary key) and the raw samples newer than the last rollup."""
    conn = store._conn
    found: dict[int, list[float]] = {}
    for series in ids:
        newest = conn.execute(
            "SELECT max(minute) FROM rollups WHERE series = ?", (series,)
        ).fetchone()[0]
        cut = start if newest is None else max(start, (int(newest) + 1) * 60.0)
        rolled = conn.execute(
            "SELECT CAST((minute * 60 - ?) / ? AS INTEGER) AS b, sum(sum), sum(count) "
            "FROM rollups WHERE series = ? AND minute >= ? AND minute < ? GROUP BY b",
            (start, width, series, int(start // 60), int(cut // 60)),
        )
        raw = conn.execute(
            "SELECT CAST((at - ?) / ? AS INTEGER) AS b, sum(value), count(*) "
            "FROM all_samples WHERE series = ? AND at >= ? GROUP BY b",
            (start, width, series, cut),
        )
        sums: dict[int, tuple[float, float]] = {}
        for bucket, total, count in [*rolled, *raw]:
            old = sums.get(bucket, (0.0, 0.0))
            sums[bucket] = (old[0] + total, old[1] + count)
        line = [math.nan] * buckets
        for bucket, (total, count) in sums.items():
            if 0 <= bucket < buckets and count:
                line[bucket] = total / count
        found[series] = line
    return found


def raw_points(store: Store, series: int, start: float, end: float) -> list[tuple[float, float]]:
    """(at, value) of one series' raw samples in [start, end], oldest first (a sample taken
    at ``end``, now, included)."""
    return [
        (r[0], r[1])
        for r in store._conn.execute(
            "SELECT at, value FROM all_samples WHERE series = ? AND at >= ? AND at <= ? ORDER BY at",
            (series, start, end),
        )
    ]


def bands(store: Store, series: int, start: float, end: float, buckets: int) -> list[Band]:
    """One series' rollups in [start, end) folded into at most ``buckets`` buckets."""
    width = max(60, math.ceil((end - start) / buckets / 60) * 60)
    rows = store._conn.execute(
        "SELECT CAST((minute * 60 - ?) / ? AS INTEGER) AS b, min(min), sum(sum) / sum(count), "
        "max(max) FROM rollups WHERE series = ? AND minute >= ? AND minute < ? "
        "GROUP BY b ORDER BY b",
        (start, width, series, int(start // 60), math.ceil(end / 60)),
    )
    return [Band(at=start + r[0] * width, low=r[1], mean=r[2], high=r[3]) for r in rows]


def day_trends(store: Store, series: int, start: float, end: float) -> list[DayTrend]:
    """Per UTC day in [start, end): min, mean, p95 (of the minute means) and max, from the
    rollups. The p95 of minute means is what a one-minute rollup can still tell."""
    days: dict[int, list[tuple[int, float, float, float, int]]] = {}
    for minute, low, high, total, count in store._conn.execute(
        "SELECT minute, min, max, sum, count FROM rollups "
        "WHERE series = ? AND minute >= ? AND minute < ? ORDER BY minute",
        (series, int(start // 60), math.ceil(end / 60)),
    ):
        days.setdefault(minute // 1440, []).append((minute, low, high, total, count))
    return [_day(day, rows) for day, rows in sorted(days.items())]


def _day(day: int, rows: Sequence[tuple[int, float, float, float, int]]) -> DayTrend:
    means = sorted(r[3] / r[4] for r in rows if r[4])
    count = sum(r[4] for r in rows)
    return DayTrend(
        day=day * 86400.0,
        low=min(r[1] for r in rows),
        mean=sum(r[3] for r in rows) / count if count else math.nan,
        p95=_percentile(means, 0.95),
        high=max(r[2] for r in rows),
        count=count,
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values (nearest rank); NaN for none."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def transitions_of(
    store: Store, check: str, start: float, end: float
) -> list[tuple[float, str, str, str]]:
    """(at, subject, previous, current) of a check's transitions in [start, end)."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in store._conn.execute(
            'SELECT at, subject, previous, current FROM transitions WHERE "check" = ? '
            "AND at >= ? AND at < ? ORDER BY at",
            (check, start, end),
        )
    ]


def put_rollups(store: Store, rows: Iterable[tuple[int, int, int, float, float, float]]) -> None:
    """Write (series, minute, count, min, max, sum) rollup rows as given: for benches and
    tests that need 30 days of history without 30 days of samples (caller's transaction)."""
    store._conn.executemany(
        "INSERT OR REPLACE INTO rollups (series, minute, count, min, max, sum) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
