"""Supervised components, end to end through ``selfreg run``: restarted when they exit or are
killed, stopped after a crash loop, and stopped with selfreg."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

from tests.engine.test_supervisor_support import alive, kill_marked
from tests.support.selfreg_process import SelfregProcess, selfreg_env

CONFIG = """
[[components]]
name = "flaky"
command = ["python", "-c", "import time; time.sleep(0.5); raise SystemExit(3)", "{marker}"]
restart = "on-failure"
restart_delay = "100ms"

[[components]]
name = "steady"
command = ["python", "-c", "import time; time.sleep(600)", "{marker}"]
"""

CRASHING = """
[[components]]
name = "broken"
command = ["python", "-c", "raise SystemExit(3)", "{marker}"]
restart_delay = "50ms"
crash_loop = {{ exits = 3, window = "1m" }}
"""


def status(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/status", timeout=10) as response:
        return json.loads(response.read())


def components(url: str) -> dict[str, dict]:
    return {c["name"]: c for c in status(url)["components"]}


def wait_for_status(url: str, predicate, timeout: float = 15.0) -> dict[str, dict]:
    """Poll /status every 50 ms until ``predicate(components)`` holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = components(url)
        if predicate(found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"status never matched; last seen: {found}")


def events(db: Path, subject: str) -> list[tuple[str, dict]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT kind, detail FROM events WHERE subject = ? AND kind LIKE 'component.%' "
            "ORDER BY id",
            (subject,),
        ).fetchall()
    return [(kind, json.loads(detail)) for kind, detail in rows]


def marked_pids(marker: str, code: str, expected: list[int], timeout: float = 3.0) -> list[int]:
    """Live processes of this test (by marker) running ``code``, once they equal ``expected``.

    A process's command line shows in /proc a moment after its exec, so this waits (bounded)
    for the table to settle before returning what it sees.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if marker in (argv := p.info["cmdline"] or []) and code in " ".join(argv)
            if alive(p.pid)
        ]
        if sorted(found) == sorted(expected) or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def start(tmp_path: Path, config: str) -> tuple[SelfregProcess, str]:
    marker = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    path = tmp_path / "selfreg.toml"
    path.write_text(config.format(marker=marker))
    return SelfregProcess(path, selfreg_env(tmp_path / "data")), marker


def test_a_component_that_exits_is_restarted_and_all_stop_with_selfreg(tmp_path: Path) -> None:
    selfreg, marker = start(tmp_path, CONFIG)
    try:
        url = selfreg.wait_ready()
        found = wait_for_status(url, lambda c: c["flaky"]["restarts"] >= 2)
        assert found["flaky"]["last_exit_code"] == 3
        steady = found["steady"]
        assert steady["status"] == "running" and steady["restarts"] == 0
        assert steady["instances"][0]["pid"] == steady["pid"] and alive(steady["pid"])
    finally:
        assert selfreg.stop() == 0
        leftovers = kill_marked(marker)
    assert leftovers == 0, "selfreg stop left components running"
    assert not alive(steady["pid"])
    db = tmp_path / "data" / "selfreg.db"
    assert sum(kind == "component.exited" for kind, _ in events(db, "flaky")) >= 2
    with sqlite3.connect(db) as conn:
        stopped = conn.execute("SELECT status FROM components WHERE name = 'steady'").fetchone()[0]
    assert stopped == "stopped"
    assert (tmp_path / "data" / "logs" / "steady.log").exists()


def test_a_killed_component_is_back_with_a_new_pid_and_the_event_is_recorded(
    tmp_path: Path,
) -> None:
    selfreg, marker = start(tmp_path, CONFIG)
    try:
        url = selfreg.wait_ready()
        old = components(url)["steady"]["pid"]
        os.kill(old, signal.SIGKILL)
        found = wait_for_status(url, lambda c: c["steady"]["pid"] not in (None, old), 5)
        new = found["steady"]["pid"]
        assert alive(new) and found["steady"]["restarts"] == 1
        kinds = [kind for kind, _ in events(tmp_path / "data" / "selfreg.db", "steady")]
        assert kinds == ["component.started", "component.exited", "component.started"]
        assert marked_pids(marker, "time.sleep(600)", [new]) == [new]  # no duplicate
    finally:
        assert selfreg.stop() == 0
        kill_marked(marker)


def test_a_crash_loop_stops_the_restarts_and_is_recorded(tmp_path: Path) -> None:
    selfreg, marker = start(tmp_path, CRASHING)
    try:
        url = selfreg.wait_ready()
        found = wait_for_status(url, lambda c: c["broken"]["status"] == "crash-loop")
        time.sleep(0.5)  # were it still restarting, the count would move
        assert components(url)["broken"]["restarts"] == found["broken"]["restarts"] == 2
        kinds = [kind for kind, _ in events(tmp_path / "data" / "selfreg.db", "broken")]
        assert kinds.count("component.exited") == 3 and kinds[-1] == "component.crash_looped"
    finally:
        assert selfreg.stop() == 0
        kill_marked(marker)
