"""Supervised components: started with selfreg, restarted when they exit, stopped with it."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
from pathlib import Path

import psutil

from tests.support.selfreg_process import SelfregProcess, selfreg_env

CONFIG = """
[[components]]
name = "flaky"
command = ["python", "-c", "import time; time.sleep(0.5); raise SystemExit(3)"]
restart = "on-failure"
restart_delay = "100ms"

[[components]]
name = "steady"
command = ["python", "-c", "import time; time.sleep(600)"]
"""


def status(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/status", timeout=10) as response:
        return json.loads(response.read())


def test_a_component_that_exits_is_restarted_and_all_stop_with_selfreg(tmp_path: Path) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG)
    selfreg = SelfregProcess(config, selfreg_env(tmp_path / "data"))
    try:
        url = selfreg.wait_ready()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            components = {c["name"]: c for c in status(url)["components"]}
            if components["flaky"]["restarts"] >= 2:
                break
            time.sleep(0.2)
        assert components["flaky"]["restarts"] >= 2
        assert components["flaky"]["last_exit_code"] == 3
        steady = components["steady"]
        assert steady["status"] == "running" and steady["restarts"] == 0
        assert psutil.pid_exists(steady["pid"])
    finally:
        assert selfreg.stop() == 0
    assert (
        not psutil.pid_exists(steady["pid"])
        or psutil.Process(steady["pid"]).status() == psutil.STATUS_ZOMBIE
    )
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        exits = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'component.exited' AND subject = 'flaky'"
        ).fetchone()[0]
        stopped = conn.execute("SELECT status FROM components WHERE name = 'steady'").fetchone()[0]
    assert exits >= 2 and stopped == "stopped"
    assert (tmp_path / "data" / "logs" / "steady.log").exists()
