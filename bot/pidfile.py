"""The pid file in the data folder: which process is *the* selfreg of this folder.

Written by every ``selfreg run`` (foreground or started by ``selfreg start``) once it knows it
is alone, removed at its stop. A pid alone is not proof: after a ``kill -9`` or a reboot the
number may belong to another program. So the file holds, after the pid on its first line
(what ``kill $(head -1 selfreg.pid)`` and process managers read), the identity the supervisor
uses for components: boot id, pid and start ticks (see ``processes.Identity``). A file whose
process is gone, from another boot, or whose pid now names another process is stale.

Creating the file is the lock: ``O_CREAT | O_EXCL``, after removing a stale one, so two
selfregs started at the same moment cannot both believe they are alone.
"""

from __future__ import annotations

import contextlib
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
    """Write this process's pid file, or raise ``AlreadyStarted``; returns what was done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    note = ""
    found = read(path)
    if alive(found):
        assert found is not None
        raise AlreadyStarted(path, pid_of(found), started_at(found))
    if path.exists():
        path.unlink()
        note = messages.pid_file_replaced(pid_of(found) if found else None)
    identity = own_identity()
    body = f"{os.getpid()}\n"
    if identity is not None:
        body += json.dumps(asdict(identity)) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # another selfreg wrote it between our read and now
        found = read(path)
        raise AlreadyStarted(path, pid_of(found) if found else 0, None) from None
    with os.fdopen(fd, "w") as handle:
        handle.write(body)
    return f"{path} holds pid {os.getpid()}{note}"


def release(path: Path) -> None:
    """Remove the pid file if it is this process's (never another selfreg's)."""
    found = read(path)
    if found is not None and pid_of(found) == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def process_facts() -> dict[str, Any]:
    """selfreg's own process for the status document: pid, start, version."""
    try:
        created = psutil.Process().create_time()
    except psutil.Error:
        created = None
    return {"pid": os.getpid(), "started_at": created, "version": __version__}
