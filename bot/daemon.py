"""``selfreg start`` and ``selfreg stop``: selfreg in the background, found again by its pid file.

``start`` launches ``python -m bot run --detached`` in its own session (a closed terminal
does not reach it) with its output appended to ``<data>/selfreg.log`` (rotated at start and
while it runs: ``bot.runtime.own_log``), then follows that log
and repeats the start-up steps as they come, until the child says "selfreg is running" (exit
0), exits (its start failed: exit 2), or takes longer than ``--timeout`` (it is stopped again:
exit 2). The child writes and removes the pid file itself, as every ``selfreg run`` does.

``stop`` sends SIGTERM (through a pidfd, so a reused pid is never hit) and waits up to its
timeout for the graceful stop (``Runtime.stop``); then SIGKILL. A selfreg killed that way
leaves its components running (they have their own sessions), so ``stop`` then ends every
component process the store still records as running, checked by boot id, pid and start
ticks as the supervisor re-adopts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bot import control, interpreter, messages, pidfile
from bot.cli.terminal import SPINNER_AFTER, SPINNER_FRAMES, paint
from bot.config import LoadedConfig
from bot.engine.supervisor import rows
from bot.engine.supervisor.processes import Identity, still_running
from bot.errors import AlreadyRunning
from bot.runtime import own_log
from bot.store import open_store

START_LOCK = "selfreg.start.lock"
START_TIMEOUT = 120.0
STOP_TIMEOUT = 30.0
KILL_WAIT = 10.0  # after SIGKILL, how long to wait for the process to be gone
FOLLOW_EVERY = 0.05
# searched anywhere in a line: text lines start with the time and level (bot.logline), JSON
# lines carry the words in their "message"
READY_LINE = re.compile(r"\bselfreg is running: ")
STEP_LINE = re.compile(r"(?:^|  startup)  (ok|warn|skip|FAIL)  ")

Echo = Callable[..., None]  # click.echo: (text, nl=True)


def log_path(config: LoadedConfig) -> Path:
    return own_log.log_file(config.data_dir)


def running_pid(config: LoadedConfig) -> int | None:
    """The pid of the live selfreg of this data folder: its pid file, else its control socket."""
    found = pidfile.read(pidfile.pid_path(config.data_dir))
    if pidfile.alive(found):
        assert found is not None
        return pidfile.pid_of(found)
    if control.socket_in_use(config.control_socket):  # a pid file deleted by hand
        with contextlib.suppress(Exception):
            document = asyncio.run(control.ask(config.control_socket, "GET", "/status", 10.0))
            pid = (document or {}).get("selfreg", {}).get("pid")
            return int(pid) if pid else None
    return None


# ---- start ---------------------------------------------------------------------------------
def start(
    config: LoadedConfig,
    config_file: str | None,
    *,
    echo: Echo,
    echo_err: Echo,
    timeout: float = START_TIMEOUT,
    interactive: bool = False,
) -> int:
    """Launch selfreg in the background and follow its start; the exit code."""
    path = pidfile.pid_path(config.data_dir)
    found = pidfile.read(path)
    if pidfile.alive(found):
        assert found is not None
        echo_err(
            messages.already_running(pidfile.pid_of(found), pidfile.started_at(found), str(path))
        )
        return 2
    if control.socket_in_use(config.control_socket):
        echo_err(str(AlreadyRunning(str(config.control_socket))))
        return 2
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with _start_lock(config.data_dir) as alone:
        if not alone:
            echo_err(messages.start_in_progress(str(config.data_dir)))
            return 2
        return _launch(config, config_file, echo, echo_err, timeout, interactive)


@contextlib.contextmanager
def _start_lock(data_dir: Path) -> Iterator[bool]:
    """One ``selfreg start`` at a time per data folder (a kernel flock, held while it follows
    its child): a second one at the same instant is refused instead of following the first
    one's lines in the shared log and reporting its success as its own."""
    fd = pidfile.try_lock(data_dir / START_LOCK)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)


def _launch(
    config: LoadedConfig,
    config_file: str | None,
    echo: Echo,
    echo_err: Echo,
    timeout: float,
    interactive: bool,
) -> int:
    log = log_path(config)
    own_log.rotate(log)
    command = ["-m", "bot", "--data-dir", str(config.data_dir), "run", "--detached"]
    argv = [sys.executable, *interpreter.daemon_flags(), *command]
    if config_file:
        argv += ["--config", config_file]
    with log.open("ab") as output:
        offset = output.tell()
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    echo(messages.starting_in_background(str(log)))
    return _follow(child, log, offset, timeout, echo, echo_err, interactive)


class _Progress:
    """The "starting ..." spinner shown while the child prints nothing (terminals only)."""

    def __init__(self, echo: Echo, interactive: bool) -> None:
        self.echo = echo
        self.interactive = interactive
        self.frames = 0
        self.last_line = time.monotonic()

    def line(self) -> None:
        """A line is about to be echoed: the progress line goes first."""
        self.last_line = time.monotonic()
        self.erase()

    def erase(self) -> None:
        if self.frames:
            self.echo("\r\x1b[K", nl=False)
            self.frames = 0

    def tick(self) -> None:
        if self.interactive and time.monotonic() - self.last_line > SPINNER_AFTER:
            frame = SPINNER_FRAMES[self.frames % len(SPINNER_FRAMES)]
            self.echo(f"\r  {frame}  starting ...", nl=False)
            self.frames += 1


