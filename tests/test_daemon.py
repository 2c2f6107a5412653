"""bot.daemon in process: following a starting selfreg's log, refusing a second start, and
stopping through a pidfd.

The "selfreg" being followed or stopped is a real small child process (a python one-liner
that writes the lines a starting selfreg writes, or sleeps with a selfreg-like command line),
so the log, the pid file, the pidfd and the signals are all real; nothing runs ``bot``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pytest

from bot import daemon, pidfile
from bot.config import LoadedConfig, load_settings
from bot.engine.supervisor.processes import Identity, identity_of
from bot.store import components, open_store
from tests.engine.test_supervisor_support import alive, kill_marked
from tests.support.control_standin import ControlStandin

STEPS = (
    "print('selfreg is starting: config x.toml, data folder var', flush=True)\n"
    "print('  ok    Python  3.11.7  (0 ms)', flush=True)\n"
    "print('  skip  Slack token  Slack is off  (0 ms)', flush=True)\n"
)
# the ready line comes after the run process wrote its pid file (its cwd is the data folder)
READY = (
    "import os; open('selfreg.pid', 'w').write(f'{os.getpid()}\\n')\n"
    "print('selfreg is running: 0 checks, status at http://127.0.0.1:1/status', flush=True)\n"
)
# another start's ready line in the shared log: the pid file names some other process
OTHERS_READY = (
    "open('selfreg.pid', 'w').write('1\\n')\n"
    "print('selfreg is running: 0 checks, status at http://127.0.0.1:1/status', flush=True)\n"
)
SLEEP = "import time; time.sleep(60)\n"
# a child that ignores SIGTERM, then says so (so the test knows the handler is in place)
DEAF = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"


class Echoes:
    """click.echo stand-ins collecting what ``start`` and ``stop`` say."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []

    def echo(self, text: str, nl: bool = True) -> None:
        self.out.append(text)

    def echo_err(self, text: str, nl: bool = True) -> None:
        self.err.append(text)


@pytest.fixture
def marker() -> Iterator[str]:
    word = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    yield word
    kill_marked(word)


@pytest.fixture
def config(tmp_path: Path) -> LoadedConfig:
    path = tmp_path / "selfreg.toml"
    path.write_text('[[components]]\nname = "worker"\ncommand = ["sleep", "1"]\n')
    data = tmp_path / "data"
    data.mkdir()
    return load_settings(str(path), {"SELFREG_DATA_DIR": str(data), "SELFREG_WEB_PORT": "0"})


def launch(log: Path, code: str, marker: str) -> tuple[subprocess.Popen[bytes], int]:
    """``code`` as ``start`` launches selfreg: its output appended to the log; the offset."""
    with log.open("ab") as output:
        offset = output.tell()
        child = subprocess.Popen(
            [sys.executable, "-c", code, marker],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=log.parent,
        )
    return child, offset


