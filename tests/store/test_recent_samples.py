"""Recent samples: a run's samples land in ``samples_recent`` and are filed into the indexed
``samples`` a batch at a time; every reader sees both tables, before and after filing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.runtime.jobs import Housekeeping
from bot.store import history, open_store, samples
from bot.store.db import Store
from bot.store.retention import prune, roll_up
from checks.base import Observation, Status
from tests.support.clock import FakeClock
from tests.support.db import scalar

T0 = 1_700_000_040.0  # a whole minute


def observe(store: Store, at: float, value: float) -> None:
    observation = Observation(
        check="api", subject="", status=Status.OK, summary="", values={"latency": value}, at=at
    )
    with store.transaction():
        samples.add_samples(store, [observation])


def reads(store: Store) -> tuple[object, ...]:
    """What each reader of the samples answers."""
    series = samples.find_series(store, "api", "", "latency")
    assert series is not None
    return (
        samples.count_samples(store),
        list(samples.check_samples(store, "api", 0.0)),
        list(samples.samples_since(store, T0 + 10)),
        samples.bucket_averages(store, "api", "", "latency", T0, 30.0),
        history.raw_points(store, series, T0, T0 + 120),
    )


def test_a_runs_samples_are_appended_to_the_recent_table_only(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    observe(store, T0, 1.0)
    assert scalar(store, "SELECT count(*) FROM samples_recent") == 1
    assert scalar(store, "SELECT count(*) FROM samples") == 0
    store.close()


def test_every_reader_answers_the_same_before_and_after_filing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    for offset, value in ((0, 1.0), (20, 3.0), (50, 2.0), (61, 9.0)):
        observe(store, T0 + offset, value)
    before = reads(store)
    assert before[0] == 4
    assert before[3] == [2.0, 2.0, 9.0]  # buckets of 30 s: (1 + 3) / 2, 2, 9
    assert samples.file_recent(store) == 4
    assert scalar(store, "SELECT count(*) FROM samples_recent") == 0
    assert scalar(store, "SELECT count(*) FROM samples") == 4
    assert reads(store) == before
    observe(store, T0 + 62, 5.0)  # one filed, one recent: still one history
    series = samples.series_id(store, "api", "", "latency")
    assert history.raw_points(store, series, T0 + 60, T0 + 70) == [(T0 + 61, 9.0), (T0 + 62, 5.0)]
    store.close()


def test_filing_moves_the_oldest_rows_a_bounded_batch_at_a_time(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    for i in range(5):
        observe(store, T0 + i, float(i))
    assert samples.file_recent(store, limit=3) == 3
    filed = [r[0] for r in store._conn.execute("SELECT value FROM samples ORDER BY at")]
    assert filed == [0.0, 1.0, 2.0]
    assert samples.file_recent(store, limit=3) == 2
    assert samples.file_recent(store, limit=3) == 0
    assert samples.count_samples(store) == 5
    store.close()


def test_filing_is_one_transaction_and_a_failed_one_keeps_every_sample(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    for i in range(3):
        observe(store, T0 + i, float(i))
    store._conn.execute(  # the insert into the indexed table fails half-way through
        "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.value = 2.0 "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    with pytest.raises(Exception, match="refused"):
        samples.file_recent(store)
    assert scalar(store, "SELECT count(*) FROM samples") == 0
    assert scalar(store, "SELECT count(*) FROM samples_recent") == 3
    store.close()


def test_rollups_and_pruning_cover_the_recent_samples(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    day = 86400.0
    observe(store, T0 - 2 * day, 7.0)  # never filed, past the retention window
    observe(store, T0, 1.0)
    observe(store, T0 + 20, 3.0)
    roll_up(store, T0 + 70)
    assert scalar(store, "SELECT sum FROM rollups WHERE minute = ?", (int(T0 // 60),)) == 4.0
    removed = prune(store, T0 + 70, samples_for=day, rollups_for=30 * day, events_for=30 * day)
    assert removed["samples"] == 1
    assert samples.count_samples(store) == 2
    store.close()


def test_filing_is_due_five_minutes_after_the_oldest_or_at_a_full_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path / "selfreg.db")
    assert not samples.filing_due(store, T0)  # nothing waits
    observe(store, T0, 1.0)
    observe(store, T0 + 5, 1.0)
    assert not samples.filing_due(store, T0 + samples.FILE_AFTER - 1)
    assert samples.filing_due(store, T0 + samples.FILE_AFTER)
    monkeypatch.setattr(samples, "FILE_BATCH", 2)
    assert samples.filing_due(store, T0 + 10)  # a full batch waits, however young
    store.close()


async def test_the_job_files_a_backlog_in_batches_until_none_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Housekeeping.file_samples``: once due, a full batch means more may wait, so it goes
    on (a turn of the loop between batches) until a batch comes back short."""
    store = open_store(tmp_path / "selfreg.db")
    for i in range(7):
        observe(store, T0 + i, float(i))
    housekeeping = SimpleNamespace(store=store, clock=FakeClock(T0 + 60))
    await Housekeeping.file_samples(housekeeping)  # type: ignore[arg-type]
    assert scalar(store, "SELECT count(*) FROM samples") == 0  # not due: a minute old
    monkeypatch.setattr(samples, "FILE_BATCH", 3)
    await Housekeeping.file_samples(housekeeping)  # type: ignore[arg-type]
    assert scalar(store, "SELECT count(*) FROM samples_recent") == 0
    assert scalar(store, "SELECT count(*) FROM samples") == 7
    store.close()
