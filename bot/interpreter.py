"""``selfreg run`` under ``python -OO``: the long-running process without docstrings.

A running selfreg is mostly imported code: about 900 modules (its own, asyncio, aiohttp,
numpy, pydantic, slack_sdk, ...) whose docstrings stay in memory for the life of the
process and are never read by it. ``-OO`` leaves them out: 4.5 MB less resident memory for
the 70-check selfreg of ``bench/overhead.py`` (docs/benchmarks.md, issue 15). It also drops
``assert`` statements, which selfreg uses only to narrow types for the type checker.

``run`` calls ``reexec_optimized`` before it reads its config: it replaces the process with
the same command line under ``-OO`` (``os.execv``: same pid, same open files, so the pid
file, ``selfreg start``, systemd and Fly see one process). ``selfreg start`` launches its
child with the flag already. SELFREG_PYTHON_OPTIMIZE=0 keeps the interpreter as started (a
bad value is reported by the config load that follows). Only the daemon: every other
command is short-lived, and click's help texts are docstrings.

Where Python may not write bytecode (``PYTHONDONTWRITEBYTECODE``, a read-only install), the
``-OO`` bytecode is compiled at every start, about half a second more; the Dockerfile
compiles it into the image.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from bot.config.environment import python_optimize

FLAGS = ("-OO",)


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """SELFREG_PYTHON_OPTIMIZE asks for ``-OO`` (the default); False for a bad value too."""
    optimize, _ = python_optimize(os.environ if environ is None else environ)
    return optimize


def optimized() -> bool:
    """This interpreter leaves docstrings out (``-OO``, or PYTHONOPTIMIZE=2)."""
    return sys.flags.optimize >= 2


def daemon_flags() -> list[str]:
    """The interpreter flags a selfreg daemon is launched with (``selfreg start``)."""
    return list(FLAGS) if wanted() else []


def reexec_optimized() -> None:
    """Become the same command under ``python -OO`` unless already so or not wanted."""
    if optimized() or not wanted():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *FLAGS, *sys.orig_argv[1:]])