@contextmanager
def sleeper(code: str, *argv: str) -> Iterator[subprocess.Popen[str]]:
    """A live child that prints "up" once ready, then sleeps; killed at the end."""
    child = subprocess.Popen(
        [sys.executable, "-c", code + "print('up', flush=True)\n" + SLEEP, *argv],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        yield child
    finally:
        child.kill()
        child.wait(5)


# ---- following a start --------------------------------------------------------------------
def test_follow_repeats_the_step_lines_until_the_ready_line(tmp_path: Path, marker: str) -> None:
    log = tmp_path / "selfreg.log"
    log.write_text("an earlier run's line\n")
    child, offset = launch(log, STEPS + READY + SLEEP, marker)
    said = Echoes()
    try:
        code = daemon._follow(child, log, offset, 10, said.echo, said.echo_err, False)
        assert code == 0
        assert child.returncode == 0  # runs on, on its own
        assert said.out == [
            "selfreg is starting: config x.toml, data folder var",
            "  ok    Python  3.11.7  (0 ms)",
            "  skip  Slack token  Slack is off  (0 ms)",
            "selfreg is running: 0 checks, status at http://127.0.0.1:1/status",
        ]
        assert said.err == []
        assert alive(child.pid)
    finally:
        child.kill()
        child.wait(5)


def test_follow_ignores_a_ready_line_that_is_not_its_child_s(tmp_path: Path, marker: str) -> None:
    """Two starts share selfreg.log: the loser must not report the winner's start as its own."""
    log = tmp_path / "selfreg.log"
    child, offset = launch(log, STEPS + OTHERS_READY + "import sys; sys.exit(2)\n", marker)
    said = Echoes()
    code = daemon._follow(child, log, offset, 10, said.echo, said.echo_err, False)
    assert code == 2
    assert said.err == [f"selfreg did not start (exit code 2); its log: {log}"]


def test_a_second_start_while_one_is_starting_is_refused(config: LoadedConfig) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", START_LOCKER, str(config.data_dir / daemon.START_LOCK)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        said = Echoes()
        assert daemon.start(config, None, echo=said.echo, echo_err=said.echo_err) == 2
        assert said.err == [
            f"another `selfreg start` is starting selfreg with data folder {config.data_dir} "
            "right now: `selfreg status` tells when it runs"
        ]
        assert not daemon.log_path(config).exists()  # nothing launched
    finally:
        holder.kill()
        holder.wait(5)


# holds the start lock as a `selfreg start` does while it follows its child (60 s at most)
START_LOCKER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_follow_reports_a_child_that_exits_with_its_last_words(tmp_path: Path, marker: str) -> None:
    log = tmp_path / "selfreg.log"
    failing = (
        STEPS + "import sys\nprint('  FAIL  web port  taken  (0 ms)')\n"
        "sys.stdout.write('no newline at the end'); sys.exit(2)\n"
    )
    child, offset = launch(log, failing, marker)
    said = Echoes()
    code = daemon._follow(child, log, offset, 10, said.echo, said.echo_err, False)
    assert code == 2
    assert said.out[-2:] == ["  FAIL  web port  taken  (0 ms)", "no newline at the end"]
    assert said.err == [f"selfreg did not start (exit code 2); its log: {log}"]


def test_follow_stops_a_start_that_overruns_its_timeout(tmp_path: Path, marker: str) -> None:
    log = tmp_path / "selfreg.log"
    child, offset = launch(log, STEPS + SLEEP, marker)
    said = Echoes()
    code = daemon._follow(child, log, offset, 0.5, said.echo, said.echo_err, False)
    assert code == 2
    assert child.returncode == -signal.SIGTERM  # stopped again, and waited for
    assert said.out[-1] == "  skip  Slack token  Slack is off  (0 ms)"
    assert len(said.err) == 1
    assert said.err[0].startswith("selfreg did not report running within ")
    assert said.err[0].endswith(
        f"stopped it again (raise --timeout if its components start slowly); its log: {log}"
    )


def test_follow_on_a_terminal_paints_the_marks_and_spins_while_quiet(
    tmp_path: Path, marker: str
) -> None:
    log = tmp_path / "selfreg.log"
    quiet_then_ready = STEPS + "import time; time.sleep(0.6)\n" + READY + SLEEP
    child, offset = launch(log, quiet_then_ready, marker)
    said = Echoes()
    try:
        assert daemon._follow(child, log, offset, 10, said.echo, said.echo_err, True) == 0
    finally:
        child.kill()
        child.wait(5)
    painted = [line for line in said.out if "Python" in line or "Slack token" in line]
    assert len(painted) == 2 and all("\x1b[" in line for line in painted)
    assert any("starting ..." in line for line in said.out)  # the spinner, while quiet
    assert "\r\x1b[K" in said.out  # erased before the next line
    assert said.out[-1] == "selfreg is running: 0 checks, status at http://127.0.0.1:1/status"
    assert daemon._painted("no mark here") == "no mark here"


# ---- refusing a second start ---------------------------------------------------------------
def test_start_is_refused_while_the_pid_file_names_a_live_selfreg(config: LoadedConfig) -> None:
    path = pidfile.pid_path(config.data_dir)
    pidfile.claim(path)  # this process: alive, with its identity
    said = Echoes()
    try:
        assert daemon.start(config, None, echo=said.echo, echo_err=said.echo_err) == 2
    finally:
        pidfile.release(path)
    assert len(said.err) == 1
    assert f"selfreg already runs with this data folder (pid {os.getpid()}, up " in said.err[0]
    assert said.out == []
    assert not daemon.log_path(config).exists()  # nothing launched


def test_start_is_refused_while_the_control_socket_answers(config: LoadedConfig) -> None:
    standin = ControlStandin(config.control_socket)
    standin.start()
    said = Echoes()
    try:
        assert daemon.start(config, None, echo=said.echo, echo_err=said.echo_err) == 2
    finally:
        standin.stop()
    assert said.err == [
        f"selfreg already runs with this data folder (control socket {config.control_socket})"
    ]
    assert not daemon.log_path(config).exists()


def test_running_pid_from_the_pid_file_or_the_control_socket(config: LoadedConfig) -> None:
    assert daemon.running_pid(config) is None
    standin = ControlStandin(config.control_socket)
    standin.answers[("GET", "/status")] = (200, {"selfreg": {"pid": 4321}})
    standin.start()
    try:
        assert daemon.running_pid(config) == 4321  # a pid file deleted by hand
    finally:
        standin.stop()
    path = pidfile.pid_path(config.data_dir)
    pidfile.claim(path)
    try:
        assert daemon.running_pid(config) == os.getpid()
    finally:
        pidfile.release(path)


# ---- stop ----------------------------------------------------------------------------------
def test_stop_when_none_runs_says_so_and_removes_a_stale_pid_file(config: LoadedConfig) -> None:
    said = Echoes()
    assert daemon.stop(config, echo=said.echo) == 0
    assert said.out == [f"selfreg is not running (data folder {config.data_dir})."]

    with sleeper("") as gone:
        pid = gone.pid
    path = pidfile.pid_path(config.data_dir)
    path.write_text(f"{pid}\n")
    config.control_socket.write_text("")  # a socket file left by a killed selfreg
    said = Echoes()
    assert daemon.stop(config, echo=said.echo) == 0
    assert said.out == [
        f"Removed the stale pid file {path}: pid {pid} is not a running selfreg.",
        f"selfreg is not running (data folder {config.data_dir}).",
    ]
    assert not path.exists() and not config.control_socket.exists()


def test_stop_sends_sigterm_through_a_pidfd_and_removes_the_pid_file(
    config: LoadedConfig, marker: str
) -> None:
    path = pidfile.pid_path(config.data_dir)
    with sleeper("", "selfreg", marker) as running:
        identity = identity_of(running.pid, running.args)
        assert identity is not None
        path.write_text(f"{identity.pid}\n{json.dumps(asdict(identity))}\n")
        said = Echoes()
        assert daemon.stop(config, echo=said.echo) == 0
        assert running.wait(5) == -signal.SIGTERM
    assert said.out[0] == f"Stopping selfreg (pid {running.pid}) ..."
    assert said.out[1].startswith(f"selfreg (pid {running.pid}) stopped in ")
    assert len(said.out) == 2
    assert not path.exists()


def test_stop_kills_one_that_ignores_sigterm_after_its_timeout(
    config: LoadedConfig, marker: str
) -> None:
    path = pidfile.pid_path(config.data_dir)
    with sleeper(DEAF, "selfreg", marker) as deaf:
        path.write_text(f"{deaf.pid}\n")  # a bare pid: believed, its command line says selfreg
        said = Echoes()
        assert daemon.stop(config, echo=said.echo, timeout=0.3) == 0
        assert deaf.wait(5) == -signal.SIGKILL
    assert len(said.out) == 2 and said.out[0] == f"Stopping selfreg (pid {deaf.pid}) ..."
    # (the timeout reads "within 0 s" below a second: human_duration rounds it down)
    assert said.out[1].startswith(f"selfreg (pid {deaf.pid}) did not stop within ")
    assert said.out[1].endswith(": killed (SIGKILL).")
    assert not path.exists()


def save_instance(config: LoadedConfig, name: str, index: int, identity: Identity | None) -> None:
    store = open_store(config.db_path)
    try:
        with store.transaction():
            fields = asdict(identity) if identity is not None else {}
            components.save_instance(
                store,
                components.InstanceRow(
                    name=name,
                    index=index,
                    pid=fields.get("pid"),
                    start_ticks=fields.get("start_ticks"),
                    boot_id=fields.get("boot_id"),
                    create_time=fields.get("create_time"),
                    argv=tuple(fields["argv"]) if identity is not None else None,
                    status="running",
                ),
            )
    finally:
        store.close()


def test_stop_ends_the_component_processes_a_killed_selfreg_left(
    config: LoadedConfig, marker: str
) -> None:
    assert daemon.stop_leftovers(config) == []  # no store yet
    with (
        sleeper("", marker) as first,
        sleeper("", marker) as second,
        sleeper(DEAF, marker) as gone_already,
    ):
        for index, process in enumerate((first, second)):
            found = identity_of(process.pid, process.args)
            save_instance(config, "worker", index, found)
        dead = identity_of(gone_already.pid, gone_already.args)
        gone_already.kill()
        gone_already.wait(5)
        save_instance(config, "old", 0, dead)  # its process is gone: not touched
        save_instance(config, "never", 0, None)  # never ran
        said = Echoes()
        assert daemon.stop(config, echo=said.echo) == 0
        assert first.wait(5) == -signal.SIGTERM and second.wait(5) == -signal.SIGTERM
    assert said.out == [
        f"Stopped what it left running: worker (pid {first.pid}), worker-1 (pid {second.pid}).",
        f"selfreg is not running (data folder {config.data_dir}).",
    ]
    assert daemon.stop_leftovers(config) == []  # nothing left the second time


def test_a_store_that_cannot_be_read_leaves_nothing_to_stop(config: LoadedConfig) -> None:
    config.db_path.write_text("not a database")
    assert daemon.stop_leftovers(config) == []
