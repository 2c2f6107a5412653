"""``selfreg start | stop | restart | status`` as an operator runs them: the real CLI, real processes.

Each test's component command and config path carry a marker unique to the test, so cleanup
finds every process the test made (selfreg in the background, its components) by command
line, never by a guessed pid.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from bot.store import open_store
from tests.engine.test_supervisor_support import alive, kill_marked
from tests.scenarios.test_components import marked_pids
from tests.support.selfreg_process import run_cli, selfreg_env
from tests.support.servers import free_port, tcp_listener

SLEEPER = "import time; time.sleep(600)"
DEAF_SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"

CONFIG = """
[[components]]
name = "worker"
command = {command}
restart = "always"
stop_timeout = "{stop_timeout}"

[[checks]]
kind = "tcp"
name = "db"
port = {port}
interval = "1s"
"""

WEB_CHECK = """
[[checks]]
kind = "tcp"
name = "web"
port = {port}
interval = "2s"
"""


@dataclass
class Setup:
    config: Path
    env: dict[str, str]
    data: Path
    marker: str

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--config", str(self.config), env=self.env, timeout=timeout)

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def worker(self) -> dict[str, Any]:
        return {c["name"]: c for c in self.status()["components"]}["worker"]

    def daemon_pid(self) -> int:
        return int((self.data / "selfreg.pid").read_text().splitlines()[0])


def write_setup(tmp_path: Path, code: str = SLEEPER, stop_timeout: str = "10s") -> Setup:
    marker = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    folder = tmp_path / marker  # the config path carries the marker: so does selfreg's argv
    folder.mkdir()
    config = folder / "selfreg.toml"
    command = json.dumps(["python", "-c", code, marker])
    config.write_text(CONFIG.format(command=command, stop_timeout=stop_timeout, port=free_port()))
    data = tmp_path / "data"
    return Setup(config=config, env=selfreg_env(data), data=data, marker=marker)


@pytest.fixture
def make_setup(tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    made: list[Setup] = []

    def make(**kwargs: str) -> Setup:
        setup = write_setup(tmp_path, **kwargs)
        made.append(setup)
        return setup

    yield make
    for setup in made:
        setup.cli("stop", "--timeout", "5s")
        kill_marked(str(setup.config))
        kill_marked(setup.marker)


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def selfregs_of(setup: Setup, expected: list[int]) -> list[int]:
    """Live selfreg processes started with this test's config (once they equal ``expected``)."""
    return marked_pids(str(setup.config), "bot", expected)


