"""Retention: raw samples roll up into minutes, and everything is pruned past its window."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlite_utils import Database

from bot.store import open_store
from bot.store.migrations import MIGRATIONS
from bot.store.retention import prune, read_rollups, roll_up, rollup_window, save_rollups
from bot.store.samples import series_id
from tests.support.db import execute, executemany, rows, scalar

T0 = 1_700_000_040.0  # a whole minute


def test_samples_roll_up_per_finished_minute_and_rerunning_changes_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    series = series_id(store, "api", "", "latency")
    samples = [
        (series, T0 + offset, value)
        for offset, value in ((0, 1.0), (20, 3.0), (50, 2.0), (61, 9.0))
    ]
    executemany(store, "INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", samples)
    roll_up(store, T0 + 70)
    roll_up(store, T0 + 70)
    rollups = rows(store, "SELECT minute, count, min, max, sum FROM rollups")
    assert [tuple(r) for r in rollups] == [(int(T0 // 60), 3, 1.0, 3.0, 6.0)]
    store.close()


async def test_the_rollup_scan_runs_in_a_thread_while_the_loops_connection_writes(
    tmp_path: Path,
) -> None:
    """The job's way (``Housekeeping.rollup``): the scan on a reader of its own in a worker
    thread, even while the loop's connection holds a write transaction; then one write."""
    store = open_store(tmp_path / "selfreg.db")
    series = series_id(store, "api", "", "latency")
    samples = [(series, T0 + offset, float(offset)) for offset in range(0, 120, 5)]
    executemany(store, "INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", samples)
    since, until = rollup_window(store, T0 + 130)
    with store.transaction() as conn:  # the loop writing a round meanwhile
        conn.execute(
            "INSERT INTO samples (series, at, value) VALUES (?, ?, 1.0)", (series, T0 + 125)
        )
        read = await asyncio.to_thread(read_rollups, store.path, since, until)
    assert save_rollups(store, read) == 2
    rollups = rows(store, "SELECT minute, count, min, max, sum FROM rollups ORDER BY minute")
    minute = int(T0 // 60)
    assert [tuple(r) for r in rollups] == [
        (minute, 12, 0.0, 55.0, float(sum(range(0, 60, 5)))),
        (minute + 1, 12, 60.0, 115.0, float(sum(range(60, 120, 5)))),
    ]
    store.close()


def test_prune_removes_only_what_is_past_its_window(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    series = series_id(store, "api", "", "latency")
    day = 86400.0
    executemany(
        store,
        "INSERT INTO samples (series, at, value) VALUES (?, ?, ?)",
        [(series, T0 - 2 * day, 1.0), (series, T0 - 60, 2.0)],
    )
    execute(
        store,
        "INSERT INTO rollups (series, minute, count, min, max, sum) VALUES (?, ?, 1, 1, 1, 1)",
        (series, int((T0 - 40 * day) // 60)),
    )
    store.record_event("old", "", T0 - 40 * day)
    removed = prune(store, T0, samples_for=day, rollups_for=30 * day, events_for=30 * day)
    assert removed == {"samples": 1, "rollups": 1, "events": 1, "outbox": 0, "sync_runs": 0}
    assert scalar(store, "SELECT count(*) FROM samples") == 1
    assert scalar(store, "SELECT kind FROM events") == "store.pruned"
    store.close()


def test_migrations_apply_once_and_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.db"
    open_store(path).close()
    store = open_store(path)
    applied = rows(store, "SELECT name FROM _sqlite_migrations")
    assert [r[0] for r in applied] == [m.name for m in MIGRATIONS.pending(Database(memory=True))]
    assert scalar(store, "PRAGMA journal_mode") == "wal"
    store.close()
