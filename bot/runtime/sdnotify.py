"""systemd's notify protocol (``sd_notify``), spoken when selfreg runs under ``Type=notify``.

systemd passes ``NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace) and, with
``WatchdogSec=``, ``WATCHDOG_USEC``. selfreg sends ``READY=1`` once its start-up sequence has
ended (so ``systemctl start`` returns when selfreg really runs, and a failed start is a failed
unit), ``WATCHDOG=1`` at half the watchdog interval while ``/health`` is healthy (a hung
loop, a dead scheduler or a store that cannot be written stops the pings and systemd restarts
selfreg), ``STOPPING=1`` at stop and ``STATUS=`` lines for ``systemctl status``. Each is one
datagram on a unix socket: twenty lines, no library needed. Without ``NOTIFY_SOCKET`` every
call does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping

from bot import messages

log = logging.getLogger(__name__)


def notify(*fields: str, env: Mapping[str, str] | None = None) -> bool:
    """Send ``fields`` (``READY=1``, ``STATUS=...``) as one datagram; False when not under
    systemd or the socket refused it (never raises: systemd's absence is no error)."""
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # the abstract namespace: a leading NUL byte instead
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(fields).encode(), address)
    except OSError as exc:
        log.warning(messages.sd_notify_failed(address.lstrip("\0"), str(exc)))
        return False
    return True


def watchdog_every(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings: half of ``WATCHDOG_USEC`` (systemd's advice),
    None when no watchdog is asked for or it is meant for another process (``WATCHDOG_PID``)."""
    env = os.environ if env is None else env
    meant_for = env.get("WATCHDOG_PID", "")
    if meant_for and meant_for != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2 / 1_000_000 if usec > 0 else None


async def watchdog(healthy: Callable[[], bool], every: float) -> None:
    """Ping ``WATCHDOG=1`` every ``every`` seconds while ``healthy()``; runs until cancelled."""
    while True:
        if healthy():
            notify("WATCHDOG=1")
        await asyncio.sleep(every)


def start_watchdog(healthy: Callable[[], bool]) -> asyncio.Task[None] | None:
    """The ping task when systemd asks for a watchdog, else None."""
    every = watchdog_every()
    if every is None or not os.environ.get("NOTIFY_SOCKET"):
        return None
    return asyncio.create_task(watchdog(healthy, every), name="sd-watchdog")


async def stop_watchdog(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
