"""``selfreg history CHECK --range 7d [--json]``: a check's trend per day from the rollups."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.store import open_store
from bot.store.history import put_rollups
from bot.store.samples import series_id
from tests.support.control_standin import TCP_CHECK, invoke, write_config


def seed_rollups(data_dir: Path, now: float) -> None:
    """Three days of db latency rollups: minute values 1.0, 2.0, 3.0 repeating."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir / "selfreg.db")
    with store.transaction():
        series = series_id(store, "db", "", "connect_time")
        last = int(now // 60)
        rows = [
            (series, m, 1, 1.0 + m % 3, 1.0 + m % 3, 1.0 + m % 3)
            for m in range(last - 3 * 1440, last)
        ]
        put_rollups(store, rows)
    store.close()


def test_history_of_a_check_prints_its_days_and_as_json(tmp_path: Path, data_dir: Path) -> None:
    now = time.time()
    seed_rollups(data_dir, now)
    cfg = str(write_config(tmp_path, TCP_CHECK.format(name="db", port=1)))
    result = invoke(data_dir, "history", "db", "--range", "7d", "-c", cfg)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("db: the last 7d, per UTC day")
    assert "connect_time" in result.stdout and "incidents: 0" in result.stdout
    found = json.loads(
        invoke(data_dir, "history", "db", "--range", "7d", "--json", "-c", cfg).stdout
    )
    days = found["metrics"]["connect_time"]
    assert len(days) in (3, 4)  # three days of minutes cross three or four UTC days
    assert min(d["min"] for d in days) == 1.0 and max(d["max"] for d in days) == 3.0
    full = [d for d in days if 1.99 < d["mean"] < 2.01]
    assert full, "a whole day of 1, 2, 3 averages 2"
    assert found["range"] == "7d" and len(found["availability"]) == 8