def test_start_reports_each_step_then_status_shows_a_restart_and_stop_ends_everything(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    done = setup.cli("start")
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("Python", "data folder", "single instance", "executables", "web port"):
        assert f"  ok    {step}" in done.stdout
    assert "  skip  Slack token" in done.stdout
    assert "  ok    component worker    running, pid" in done.stdout
    assert "  ok    first health check" in done.stdout
    assert "selfreg is running:" in done.stdout
    assert f"`selfreg stop --data-dir {setup.data}` stops it" in done.stdout, "not ./var"
    daemon = setup.daemon_pid()
    assert alive(daemon)
    assert "-OO" in psutil.Process(daemon).cmdline(), "start launches it under -OO"

    worker = setup.worker()
    assert worker["status"] == "running" and worker["restarts"] == 0 and alive(worker["pid"])
    text = setup.cli("status").stdout
    assert f"selfreg status from the running instance: pid {daemon}" in text
    assert f"worker     running  {worker['pid']}" in text
    assert "Checks: 1 critical" in text and "Open incidents:" in text
    assert "Pending approvals: 0" in text

    os.kill(worker["pid"], signal.SIGKILL)
    restarted = wait_until(lambda: (w := setup.worker())["restarts"] == 1 and w["pid"] and w)
    assert restarted["pid"] != worker["pid"] and restarted["last_exit_code"] == -9

    # a good config applies live: one check more, the component untouched
    good = setup.config.read_text() + WEB_CHECK.format(port=free_port())
    setup.config.write_text(good)
    wait_until(lambda: {c["check"] for c in setup.status()["checks"]} >= {"db", "web"}, 20)
    log = setup.data / "selfreg.log"
    wait_until(lambda: "config reloaded: + check web" in log.read_text(), 10)
    done = setup.cli("reload")  # through the control socket, like SIGHUP: nothing new now
    assert done.returncode == 0 and "config reloaded: no change." in done.stdout, done.stderr
    # a bad one is refused with the config-check errors and the old one runs on
    setup.config.write_text(good.replace('interval = "1s"', 'interval = "soon"'))
    wait_until(lambda: "config reload refused" in log.read_text(), 20)
    assert '"db".interval = "soon": expected a duration' in log.read_text()
    assert alive(daemon)
    setup.config.write_text(good)  # (the CLI itself refuses to read the bad file)
    assert {c["check"] for c in setup.status()["checks"]} >= {"db", "web"}
    assert setup.worker()["pid"] == restarted["pid"]

    done = setup.cli("stop")
    assert done.returncode == 0, done.stderr
    assert f"selfreg (pid {daemon}) stopped in" in done.stdout
    assert not (setup.data / "selfreg.pid").exists()
    assert not (setup.data / "selfreg.sock").exists()
    assert not alive(daemon) and not alive(restarted["pid"])
    assert marked_pids(setup.marker, SLEEPER, []) == []
    assert setup.cli("status", "--json").returncode == 0  # read from the store now
    assert setup.status()["running"] is False


def test_a_missing_component_executable_fails_at_prerequisites_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    setup = write_setup(tmp_path)
    setup.config.write_text(
        setup.config.read_text().replace('["python", "-c"', '["no-such-program-7f3a", "-c"')
    )
    try:
        done = setup.cli("start")
        assert done.returncode == 2, done.stdout
        assert "  FAIL  executables" in done.stdout
        assert '"no-such-program-7f3a" is not found on PATH' in done.stdout + done.stderr
        assert "nothing is left running" in done.stdout + done.stderr
        assert "store and servers" not in done.stdout  # it stopped at the failed step
        assert not (setup.data / "selfreg.pid").exists()
        assert not (setup.data / "selfreg.sock").exists()
        assert selfregs_of(setup, []) == []
    finally:
        kill_marked(str(setup.config))


def test_kill_9_of_the_daemon_then_start_replaces_the_pid_file_and_adopts_the_component(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    assert setup.cli("start").returncode == 0
    daemon, worker = setup.daemon_pid(), setup.worker()["pid"]
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: not alive(daemon), timeout=10)
    assert (setup.data / "selfreg.pid").exists()  # left behind: stale now

    done = setup.cli("start")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"replaced a stale one of pid {daemon}" in done.stdout
    assert f"adopted pid {worker}" in done.stdout
    assert setup.daemon_pid() != daemon
    assert setup.worker()["pid"] == worker
    assert marked_pids(setup.marker, SLEEPER, [worker]) == [worker]  # no duplicate


def test_start_is_refused_while_one_runs_and_restart_replaces_it(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    assert setup.cli("start").returncode == 0
    daemon = setup.daemon_pid()
    done = setup.cli("start")
    assert done.returncode == 2
    assert f"selfreg already runs with this data folder (pid {daemon}" in done.stderr
    assert selfregs_of(setup, [daemon]) == [daemon]

    done = setup.cli("restart")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"selfreg (pid {daemon}) stopped in" in done.stdout
    assert "selfreg is running:" in done.stdout
    assert setup.daemon_pid() != daemon and not alive(daemon)
    # the second start found a store: the backup step archived it before anything wrote
    assert re.search(r"ok\s+backup\s+Backed up the store to \S+selfreg-\d{8}T\d{6}Z", done.stdout)
    assert len(list((setup.data / "backups").glob("selfreg-*.tar.gz"))) == 1  # refused: none


def test_stop_when_none_runs_removes_a_stale_pid_file_and_exits_0(tmp_path: Path) -> None:
    setup = write_setup(tmp_path)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    setup.data.mkdir(parents=True)
    (setup.data / "selfreg.pid").write_text(f"{dead_pid}\n")
    done = setup.cli("stop")
    assert done.returncode == 0
    assert f"Removed the stale pid file {setup.data / 'selfreg.pid'}: pid {dead_pid}" in done.stdout
    assert "selfreg is not running" in done.stdout
    assert not (setup.data / "selfreg.pid").exists()
    done = setup.cli("stop")
    assert done.returncode == 0 and "selfreg is not running" in done.stdout


def test_stop_kills_after_its_timeout_and_ends_the_components_left_behind(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup(code=DEAF_SLEEPER, stop_timeout="3s")
    assert setup.cli("start").returncode == 0
    daemon, worker = setup.daemon_pid(), setup.worker()["pid"]
    done = setup.cli("stop", "--timeout", "1s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"selfreg (pid {daemon}) did not stop within 1 s: killed (SIGKILL)." in done.stdout
    assert f"Stopped what it left running: worker (pid {worker})." in done.stdout
    assert not alive(daemon) and not alive(worker)
    assert not (setup.data / "selfreg.pid").exists()


def test_a_start_that_overruns_its_timeout_is_stopped_again_with_its_component(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    never_ready = f'health = {{ tcp = "127.0.0.1:{free_port()}", timeout = "60s" }}\n'
    text = setup.config.read_text().replace("[[checks]]", never_ready + "\n[[checks]]", 1)
    setup.config.write_text(text)
    began = time.monotonic()
    done = setup.cli("start", "--timeout", "10s")  # long enough to reach the component step
    assert done.returncode == 2, done.stdout + done.stderr
    assert time.monotonic() - began < 50
    assert "did not report running within 10 s: stopped it again" in done.stderr
    assert not (setup.data / "selfreg.pid").exists()
    assert not (setup.data / "selfreg.sock").exists()
    assert selfregs_of(setup, []) == []
    assert marked_pids(setup.marker, SLEEPER, []) == []
    log = (setup.data / "selfreg.log").read_text()
    assert "FAIL  component worker" in log and "interrupted" in log


def test_run_in_the_foreground_stops_at_a_taken_port_and_leaves_nothing(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    with tcp_listener() as listener:
        env = dict(setup.env, SELFREG_WEB_PORT=str(listener.getsockname()[1]))
        done = run_cli("run", "--config", str(setup.config), env=env, timeout=60)
    assert done.returncode == 2
    assert re.search(r"  FAIL  web port +the web server cannot listen on 127\.0\.0\.1", done.stdout)
    assert "selfreg did not start: web port failed" in done.stderr
    assert "store and servers" not in done.stdout
    assert not (setup.data / "selfreg.pid").exists()
    assert not (setup.data / "selfreg.sock").exists()
    assert marked_pids(setup.marker, SLEEPER, []) == []


def test_run_becomes_python_OO_in_the_same_process_unless_told_not_to(
    make_setup: Callable[..., Setup],
) -> None:
    """``selfreg run`` re-executes itself under ``-OO`` (bot.interpreter): the step ``Python``
    says so and the pid file holds the pid that was started; SELFREG_PYTHON_OPTIMIZE=0 keeps
    the interpreter as started. A taken web port ends each start after those steps."""
    setup = make_setup()
    with tcp_listener() as listener:
        port = str(listener.getsockname()[1])
        for level, expected in (("2", "-OO, docstrings left out"), ("0", "docstrings kept")):
            env = dict(setup.env, SELFREG_WEB_PORT=port, SELFREG_PYTHON_OPTIMIZE=level)
            command = [sys.executable, "-m", "bot", "run", "--config", str(setup.config)]
            child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            output, _ = child.communicate(timeout=60)
            assert child.returncode == 2, output
            assert re.search(rf"  ok    Python .*; {re.escape(expected)}", output), output
            assert f"selfreg.pid holds pid {child.pid}" in output, "the same process"


def test_status_lists_pending_approvals_and_the_last_backup_from_the_store(tmp_path: Path) -> None:
    setup = write_setup(tmp_path)
    store = open_store(setup.data / "selfreg.db")  # the real schema, as selfreg creates it
    now = time.time()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO proposals (id, incident_id, action, state, mode, risk, requested_by, "
            "created_at, expires_at) VALUES (7, 3, 'restart-worker', 'proposed', 'approve', "
            "'medium', 'selfreg', ?, ?)",
            (now, now + 3600),
        )
    store.close()
    backups = setup.data / "backups"
    backups.mkdir()
    (backups / "selfreg-20261129.db").write_bytes(b"x")

    done = setup.cli("status")
    assert done.returncode == 0, done.stderr
    assert "selfreg status from the store (selfreg is not running)" in done.stdout
    assert "Pending approvals: 1" in done.stdout
    assert "#7  restart-worker for incident #3 (medium risk)" in done.stdout
    assert f"{backups / 'selfreg-20261129.db'}." in done.stdout
    assert "\x1b[" not in done.stdout  # not a terminal: no colours
    document = setup.status()
    assert document["pending_approvals"][0]["action"] == "restart-worker"
    assert document["last_backup"]["path"] == str(backups / "selfreg-20261129.db")


def test_stop_after_a_kill_9_removes_the_pid_file_and_ends_the_orphaned_component(
    make_setup: Callable[..., Setup],
) -> None:
    setup = make_setup()
    assert setup.cli("start").returncode == 0
    daemon, worker = setup.daemon_pid(), setup.worker()["pid"]
    os.kill(daemon, signal.SIGKILL)
    wait_until(lambda: not alive(daemon), timeout=10)
    assert alive(worker)  # components outlive a killed selfreg

    done = setup.cli("stop")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Removed the stale pid file {setup.data / 'selfreg.pid'}: pid {daemon}" in done.stdout
    assert f"Stopped what it left running: worker (pid {worker})." in done.stdout
    assert "selfreg is not running" in done.stdout
    assert not alive(worker) and not (setup.data / "selfreg.pid").exists()
    assert not (setup.data / "selfreg.sock").exists()
