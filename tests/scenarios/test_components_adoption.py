"""``kill -9`` of selfreg leaves its components running; the next selfreg adopts them.

No duplicate is started: the component keeps its pid, and when the adopted process later
dies, the new selfreg (watching it through a pidfd) restarts it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import uuid
from pathlib import Path

from tests.engine.test_supervisor_support import alive, kill_marked
from tests.scenarios.test_components import components, marked_pids, wait_for_status
from tests.support.selfreg_process import SelfregProcess, selfreg_env

CONFIG = """
[[components]]
name = "api"
command = ["python", "-c", "import time; time.sleep(600)", "{marker}"]
restart = "always"
"""


def test_after_kill_9_the_next_selfreg_adopts_the_component_instead_of_a_duplicate(
    tmp_path: Path,
) -> None:
    marker = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG.format(marker=marker))
    env = selfreg_env(tmp_path / "data")
    try:
        first = SelfregProcess(config, env)
        try:
            pid = components(first.wait_ready())["api"]["pid"]
        finally:
            first.kill9()
        assert alive(pid), "the component died with selfreg"

        second = SelfregProcess(config, env)
        try:
            url = second.wait_ready()
            api = components(url)["api"]
            assert api["pid"] == pid and api["status"] == "running"
            assert marked_pids(marker, "time.sleep(600)", [pid]) == [pid]  # no duplicate

            os.kill(pid, signal.SIGKILL)
            found = wait_for_status(url, lambda c: c["api"]["pid"] not in (None, pid), 5)
            new = found["api"]["pid"]
            assert alive(new) and marked_pids(marker, "time.sleep(600)", [new]) == [new]
        finally:
            assert second.stop() == 0
        assert not alive(new)
    finally:
        kill_marked(marker)
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        kinds = [
            (kind, json.loads(detail).get("pid"))
            for kind, detail in conn.execute(
                "SELECT kind, detail FROM events WHERE subject = 'api' ORDER BY id"
            )
        ]
    assert kinds == [
        ("component.started", pid),
        ("component.adopted", pid),
        ("component.exited", pid),
        ("component.started", new),
        ("component.stopped", new),
    ]
