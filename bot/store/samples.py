"""Metric samples: one row of three numbers per value a run observed, keyed by a series id.

A series is a (check, subject, metric) in the ``series`` table: ``series_id`` creates one on
first use, ``find_series`` only looks, both through the store's cache of known ids. The
readers at the end give the predictors the history they are fitted and warmed on. Rollups
and pruning are in ``retention.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.store.db import Store
from checks.base import Observation


def add_samples(store: Store, observations: Iterable[Observation]) -> None:
    """One sample per value of each observation (caller's transaction)."""
    samples = []
    for observation in observations:
        for metric, value in observation.values.items():
            series = series_id(store, observation.check, observation.subject, metric)
            samples.append((series, observation.at, float(value)))
    store._conn.executemany("INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", samples)


def find_series(store: Store, check: str, subject: str, metric: str) -> int | None:
    """The id of a series if it exists (reads never create one); cached once found."""
    key = (check, subject, metric)
    if (found := store._series.get(key)) is not None:
        return found
    row = store._conn.execute(
        'SELECT id FROM series WHERE "check" = ? AND subject = ? AND metric = ?', key
    ).fetchone()
    if row is None:
        return None
    store._series[key] = int(row[0])
    return store._series[key]


def series_id(store: Store, check: str, subject: str, metric: str) -> int:
    """The id of a metric series, created on first use and cached."""
    found = find_series(store, check, subject, metric)
    if found is not None:
        return found
    row = store._conn.execute(
        'INSERT INTO series ("check", subject, metric) VALUES (?, ?, ?) RETURNING id',
        (check, subject, metric),
    ).fetchone()
    store._series[(check, subject, metric)] = int(row[0])
    return int(row[0])


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


# ---- the history the predictors learn from ------------------------------------------------
def check_samples(
    store: Store, check: str, since: float = 0.0
) -> Iterator[tuple[str, str, float, float]]:
    """A check's stored samples since ``since`` as (subject, metric, at, value), oldest first."""
    return store._conn.execute(
        "SELECT s.subject, s.metric, m.at, m.value FROM samples m JOIN series s ON m.series = s.id "
        'WHERE s."check" = ? AND m.at >= ? ORDER BY m.at',
        (check, since),
    )


def samples_since(store: Store, since: float) -> Iterator[tuple[str, str, str, float, float]]:
    """Every stored sample since ``since`` as (check, subject, metric, at, value), oldest first."""
    return store._conn.execute(
        'SELECT s."check", s.subject, s.metric, m.at, m.value FROM samples m '
        "JOIN series s ON m.series = s.id WHERE m.at >= ? ORDER BY m.at",
        (since,),
    )


def check_series(store: Store, check: str) -> list[tuple[str, str]]:
    """The (subject, metric) pairs a check has stored samples under."""
    return [
        (r[0], r[1])
        for r in store._conn.execute(
            'SELECT subject, metric FROM series WHERE "check" = ?', (check,)
        )
    ]
