"""Metric samples: one row of three numbers per value a run observed, keyed by a series id.

A series is a (check, subject, metric) in the ``series`` table (``Store.series_id`` creates
and caches ids); rollups and pruning are in ``retention.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.db import Store
from checks.base import Observation


def add_samples(store: Store, observations: Iterable[Observation]) -> None:
    """One sample per value of each observation (caller's transaction)."""
    samples = []
    for observation in observations:
        for metric, value in observation.values.items():
            series = store.series_id(observation.check, observation.subject, metric)
            samples.append((series, observation.at, float(value)))
    store._conn.executemany("INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", samples)


def find_series(store: Store, check: str, subject: str, metric: str) -> int | None:
    """The id of a series if it exists (reads never create one)."""
    row = store._conn.execute(
        'SELECT id FROM series WHERE "check" = ? AND subject = ? AND metric = ?',
        (check, subject, metric),
    ).fetchone()
    return None if row is None else int(row[0])


def bucket_averages(
    store: Store, check: str, subject: str, metric: str, start: float, width: float
) -> list[float]:
    """The average of a series in buckets of ``width`` seconds from ``start`` (empty buckets
    are left out), oldest first: the sparkline of an incident message."""
    series = find_series(store, check, subject, metric)
    if series is None:
        return []
    buckets = store._conn.execute(
        "SELECT CAST((at - ?) / ? AS INTEGER) AS bucket, avg(value) FROM samples "
        "WHERE series = ? AND at >= ? GROUP BY bucket ORDER BY bucket",
        (start, width, series, start),
    ).fetchall()
    return [float(b[1]) for b in buckets]


def count_samples(store: Store) -> int:
    """How many raw samples the store holds (benches and diagnostics)."""
    return int(store._conn.execute("SELECT count(*) FROM samples").fetchone()[0])
