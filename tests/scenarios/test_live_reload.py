"""Live config reload through the real ``selfreg run``: a changed file, a bad file, SIGHUP.

Only what changed is touched: the untouched component keeps its pid, the changed one is
restarted, a removed check leaves the status and its open incident is resolved with a note.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from tests.engine.test_supervisor_support import kill_marked
from tests.scenarios.test_components import components, status, wait_for_status
from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port

SLEEP = "import time; time.sleep(600)"

BEFORE = """
[[checks]]
kind = "tcp"
name = "old-api"
port = {closed}
interval = "1s"

[[checks]]
kind = "tcp"
name = "keep"
port = {closed}
interval = "2s"

[[components]]
name = "api"
command = ["python", "-c", "{sleep}", "{marker}", "v1"]

[[components]]
name = "steady"
command = ["python", "-c", "{sleep}", "{marker}"]
"""

AFTER = """
[[checks]]
kind = "tcp"
name = "keep"
port = {closed}
interval = "2s"

[[checks]]
kind = "tcp"
name = "disk-data"
port = {closed}
interval = "3s"

[[components]]
name = "api"
command = ["python", "-c", "{sleep}", "{marker}", "v2"]

[[components]]
name = "steady"
command = ["python", "-c", "{sleep}", "{marker}"]
"""

NOTICE = "config reloaded: + check disk-data, − check old-api, ~ component api (command)"


@pytest.fixture
def marker() -> str:
    mark = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    yield mark
    kill_marked(mark)


def write(path: Path, template: str, marker: str, closed: int) -> None:
    path.write_text(template.format(marker=marker, closed=closed, sleep=SLEEP))


def checks_in(url: str) -> set[str]:
    return {c["check"] for c in status(url)["checks"]}


def wait_for_checks(url: str, wanted: set[str], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := checks_in(url)) != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
    assert seen == wanted


def test_a_changed_file_is_applied_without_disturbing_the_rest(tmp_path, marker) -> None:
    closed = free_port()
    config = tmp_path / "selfreg.toml"
    write(config, BEFORE, marker, closed)
    selfreg = SelfregProcess(config, selfreg_env(tmp_path / "data"))
    try:
        url = selfreg.wait_ready()
        selfreg.wait_for(r"CRITICAL\s+old-api\s+Opened", timeout=15)
        wait_for_checks(url, {"old-api", "keep"})
        before = wait_for_status(url, lambda c: c["api"]["pid"] and c["steady"]["pid"])
        time.sleep(0.05)  # a new modification time even on a coarse clock

        write(config, AFTER, marker, closed)
        selfreg.wait_for(r"INFO\s+selfreg\s+" + re.escape(NOTICE), timeout=15)

        after = components(url)
        assert after["steady"]["pid"] == before["steady"]["pid"]
        assert after["api"]["pid"] not in (None, before["api"]["pid"])
        wait_for_checks(url, {"keep", "disk-data"})
    finally:
        assert selfreg.stop() == 0
    output = "".join(selfreg.output)
    assert "old-api  Resolved: check old-api was removed from the config." in output
    assert len(re.findall(r"CRITICAL\s+keep\s+Opened", output)) == 1  # its state carried on
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        states = dict(conn.execute('SELECT "check", state FROM incidents'))
        reloads = conn.execute(
            "SELECT detail FROM events WHERE kind = 'config.reloaded' AND subject = 'config'"
        ).fetchall()
    assert states["old-api"] == "resolved" and states["keep"] != "resolved"
    assert len(reloads) == 1 and '"by": "file"' in reloads[0][0]


def test_a_bad_file_is_refused_with_the_config_check_errors_and_the_old_one_runs_on(
    tmp_path, marker
) -> None:
    closed = free_port()
    config = tmp_path / "selfreg.toml"
    write(config, BEFORE, marker, closed)
    env = selfreg_env(tmp_path / "data")
    selfreg = SelfregProcess(config, env)
    try:
        url = selfreg.wait_ready()
        pids = wait_for_status(url, lambda c: c["api"]["pid"] and c["steady"]["pid"])
        wait_for_checks(url, {"old-api", "keep"})
        bad = config.read_text().replace('interval = "2s"', 'interval = "soon"')
        config.write_text(bad)
        checked = run_cli("config", "check", str(config), env=env)
        assert checked.returncode == 2
        problems = [line for line in checked.stderr.splitlines() if "interval" in line]
        assert problems
        selfreg.wait_for(r"INFO\s+selfreg\s+config reload refused \(1 problem\)", timeout=15)
        for line in problems:
            selfreg.wait_for(re.escape(line), timeout=2)
        time.sleep(0.5)
        assert checks_in(url) == {"old-api", "keep"}
        after = components(url)
        assert [after[n]["pid"] for n in ("api", "steady")] == [
            pids[n]["pid"] for n in ("api", "steady")
        ]
    finally:
        assert selfreg.stop() == 0
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        refused = conn.execute(
            "SELECT count(*) FROM events WHERE kind = 'config.reload_refused'"
        ).fetchone()[0]
    assert refused == 1  # the unchanged bad file is not read again and again


def test_sighup_reloads_and_a_reload_without_change_says_so(tmp_path, marker) -> None:
    closed = free_port()
    config = tmp_path / "selfreg.toml"
    watchless = "[reload]\nwatch = false\n" + BEFORE
    write(config, watchless, marker, closed)
    selfreg = SelfregProcess(config, selfreg_env(tmp_path / "data"))
    try:
        url = selfreg.wait_ready()
        wait_for_status(url, lambda c: c["api"]["pid"] and c["steady"]["pid"])
        selfreg.proc.send_signal(signal.SIGHUP)
        selfreg.wait_for(r"INFO\s+selfreg\s+config reloaded: no change\.", timeout=10)

        write(config, "[reload]\nwatch = false\n" + AFTER, marker, closed)
        time.sleep(3)  # the watcher is off: nothing happens until the signal
        assert "config reloaded: +" not in "".join(selfreg.output)
        selfreg.proc.send_signal(signal.SIGHUP)
        selfreg.wait_for(r"INFO\s+selfreg\s+" + re.escape(NOTICE), timeout=15)
        wait_for_checks(url, {"keep", "disk-data"})
    finally:
        assert selfreg.stop() == 0


def test_a_change_of_the_selfreg_env_overlay_is_reloaded_too(tmp_path, marker) -> None:
    closed = free_port()
    config = tmp_path / "selfreg.toml"
    write(config, BEFORE, marker, closed)
    overlay = tmp_path / "selfreg.prod.toml"
    overlay.write_text('[alerts]\ncooldown = "11m"\n')
    selfreg = SelfregProcess(config, selfreg_env(tmp_path / "data", SELFREG_ENV="prod"))
    try:
        url = selfreg.wait_ready()
        wait_for_status(url, lambda c: c["api"]["pid"] and c["steady"]["pid"])
        overlay.write_text('[alerts]\ncooldown = "12m"\n\n[store]\npath = "other.db"\n')
        selfreg.wait_for(
            r"INFO\s+selfreg\s+config reloaded: ~ alerts\.cooldown; needs a restart: store\.path$",
            timeout=15,
        )
    finally:
        assert selfreg.stop() == 0


LOOPING = """
[[components]]
name = "flappy"
command = ["python", "-c", "{code}", "{marker}"]
restart = "always"
restart_delay = "50ms"
crash_loop = {{ exits = 3, window = "1m" }}
"""


def test_fixing_a_crash_looping_component_in_the_config_answers_its_incident(
    tmp_path, marker
) -> None:
    config = tmp_path / "selfreg.toml"
    config.write_text(LOOPING.format(code="raise SystemExit(3)", marker=marker))
    selfreg = SelfregProcess(config, selfreg_env(tmp_path / "data"))
    try:
        url = selfreg.wait_ready()
        selfreg.wait_for(r"component:flappy\s+Opened", timeout=20)
        time.sleep(0.05)  # a new modification time even on a coarse clock
        config.write_text(LOOPING.format(code=SLEEP, marker=marker))
        selfreg.wait_for(
            r"component:flappy\s+Component flappy was restarted with its changed "
            r"config \(live reload\)\.",
            timeout=15,
        )
        running = wait_for_status(url, lambda c: c["flappy"]["pid"])
        assert running["flappy"]["status"] == "running"
    finally:
        assert selfreg.stop() == 0
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        [(state,)] = conn.execute(
            "SELECT state FROM incidents WHERE \"check\" = 'component:flappy'"
        )
    assert state == "resolved"
