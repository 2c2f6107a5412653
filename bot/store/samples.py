"""Metric samples: one row of three numbers per value a run observed, keyed by a series id.

A series is a (check, subject, metric) in the ``series`` table: ``series_id`` creates one on
first use, ``find_series`` only looks, both through the store's cache of known ids.

Where a sample is kept: a run's samples are appended to ``samples_recent``, which has no
index; ``file_recent`` moves them into ``samples``, indexed by (series, at) and by at, a few
minutes' worth at a time (the ``housekeeping:file_samples`` job, once ``filing_due``).
Written straight into ``samples``, each round's samples landed at the end of each of its
series in the index, one page of it per series (a hundred or more), and every commit wrote
each such page to the WAL again; filed five minutes at a time, each page is written once for
those minutes, and a round writes a page or two (docs/benchmarks.md, "Recent samples"). Both
tables commit with the run, so a crash loses no sample either way. Every reader reads the
view ``all_samples`` (both tables): the SQLite planner pushes a reader's conditions into each
side, so ``samples`` is searched by its index and only the few minutes of ``samples_recent``
are scanned. The readers at the end give the predictors the history they are fitted and
warmed on. Rollups and pruning are in ``retention.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.store.db import Store
from checks.base import Observation

FILE_AFTER = 300.0
"""Recent samples are filed once the oldest is this old (seconds): five minutes of rounds
touch each page of the index once."""
FILE_BATCH = 20_000
"""Samples filed in one transaction at most (about 40 ms of the loop); as many waiting are
filed at once, whatever their age, so the unindexed table a reader scans stays small."""


def add_samples(store: Store, observations: Iterable[Observation]) -> None:
    """One sample per value of each observation (caller's transaction)."""
    samples = []
    for observation in observations:
        for metric, value in observation.values.items():
            series = series_id(store, observation.check, observation.subject, metric)
            samples.append((series, observation.at, float(value)))
    store._conn.executemany(
        "INSERT INTO samples_recent (series, at, value) VALUES (?, ?, ?)", samples
    )


def filing_due(store: Store, now: float) -> bool:
    """Whether the recent samples are due to be filed: the oldest is ``FILE_AFTER`` old, or
    ``FILE_BATCH`` are waiting (both read off the rowid's B-tree, not a scan)."""
    first, last = store._conn.execute(
        "SELECT min(rowid), max(rowid) FROM samples_recent"
    ).fetchone()
    if first is None:
        return False
    if last - first + 1 >= FILE_BATCH:
        return True
    oldest = store._conn.execute("SELECT at FROM samples_recent WHERE rowid = ?", (first,))
    return bool(oldest.fetchone()[0] <= now - FILE_AFTER)


def file_recent(store: Store, limit: int = FILE_BATCH) -> int:
    """Move the oldest ``limit`` recent samples into ``samples``, in series order, in one
    transaction; returns how many moved (``limit``: more may be waiting). Bounded, so that a
    backlog (a store that was written by a selfreg that never filed) is filed in steps that
    each keep the loop waiting for a few tens of milliseconds at most."""
    with store.transaction() as conn:
        last = conn.execute(
            "SELECT max(rowid) FROM (SELECT rowid FROM samples_recent ORDER BY rowid LIMIT ?)",
            (limit,),
        ).fetchone()[0]
        if last is None:
            return 0
        conn.execute(
            "INSERT INTO samples (series, at, value) SELECT series, at, value "
            "FROM samples_recent WHERE rowid <= ? ORDER BY series, at",
            (last,),
        )
        return int(conn.execute("DELETE FROM samples_recent WHERE rowid <= ?", (last,)).rowcount)


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
        "SELECT CAST((at - ?) / ? AS INTEGER) AS bucket, avg(value) FROM all_samples "
        "WHERE series = ? AND at >= ? GROUP BY bucket ORDER BY bucket",
        (start, width, series, start),
    ).fetchall()
    return [float(b[1]) for b in buckets]


def count_samples(store: Store) -> int:
    """How many raw samples the store holds, filed and recent (benches and diagnostics)."""
    return int(store._conn.execute("SELECT count(*) FROM all_samples").fetchone()[0])


# ---- the history the predictors learn from ------------------------------------------------
def check_samples(
    store: Store, check: str, since: float = 0.0
) -> Iterator[tuple[str, str, float, float]]:
    """A check's stored samples since ``since`` as (subject, metric, at, value), oldest first."""
    return store._conn.execute(
        "SELECT s.subject, s.metric, m.at, m.value FROM all_samples m "
        "JOIN series s ON m.series = s.id "
        'WHERE s."check" = ? AND m.at >= ? ORDER BY m.at',
        (check, since),
    )


def samples_since(store: Store, since: float) -> Iterator[tuple[str, str, str, float, float]]:
    """Every stored sample since ``since`` as (check, subject, metric, at, value), oldest first."""
    return store._conn.execute(
        'SELECT s."check", s.subject, s.metric, m.at, m.value FROM all_samples m '
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
