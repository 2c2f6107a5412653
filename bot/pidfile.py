"""The pid file in the data folder: which process is *the* selfreg of this folder.

Written by every ``selfreg run`` (foreground or started by ``selfreg start``) once it knows it
is alone, removed at its stop. A pid alone is not proof: after a ``kill -9`` or a reboot the
number may belong to another program. So the file holds, after the pid on its first line
(what ``kill $(head -1 selfreg.pid)`` and process managers read), the identity the supervisor
uses for components: boot id, pid and start ticks (see ``processes.Identity``). A file whose
process is gone, from another boot, or whose pid now names another process is stale.

The lock is a kernel lock, not the file: ``flock`` on ``selfreg.lock`` beside it, held for
the life of the process (the kernel drops it on any exit, ``kill -9`` included, and the
descriptor is not inherited by components). Whoever holds the lock writes the pid file; a
pid file found by the lock holder is stale unless it still names a live selfreg (one started
by hand without the lock, or written by hand), so two selfregs started at the same moment
cannot both believe they are alone. The lock file itself is never removed: removing it would
let a third process lock a new file while the second still holds the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

from bot import __version__, messages
from bot.engine.supervisor.processes import Identity, identity_of, still_running
from bot.errors import AlreadyStarted

PID_FILE = "selfreg.pid"
LOCK_FILE = "selfreg.lock"

_held: dict[Path, int] = {}  # pid file -> the open, flock-ed lock file descriptor


def pid_path(data_dir: Path) -> Path:
    return data_dir / PID_FILE


def own_identity() -> Identity | None:
    """This process's identity, as the pid file records it."""
    return identity_of(os.getpid(), list(sys.argv))


def read(path: Path) -> Identity | int | None:
    """The identity in ``path``; a bare pid for a file written by hand; None if none/garbled."""
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None
    lines = text.splitlines()
    try:
        pid = int(lines[0].strip())
    except (IndexError, ValueError):
        return None
    if len(lines) > 1:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            data = json.loads(lines[1])
            data["argv"] = tuple(data["argv"])
            return Identity(**data)
    return pid


def alive(found: Identity | int | None) -> bool:
    """True when the pid file names a live selfreg (not a dead one, not a reused pid)."""
    if found is None:
        return False
    if isinstance(found, Identity):
        return still_running(found)
    try:  # a bare pid: believe it only if that process is a selfreg
        cmdline = " ".join(psutil.Process(found).cmdline())
    except psutil.Error:
        return False
    return "selfreg" in cmdline or "-m bot" in cmdline


def pid_of(found: Identity | int) -> int:
    return found.pid if isinstance(found, Identity) else found


def started_at(found: Identity | int) -> float | None:
    return found.create_time if isinstance(found, Identity) else None


def claim(path: Path) -> str:
    """Lock the data folder and write this process's pid file, or raise ``AlreadyStarted``.

    Returns what was done, for the start-up step's line.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path in _held:
        raise _refusal(path)
    fd = try_lock(path.with_name(LOCK_FILE))
    if fd is None:
        raise _refusal(path)
    found = read(path)
    if alive(found):  # a selfreg that never took the lock (written by hand, or older)
        os.close(fd)
        raise _refusal(path)
    _held[path] = fd
    note = ""
    if path.exists():
        note = messages.pid_file_replaced(pid_of(found) if found else None)
    identity = own_identity()
    body = f"{os.getpid()}\n"
    if identity is not None:
        body += json.dumps(asdict(identity)) + "\n"
    temporary = path.with_name(f".{PID_FILE}.{os.getpid()}")
    temporary.write_text(body)
    temporary.replace(path)  # readers see the old file or the new one, never half of one
    return f"{path} holds pid {os.getpid()}{note}"


def try_lock(lock_path: Path) -> int | None:
    """An open descriptor holding ``flock`` on ``lock_path``; None when another holds it.
    The lock lasts until the descriptor is closed (or the process ends, however it ends)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _refusal(path: Path) -> AlreadyStarted:
    """Refused: named after the pid file's process (0 while the winner is still writing it)."""
    found = read(path)
    if found is None:
        return AlreadyStarted(path, 0, None)
    return AlreadyStarted(path, pid_of(found), started_at(found))


def release(path: Path) -> None:
    """Remove the pid file if it is this process's (never another selfreg's); drop the lock."""
    found = read(path)
    if found is not None and pid_of(found) == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    fd = _held.pop(path, None)
    if fd is not None:
        os.close(fd)  # closing the only descriptor releases the flock


def process_facts() -> dict[str, Any]:
    """selfreg's own process for the status document: pid, start, version."""
    try:
        created = psutil.Process().create_time()
    except psutil.Error:
        created = None
    return {"pid": os.getpid(), "started_at": created, "version": __version__}
