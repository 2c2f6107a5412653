"""``selfreg.log``: the output of a selfreg started by ``selfreg start``, kept to a size.

The detached selfreg writes its stdout and stderr straight into ``<data>/selfreg.log``
(inherited, opened with O_APPEND by ``selfreg start``). Like a component's output it is
rotated by copy-then-truncate (``bot.engine.supervisor.logs``): at each start, and while it
runs, checked every ``CHECK_EVERY`` seconds, so a long-lived selfreg never grows one file
without bound. A foreground ``selfreg run`` writes to its terminal or its process manager,
which own their output: nothing is rotated then.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.engine.supervisor.logs import rotate_if_large

log = logging.getLogger(__name__)

LOG_FILE = "selfreg.log"
ROTATE_AT = 10_000_000  # bytes
KEEP = 3
CHECK_EVERY = 30.0


def log_file(data_dir: Path) -> Path:
    return data_dir / LOG_FILE


def rotate(path: Path, limit: float = ROTATE_AT, keep: int = KEEP) -> bool:
    """Rotate ``path`` once it has reached ``limit`` bytes (``.1`` newest, ``keep`` kept)."""
    return rotate_if_large(path, limit, keep)


async def keep_rotated(path: Path, every: float = CHECK_EVERY, limit: float = ROTATE_AT) -> None:
    """Check the size every ``every`` seconds until cancelled; a failure only logs."""
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(rotate, path, limit)
        except OSError as exc:
            log.warning("%s could not be rotated: %s", path, exc)
