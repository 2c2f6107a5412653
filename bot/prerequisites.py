"""What must hold before selfreg starts anything: the first steps of ``bot/startup.py``.

Each function checks one thing, returns a short sentence saying what it found, and raises
``PrerequisiteFailed`` with the reason when selfreg must not start. Nothing here starts a
process, opens the store or keeps a socket: a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

from bot import interpreter, messages
from bot.config import ComponentSettings, LoadedConfig
from bot.engine.supervisor import resolve_command
from bot.errors import PrerequisiteFailed, WebTokenMissing
from bot.web.app import is_loopback

LOWEST_PYTHON = (3, 11)


def python_version(version: tuple[int, ...] | None = None) -> str:
    found = tuple(version or sys.version_info[:3])
    text = ".".join(str(part) for part in found)
    if found[:2] < LOWEST_PYTHON:
        raise PrerequisiteFailed(messages.python_too_old(text, LOWEST_PYTHON))
    return f"{text} ({sys.executable}; {messages.python_optimized(interpreter.optimized())})"


def find_executable(component: ComponentSettings, base_dir: Path) -> str | None:
    """Where the component's program is, as the kernel will find it; None if nowhere.

    A word without ``/`` is looked up on the component's PATH (its ``env`` may set one); a
    path is taken relative to the component's working folder, as ``exec`` does.
    """
    program = resolve_command(component.command)[0]
    cwd = base_dir / (component.cwd or ".")
    if "/" in program:
        path = Path(program) if Path(program).is_absolute() else cwd / program
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    # the component's own PATH when its env sets one, else selfreg's: what exec will search
    search = os.get_exec_path(component.env if "PATH" in component.env else None)
    return shutil.which(program, path=os.pathsep.join(search))


def executables(config: LoadedConfig) -> str:
    """Every component's program, and the syncs' rsync, exists and may be run."""
    found = component_executables(config)
    syncs = sync_programs(config)
    return f"{found}; {syncs}" if syncs else found


def sync_programs(config: LoadedConfig) -> str | None:
    """The rsync of every ``sync`` check is on PATH (or at its path); None without syncs."""
    specs = [spec for spec in config.settings.checks if spec.kind == "sync" and spec.enabled]
    programs: dict[str, list[str]] = {}
    for spec in specs:
        programs.setdefault(str(getattr(spec, "rsync", "rsync")), []).append(spec.name)
    for program, names in programs.items():
        if shutil.which(program) is None:
            raise PrerequisiteFailed(messages.rsync_missing(", ".join(names), program))
    return messages.rsync_found(len(specs), ", ".join(programs)) if specs else None


def component_executables(config: LoadedConfig) -> str:
    """Every component's program exists and may be run."""
    components = config.settings.components
    if not components:
        return messages.no_components()
    base_dir = config.files[0].parent
    missing = []
    for component in components:
        if find_executable(component, base_dir) is None:
            program = component.command[0]
            cwd = base_dir / (component.cwd or ".")
            missing.append(messages.executable_missing(component.name, program, str(cwd)))
    if missing:
        raise PrerequisiteFailed("; ".join(missing))
    names = ", ".join(c.name for c in components)
    return messages.executables_found(len(components), names)


def data_folder(data_dir: Path) -> str:
    """The data folder exists (created if need be) and a file can be written in it."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise PrerequisiteFailed(
            messages.data_folder_unwritable(str(data_dir), messages.error_text(exc))
        ) from None
    free = shutil.disk_usage(data_dir).free
    return messages.data_folder_writable(str(data_dir), free)


def web_exposure(config: LoadedConfig) -> str:
    """Bound beyond loopback, every route but /health needs SELFREG_WEB_TOKEN."""
    host = config.settings.web.host
    if is_loopback(host):
        return messages.web_loopback(host)
    if not config.web_token:
        raise PrerequisiteFailed(str(WebTokenMissing(host)))
    return messages.web_token_needed(host)


def web_port(config: LoadedConfig) -> str:
    """The web server's port is free (port 0: any free port will do)."""
    settings = config.settings.web
    if settings.port == 0:
        return messages.web_any_port(settings.host)
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise PrerequisiteFailed(
            messages.port_taken(settings.host, settings.port, messages.error_text(exc))
        ) from None
    for family, kind, proto, _, address in infos:
        probe = socket.socket(family, kind, proto)
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            probe.bind(address)
        except OSError as exc:
            raise PrerequisiteFailed(
                messages.port_taken(settings.host, settings.port, messages.error_text(exc))
            ) from None
        finally:
            with contextlib.suppress(OSError):
                probe.close()
    return messages.web_port_free(settings.host, settings.port)
