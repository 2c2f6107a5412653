"""One reading of the host's counters per instant, shared by every ``system`` check of it.

A ``system`` run reads the host as a whole: CPU times, memory, swap, load, disk and network
counters (``/proc`` through psutil), and the mounts' ``statvfs`` (in a thread: a dead network
mount blocks it for minutes). Every ``system`` check of an interval starts in the same turn
of the event loop, and each read the same host on its own: 200 of them at 1 s read it 200
times a second on the loop and queued 200 ``statvfs`` calls on the default pool's threads (6
on 2 cores), 28 % of selfreg's profile under ``bench/load.py`` (4 % shared). Here the first
run of a turn reads; the others of that turn get the same reading, and the runs that ask for the same
mounts await one ``statvfs`` call. A reading lives until the loop's next turn, so two runs
of a check (a second apart at the least) never share one: each still measures its rates
from its own previous run, as before.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import psutil

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HostReading:
    """The host's counters at one instant (psutil's records, as psutil returns them)."""

    cpu_times: Any
    memory_percent: float
    swap: Any
    load: tuple[float, float, float]
    cores: int
    disk: Any  # None on hosts (containers) without block devices
    net: dict[str, Any]  # per-interface counters
    links: dict[str, Any]  # per-interface link state


class _Turn:
    """Values made once per turn of the running loop, dropped at the next turn."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self.made = 0  # how many were made (not shared): for tests

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        if key in self._values:
            return self._values[key]
        if not self._values:
            asyncio.get_running_loop().call_soon(self._values.clear)
        value = self._values[key] = make()
        self.made += 1
        return value


TURN = _Turn()


def _read_host() -> HostReading:
    return HostReading(
        cpu_times=psutil.cpu_times(),
        memory_percent=psutil.virtual_memory().percent,
        swap=psutil.swap_memory(),
        load=os.getloadavg(),
        cores=psutil.cpu_count() or 1,
        disk=psutil.disk_io_counters(),
        net=psutil.net_io_counters(pernic=True),
        links=psutil.net_if_stats(),
    )


def host_reading() -> HostReading:
    """The host's counters, read once per turn of the loop."""
    return TURN.get("host", _read_host)


def _statvfs(mounts: tuple[str, ...]) -> dict[str, os.statvfs_result | None]:
    """statvfs of each mount point; None for one that is not mounted (or cannot be read)."""
    result: dict[str, os.statvfs_result | None] = {}
    for mount in mounts:
        try:
            result[mount] = os.statvfs(mount) if os.path.ismount(mount) else None
        except OSError:
            result[mount] = None
    return result


async def mount_usage(mounts: tuple[str, ...]) -> dict[str, os.statvfs_result | None]:
    """statvfs of ``mounts``, in a thread, one call per turn for the runs that ask the same.

    Shielded: a run cancelled by its timeout must not cancel the call the others await."""
    call = TURN.get(
        ("statvfs", mounts), lambda: asyncio.ensure_future(asyncio.to_thread(_statvfs, mounts))
    )
    return await asyncio.shield(call)


def default_mounts() -> list[str]:
    """Every real local mount, once per device (bind mounts repeat a device); read once per
    turn. Read-only images (snaps, ISOs, loop devices) are always "100 % full": left out."""
    return list(TURN.get("mounts", _default_mounts))


_NOISE_FSTYPES = {"squashfs", "iso9660", "udf", "erofs", "cramfs"}
_NOISE_PREFIXES = ("/snap/", "/var/lib/snapd/")


def _default_mounts() -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for part in psutil.disk_partitions(all=False):
        if part.fstype in _NOISE_FSTYPES or part.device.startswith("/dev/loop"):
            continue
        if part.mountpoint.startswith(_NOISE_PREFIXES) or not os.path.isdir(part.mountpoint):
            continue
        if part.device not in seen or len(part.mountpoint) < len(seen[part.device]):
            seen[part.device] = part.mountpoint
    return tuple(sorted(seen.values()))