def _follow(
    child: subprocess.Popen[bytes],
    log: Path,
    offset: int,
    timeout: float,
    echo: Echo,
    echo_err: Echo,
    interactive: bool,
) -> int:
    """Repeat the child's new log lines until it runs, exits or overruns ``timeout``."""
    deadline = time.monotonic() + timeout
    pending = b""
    progress = _Progress(echo, interactive)
    with log.open("rb") as source:
        source.seek(offset)
        while True:
            exited = child.poll() is not None  # read after this, so no last line is missed
            pending += source.read()
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                progress.line()
                echo(_painted(line) if interactive else line)
                if READY_LINE.search(line) and _runs_as(log.parent, child.pid):
                    child.returncode = 0  # it runs on, on its own: no "still running" warning
                    return 0
            if exited:
                if pending:
                    echo(pending.decode(errors="replace"))
                echo_err(messages.start_exited(child.returncode, str(log)))
                return 2
            if time.monotonic() > deadline:
                progress.erase()
                _stop_child(child)
                echo_err(messages.start_timed_out(timeout, str(log)))
                return 2
            progress.tick()
            time.sleep(FOLLOW_EVERY)


def _runs_as(data_dir: Path, pid: int) -> bool:
    """The data folder's pid file names ``pid``: the ready line is this child's own."""
    found = pidfile.read(pidfile.pid_path(data_dir))
    return found is not None and pidfile.pid_of(found) == pid


def _painted(line: str) -> str:
    match = STEP_LINE.search(line)
    if match is None:
        return line
    word = match.group(1)
    return line[: match.start(1)] + paint(word, True) + line[match.end(1) :]


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    """A start that overran: SIGTERM interrupts its steps and stops what had started."""
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(KILL_WAIT)


# ---- stop ----------------------------------------------------------------------------------
def stop(config: LoadedConfig, *, echo: Echo, timeout: float = STOP_TIMEOUT) -> int:
    """Stop the selfreg of this data folder; exit 0 when none runs any more (or none ran)."""
    path = pidfile.pid_path(config.data_dir)
    found = pidfile.read(path)
    pid = running_pid(config)
    if pid is None:
        if found is not None:
            _remove_pid_file(path, pidfile.pid_of(found))
            echo(messages.stale_pid_file(str(path), pidfile.pid_of(found)))
        if not control.socket_in_use(config.control_socket):
            control.remove_socket(config.control_socket)  # left by a killed selfreg
        leftovers = stop_leftovers(config)
        if leftovers:
            echo(messages.leftovers_stopped(leftovers))
        echo(messages.not_running(str(config.data_dir)))
        return 0
    echo(messages.stopping(pid))
    began = time.monotonic()
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        pidfd = None
    try:
        if pidfd is not None and not _signal_and_wait(pidfd, signal.SIGTERM, timeout):
            echo(messages.killed_after(pid, timeout))
            if not _signal_and_wait(pidfd, signal.SIGKILL, KILL_WAIT):
                echo(messages.not_stopped(pid))
                return 2
        else:
            echo(messages.stopped_after(pid, time.monotonic() - began))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    _remove_pid_file(path, pid)
    if not control.socket_in_use(config.control_socket):
        control.remove_socket(config.control_socket)
    leftovers = stop_leftovers(config)
    if leftovers:
        echo(messages.leftovers_stopped(leftovers))
    return 0


def _signal_and_wait(pidfd: int, signum: int, timeout: float) -> bool:
    """Send ``signum`` through the pidfd; True once the process has ended within ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        signal.pidfd_send_signal(pidfd, signum)
    readable, _, _ = select.select([pidfd], [], [], timeout)  # readable: the process ended
    return bool(readable)


def _remove_pid_file(path: Path, pid: int) -> None:
    found = pidfile.read(path)
    if found is not None and pidfile.pid_of(found) == pid:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def stop_leftovers(config: LoadedConfig) -> list[str]:
    """End the component processes a killed selfreg left running; their labels.

    Read from the store (boot id, pid, start ticks), so only those exact processes are hit.
    """
    if not config.db_path.exists():
        return []
    try:
        store = open_store(config.db_path, readonly=True)
    except Exception:  # no store, or not readable: nothing recorded to clean up
        return []
    try:
        stored = rows.load(store)
    except Exception:
        return []
    finally:
        store.close()
    timeouts = {c.name: c.stop_timeout for c in config.settings.components}
    stopped = []
    for row in stored:
        if row.identity is None or not still_running(row.identity):
            continue
        if _end(row.identity, timeouts.get(row.name, STOP_TIMEOUT)):
            label = row.name if row.index == 0 else f"{row.name}-{row.index}"
            stopped.append(f"{label} (pid {row.identity.pid})")
    return stopped


def _end(identity: Identity, timeout: float) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; through a pidfd checked to be ``identity``."""
    try:
        pidfd = os.pidfd_open(identity.pid)
    except ProcessLookupError:
        return False
    try:
        if not still_running(identity):  # checked after opening: the pidfd names this one
            return False
        if not _signal_and_wait(pidfd, signal.SIGTERM, timeout):
            _signal_and_wait(pidfd, signal.SIGKILL, KILL_WAIT)
        return True
    finally:
        os.close(pidfd)
