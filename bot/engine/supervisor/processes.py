"""Component processes: starting one, recognising one after a restart, waiting for its end.

Two kinds of handle share one small interface (``pid``, ``wait()``, ``send()``, ``running()``):

- ``ChildProcess``: a process this selfreg started. ``wait()`` awaits the asyncio
  subprocess, so the loop hears of the exit the moment the kernel reports it; the exit code
  is known.
- ``AdoptedProcess``: a process an earlier selfreg started, found alive at start (same boot,
  pid and start time: see ``Identity``). It is not our child, so ``wait()`` watches a pidfd
  (``os.pidfd_open`` + ``loop.add_reader``: readable when the process ends) and the exit
  code is unknown (``None``). Signals go through the pidfd too, so a reused pid is never hit.
  Where pidfd_open is unavailable, it falls back to reading /proc once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from bot import messages

log = logging.getLogger(__name__)

POLL_EVERY = 1.0  # only when pidfd_open is unavailable


class ProcessHandle(Protocol):
    """A running component process, whoever started it."""

    pid: int

    async def wait(self) -> int | None:
        """Return when the process has ended: its exit code, or None when unknowable."""
        ...

    def send(self, signum: int) -> None:
        """Send a signal; does nothing if the process is already gone."""
        ...

    def running(self) -> bool: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    """What tells a process apart from any later one that gets the same pid.

    ``boot_id`` + ``pid`` + ``start_ticks`` (clock ticks from boot to the process's start,
    from /proc) name exactly one process ever: unlike psutil's ``create_time`` they do not
    move when the wall clock is stepped. The command line is deliberately not compared with
    /proc: a script's shebang (``#!/venv/bin/python``) and programs that retitle themselves
    (gunicorn, postgres) show a different one, and a missed match would start a duplicate.
    ``argv`` is what selfreg started, compared with the configured command instead.
    """

    pid: int
    start_ticks: int
    boot_id: str
    create_time: float  # wall-clock start, for people (psutil's create_time)
    argv: tuple[str, ...]


def resolve_command(command: list[str]) -> list[str]:
    """A first word ``python`` means this interpreter, so examples work in any virtualenv."""
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return list(command)


def child_env(
    parent: Mapping[str, str], extra: Mapping[str, str], hidden: set[str], instance: int
) -> dict[str, str]:
    """The environment of a component: selfreg's own minus its own settings and secrets.

    Slack tokens and selfreg's secrets must not leak into every supervised program; a
    component that needs one gets it through its ``env`` table.
    """
    env = {k: v for k, v in parent.items() if k not in hidden}
    env.update(extra)
    env["SELFREG_INSTANCE"] = str(instance)
    return env


class ChildProcess:
    """A component process started by this selfreg."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid = process.pid

    async def wait(self) -> int | None:
        return await self.process.wait()

    def send(self, signum: int) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    def running(self) -> bool:
        return self.process.returncode is None


async def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> ChildProcess:
    """Start a component in its own session, its output appended to ``log_path``.

    Its own session: a Ctrl-C in selfreg's terminal does not reach it, and it survives a
    ``kill -9`` of selfreg. Output goes straight to the file (O_APPEND), not through a pipe:
    a pipe to a dead selfreg would kill the component with SIGPIPE.
    """
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=fd,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.close(fd)
    return ChildProcess(process)


def boot_id() -> str:
    """This boot's random id: a stored identity from an earlier boot never matches."""
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start ticks) from /proc/<pid>/stat; None when the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name in (...) may hold spaces
    return fields[0], int(fields[19])


def identity_of(pid: int, argv: list[str]) -> Identity | None:
    """The identity to store for a process just started with ``argv`` (None if gone)."""
    stat = _stat(pid)
    try:
        create_time = psutil.Process(pid).create_time()
    except psutil.Error:
        return None
    if stat is None:
        return None
    return Identity(
        pid=pid, start_ticks=stat[1], boot_id=boot_id(), create_time=create_time, argv=tuple(argv)
    )


def still_running(identity: Identity) -> bool:
    """True when ``identity``'s process is alive: same boot, pid and start; not a zombie."""
    if identity.boot_id != boot_id():
        return False
    stat = _stat(identity.pid)
    return stat is not None and stat[0] not in "ZX" and stat[1] == identity.start_ticks


class AdoptedProcess:
    """A component process an earlier selfreg started; watched through a pidfd."""

    def __init__(self, identity: Identity, pidfd: int | None) -> None:
        self.identity = identity
        self.pid = identity.pid
        self._pidfd = pidfd
        self._ended: asyncio.Future[None] | None = None
        self._poller: asyncio.Task[None] | None = None

    @classmethod
    def adopt(cls, identity: Identity) -> AdoptedProcess | None:
        """Watch ``identity`` if it still runs; None when it is gone or someone else's."""
        pidfd = None
        with contextlib.suppress(OSError):
            pidfd = os.pidfd_open(identity.pid)
        if not still_running(identity):  # checked after opening: the pidfd names this one
            if pidfd is not None:
                os.close(pidfd)
            return None
        if pidfd is None:
            log.warning(messages.pid_polled(identity.pid))
        return cls(identity, pidfd)

    async def wait(self) -> int | None:
        await asyncio.shield(self._watch())
        return None

    def _watch(self) -> asyncio.Future[None]:
        """One future per process, resolved when it ends, however many wait for it."""
        if self._ended is None:
            loop = asyncio.get_running_loop()
            self._ended = loop.create_future()
            if self._pidfd is not None:
                loop.add_reader(self._pidfd, self._on_end)
            else:
                self._poller = loop.create_task(self._poll(), name=f"poll-pid:{self.pid}")
        return self._ended

    def _on_end(self) -> None:
        self.close()
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    async def _poll(self) -> None:
        while still_running(self.identity):
            await asyncio.sleep(POLL_EVERY)
        self._on_end()

    def send(self, signum: int) -> None:
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signum)
            elif still_running(self.identity):
                os.kill(self.pid, signum)

    def running(self) -> bool:
        return self._ended is None or not self._ended.done()

    def close(self) -> None:
        """Stop watching and release the pidfd."""
        if self._pidfd is not None:
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None


async def terminate(handle: ProcessHandle, timeout: float) -> int | None:
    """SIGTERM, then SIGKILL after ``timeout``; returns the exit code (None if unknowable)."""
    handle.send(signal.SIGTERM)
    try:
        return await asyncio.wait_for(handle.wait(), timeout)
    except TimeoutError:
        log.warning(messages.sigkill_after(handle.pid, timeout))
        handle.send(signal.SIGKILL)
        return await handle.wait()
