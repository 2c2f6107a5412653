"""selfreg announces its start and its stop, and after ``kill -9`` the next run says it
recovered from a crash, naming the component it re-adopted (with its pid) and the incident
it resumes."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

from tests.engine.test_supervisor_support import alive, kill_marked
from tests.scenarios.test_components import components
from tests.support.selfreg_process import SelfregProcess, selfreg_env
from tests.support.servers import free_port

CONFIG = """
[[checks]]
kind = "tcp"
name = "db"
port = {closed}
interval = "1s"

[[components]]
name = "api"
command = ["python", "-c", "import time; time.sleep(600)", "{marker}"]
"""

NOTICE = r"\d\d:\d\d:\d\d\s+INFO\s+selfreg\s+"


def test_start_stop_and_recovery_after_kill_9_are_announced(tmp_path: Path) -> None:
    marker = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    config = tmp_path / "selfreg.toml"
    config.write_text(CONFIG.format(marker=marker, closed=free_port()))
    env = selfreg_env(tmp_path / "data")
    try:
        first = SelfregProcess(config, env)
        try:
            url = first.wait_ready()
            first.wait_for(NOTICE + "selfreg started: 1 check, 1 component$", timeout=10)
            pid = components(url)["api"]["pid"]
            first.wait_for(r"CRITICAL\s+db\s+Opened", timeout=15)
        finally:
            first.kill9()
        assert alive(pid)
        assert "recovered from a crash" not in "".join(first.output)

        second = SelfregProcess(config, env)
        try:
            second.wait_ready()
            second.wait_for(NOTICE + "selfreg started: 1 check, 1 component$", timeout=10)
            line = second.wait_for(NOTICE + "selfreg recovered from a crash: .*", timeout=10)
            assert f"re-adopted component api (pid {pid})" in line.group(0)
            assert re.search(r"resumed 1 open incident \(#\d+ db\)", line.group(0))
        finally:
            assert second.stop() == 0
        second.wait_for(NOTICE + r"selfreg stopped after \d+ s; its components stop with it\.")

        third = SelfregProcess(config, env)  # a clean stop before: no crash to report
        try:
            third.wait_ready()
            third.wait_for(NOTICE + "selfreg started", timeout=10)
        finally:
            assert third.stop() == 0
        assert "recovered from a crash" not in "".join(third.output)
    finally:
        kill_marked(marker)
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        posted = [
            text
            for (text,) in conn.execute(
                "SELECT json_extract(detail, '$.text') FROM events WHERE kind = 'notice.posted'"
            )
        ]
    assert sum(t.startswith("selfreg started") for t in posted) == 3
    assert sum(t.startswith("selfreg recovered") for t in posted) == 1
    assert sum(t.startswith("selfreg stopped") for t in posted) == 2
