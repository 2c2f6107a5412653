"""``kill -9`` of selfreg loses no committed row, and the next start resumes cleanly."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, selfreg_env
from tests.support.servers import free_port

CONFIG = """
[[checks]]
kind = "tcp"
name = "db"
port = {port}
interval = "200ms"

[[checks]]
kind = "selfreg"
name = "selfreg"
interval = "200ms"
"""


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        found = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("events", "transitions", "outbox", "state")
        }
        found["samples"] = conn.execute("SELECT count(*) FROM all_samples").fetchone()[0]
        found["db_transitions"] = conn.execute(
            "SELECT count(*) FROM transitions WHERE \"check\" = 'db'"
        ).fetchone()[0]
        return found


def test_kill_9_loses_no_committed_row_and_the_next_start_resumes(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG.format(port=free_port()))
    env = selfreg_env(tmp_path / "data")
    db = tmp_path / "data" / "selfreg.db"

    first = SelfregProcess(config, env)
    try:
        first.wait_ready()
        first.wait_for(r"CRITICAL\s+db\s+Opened")
        seen = counts(db)
        deadline = time.monotonic() + 10
        while counts(db)["samples"] < seen["samples"] + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        seen = counts(db)  # every row committed so far ...
    finally:
        first.kill9()  # ... while it keeps writing, killed without warning

    after_kill = counts(db)
    assert all(after_kill[table] >= seen[table] for table in seen), (seen, after_kill)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert after_kill["db_transitions"] == 1

    second = SelfregProcess(config, env)
    try:
        second.wait_ready()  # the stale control socket did not stop it
        deadline = time.monotonic() + 10
        while counts(db)["samples"] <= after_kill["samples"] + 10 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        assert second.stop() == 0
    final = counts(db)
    assert final["samples"] > after_kill["samples"]
    # the check is still failing: the restart resumed its state instead of alerting again
    assert final["db_transitions"] == 1
    assert "db  Opened" not in "".join(second.output)
