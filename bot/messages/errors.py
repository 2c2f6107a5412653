"""The texts of ``UserError`` and its kin (``bot.errors``): what went wrong, for the operator.

Each error class in ``bot.errors`` builds its message with one function here, from its typed
fields.
"""

from __future__ import annotations

import time

from bot.messages.common import human_duration


def python_too_old(found: str, lowest: tuple[int, int]) -> str:
    return f"Python {found} is too old: selfreg needs {lowest[0]}.{lowest[1]} or later"


def executable_missing(component: str, program: str, cwd: str) -> str:
    if "/" in program:
        return f'component "{component}": {program} is not an executable file (from {cwd})'
    return f'component "{component}": "{program}" is not found on PATH'


def data_folder_unwritable(path: str, error: str) -> str:
    return f"cannot write in the data folder {path}: {error}"


def port_taken(host: str, port: int, error: str) -> str:
    return (
        f"the web server cannot listen on {host}:{port}: {error} "
        "(another program uses it? set SELFREG_WEB_PORT or [web] port)"
    )


def already_running(pid: int, since: float | None, pid_file: str) -> str:
    up = f", up {human_duration(time.time() - since)}" if since else ""
    return (
        f"selfreg already runs with this data folder (pid {pid}{up}; pid file {pid_file}): "
        "`selfreg stop` or `selfreg restart` it"
    )
