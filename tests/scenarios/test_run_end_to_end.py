"""``selfreg run`` as an operator runs it: web endpoints, the CLI against it, a clean stop."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port, tcp_listener

CONFIG = """
[[checks]]
kind = "tcp"
name = "open-port"
port = {open_port}
interval = "1s"

[[checks]]
kind = "tcp"
name = "closed-port"
port = {closed_port}
interval = "1s"

[[checks]]
kind = "logfile"
name = "app-log"
paths = ["{log}"]
interval = "1h"
patterns = [{{ regex = "ERROR", severity = "warning" }}]
"""


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[SelfregProcess, Path, dict[str, str]]]:
    log = tmp_path / "app.log"
    log.write_text("booting\n")
    with tcp_listener() as listener:
        config = tmp_path / "selfreg.toml"
        config.write_text(
            CONFIG.format(open_port=listener.getsockname()[1], closed_port=free_port(), log=log)
        )
        env = selfreg_env(tmp_path / "data")
        selfreg = SelfregProcess(config, env)
        try:
            selfreg.wait_ready()
            yield selfreg, config, env
        finally:
            selfreg.stop()


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_it_prints_a_transition_and_serves_health_status_and_metrics(running) -> None:
    selfreg, _, _ = running
    line = selfreg.wait_for(r"CRITICAL\s+closed-port\s+Opened: cannot connect").group(0)
    assert line
    status, body = get(f"{selfreg.url}/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok" and health["store"] and health["scheduler"]
    status, body = get(f"{selfreg.url}/status")
    document = json.loads(body)
    by_check = {c["check"]: c for c in document["checks"]}
    assert by_check["open-port"]["status"] == "ok"
    assert by_check["closed-port"]["status"] == "critical"
    assert "Connection refused" in by_check["closed-port"]["summary"]
    assert [f["check"] for f in document["failing"]] == ["closed-port"]
    status, body = get(f"{selfreg.url}/metrics")
    text = body.decode()
    assert status == 200
    assert 'selfreg_check_status{check="closed-port",subject=""} 2.0' in text
    assert 'selfreg_check_value{check="open-port",metric="connect_time",subject=""}' in text


def test_status_and_health_ask_the_running_instance(running) -> None:
    selfreg, config, env = running
    selfreg.wait_for("closed-port  Opened")
    done = run_cli("status", "--json", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["running"] is True
    done = run_cli("status", "--config", str(config), env=env)
    assert "from the running instance" in done.stdout and "1 failing: closed-port" in done.stdout
    done = run_cli("health", "--config", str(config), env=env)
    assert done.returncode == 2
    assert re.search(r"CRIT +closed-port +cannot connect", done.stdout)
    assert re.search(r"OK +open-port +connected", done.stdout)


def test_a_health_run_never_advances_log_offsets(running, tmp_path: Path) -> None:
    selfreg, config, env = running
    db = tmp_path / "data" / "selfreg.db"

    def offsets() -> str:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT value FROM check_state WHERE key = 'files'").fetchone()
        return row[0] if row else ""

    wait_until(lambda: offsets() != "")  # the scheduled run at start (then hourly)
    before = offsets()
    with (tmp_path / "app.log").open("a") as handle:
        handle.write("ERROR one\n")
    for _ in range(2):
        done = run_cli("check", "run", "app-log", "--config", str(config), env=env)
        assert done.returncode == 1
        assert re.search(
            r"WARN +app-log +1 matching line in the last 5m .*, last: ERROR one", done.stdout
        )
    done = run_cli("health", "--config", str(config), env=env)
    assert re.search(r"WARN +app-log +1 matching line", done.stdout)
    assert offsets() == before
    assert "app-log  Opened" not in "".join(selfreg.output), "a dry run opened no incident"


def test_an_unknown_check_name_is_refused_with_the_known_names(running) -> None:
    _, config, env = running
    done = run_cli("check", "run", "nope", "--config", str(config), env=env)
    assert done.returncode == 64, "a usage error, not a critical result (2)"
    assert (
        'no check is named "nope"; configured checks: app-log, closed-port, open-port'
        in done.stderr
    )


def test_a_second_instance_on_the_same_data_folder_is_refused(running) -> None:
    _, config, env = running
    done = run_cli("run", "--config", str(config), env=env)
    assert done.returncode == 2
    assert "selfreg already runs with this data folder" in done.stderr


def test_sigterm_stops_it_cleanly_and_removes_the_socket(running, tmp_path: Path) -> None:
    selfreg, _, _ = running
    assert (tmp_path / "data" / "selfreg.sock").exists()
    assert selfreg.stop() == 0
    assert "selfreg stopped." in "".join(selfreg.output)
    assert not (tmp_path / "data" / "selfreg.sock").exists()
    with sqlite3.connect(tmp_path / "data" / "selfreg.db") as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds[0] == "selfreg.started" and kinds[-1] == "selfreg.stopped"
