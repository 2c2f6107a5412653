"""Component output: one file per instance, rotated by copy-then-truncate.

A component writes its stdout and stderr straight into ``<data>/logs/<name>.log`` (opened
with O_APPEND), never through a pipe to selfreg: a pipe would block the child when selfreg
falls behind and kill it with SIGPIPE when selfreg dies, and the components must outlive a
crashed selfreg. Because the child holds the file open, rotation cannot rename it away (the
child would keep writing into the renamed file); instead selfreg copies it to ``.1`` and
truncates it in place, as logrotate's ``copytruncate`` does. O_APPEND makes the child's next
write land at the new end, offset 0, so the file never turns sparse.

The price is a window of microseconds between the last copy and the truncation: a line
written exactly then is lost. A second copy pass picks up what arrived during the first, which
shrinks the window to the time of one ``truncate`` call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bot import messages

if TYPE_CHECKING:
    from bot.engine.supervisor.state import ComponentState

log = logging.getLogger(__name__)

CHECK_EVERY = 10.0  # how often the supervisor looks at log sizes


def rotated(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def rotate_if_large(path: Path, max_bytes: float, keep: int) -> bool:
    """Rotate ``path`` when it has reached ``max_bytes``: .1 is the newest, ``keep`` are kept.

    Blocking file work: the supervisor runs it in a thread.
    """
    try:
        if path.stat().st_size < max_bytes:
            return False
    except FileNotFoundError:
        return False
    rotated(path, keep + 1).unlink(missing_ok=True)
    for number in range(keep, 0, -1):
        older = rotated(path, number)
        if older.exists():
            older.rename(rotated(path, number + 1))
    rotated(path, keep + 1).unlink(missing_ok=True)
    _copy_then_truncate(path, rotated(path, 1))
    log.info(messages.output_rotated(str(path)))
    return True


def _copy_then_truncate(path: Path, target: Path) -> None:
    with path.open("rb") as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
        shutil.copyfileobj(source, sink, 1 << 20)  # what was appended during the first pass
        os.truncate(path, 0)


async def rotate_all(components: Iterable[ComponentState]) -> None:
    """Rotate every instance's log that has passed its size (file work in a thread); a
    failure (a full disk) is logged and never ends the rotation for good."""
    for component in components:
        settings = component.settings
        for instance in list(component.instances):
            path = instance.log_path
            try:
                if path.exists() and path.stat().st_size >= settings.log_max_bytes:
                    await asyncio.to_thread(
                        rotate_if_large, path, settings.log_max_bytes, settings.log_keep
                    )
            except OSError as exc:
                log.warning(messages.output_not_rotated(str(path), str(exc)))
