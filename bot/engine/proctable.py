"""The engine's process table: one cheap, shared view of the processes per check interval.

A full psutil scan reading seven attributes of every process costs about 17.5 ms of CPU for 64
processes (DESIGN.md), so twenty process checks scanning on their own would cost 7 % of a core.
Instead a ``ProcessTableCache`` lives as long as selfreg does and, once per interval, the engine
asks it for a ``ProcessTableView`` that every process check of that interval shares:

- the pid list is read every time (cheap); name and command line are read only for processes
  not seen before, identified by pid *and* start time so a reused pid is never mistaken for the
  process that had it before;
- listening sockets are read only if some check asks for a port, once per view;
- CPU, memory, files and threads are read only for the pids a check asks about, through
  ``psutil.Process`` objects kept across views, so ``cpu_percent`` measures the time since the
  previous view (the first reading of a process is 0.0).

A process that vanishes or denies access never raises out of here: it is skipped or read as None.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from checks.base import ProcessEntry, ProcessStats

logger = logging.getLogger(__name__)

LINUX = sys.platform.startswith("linux")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if LINUX else 100
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if LINUX else 4096
VERIFY_EVERY = 12  # rounds between full identity checks: a minute at a 5 s interval


def _linux_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, from ``/proc/<pid>/stat``; None
    when it has gone or is a zombie (it has exited: it must not count as running).

    Reading it raw costs a third of what ``psutil.Process(pid)`` does (which also reads it):
    this is the per-pid, per-interval identity check, so its cost is paid for every process.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
        # The command name (field 2) may hold spaces and ")": fields count from the last ")".
        fields = data[data.rfind(b")") + 2 :].split()
        return None if fields[0] in (b"Z", b"X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


def _linux_stats(pid: int, known: _Known, now: float) -> ProcessStats | None:
    """CPU, memory, threads and open files straight from /proc: a fifth of what psutil's
    oneshot costs, and this runs for every matched process every interval (DESIGN.md's
    budget). CPU % is measured since the previous reading through this cache (0.0 first)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
        fields = data[data.rfind(b")") + 2 :].split()
        if fields[0] in (b"Z", b"X"):
            return None
        cpu_seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        threads = int(fields[17])
        with open(f"/proc/{pid}/statm", "rb") as statm:
            rss = float(int(statm.read().split()[1]) * PAGE_SIZE)
        files = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, ValueError, IndexError):
        return None
    moment = time.monotonic()
    previous, known.cpu_sample = known.cpu_sample, (moment, cpu_seconds)
    cpu = 0.0
    if previous is not None and moment > previous[0]:
        cpu = max(cpu_seconds - previous[1], 0.0) / (moment - previous[0]) * 100
    uptime = max(now - known.entry.create_time, 0.0)
    return ProcessStats(
        pid=pid, cpu_percent=cpu, rss=rss, open_files=files, threads=threads, uptime=uptime
    )


@functools.cache
def _boot_time() -> float:
    """When the machine booted, in epoch seconds (psutil's figure, read once)."""
    return psutil.boot_time()


def _linux_cmdline(data: bytes) -> tuple[str, ...]:
    """``/proc/<pid>/cmdline`` split as psutil splits it (a process that rewrote its command
    line may separate its arguments by spaces)."""
    text = data.decode(sys.getfilesystemencoding(), "surrogateescape")
    if not text:
        return ()
    sep = "\x00" if text.endswith("\x00") else " "
    parts = text.removesuffix(sep).split(sep)
    if sep == "\x00" and len(parts) == 1 and " " in parts[0]:
        parts = parts[0].split(" ")
    return tuple(parts)


def _linux_entry(pid: int) -> ProcessEntry | None:
    """Name, command line and start time of ``pid`` straight from /proc, with psutil's
    meanings (a 15-character name completed from the command line, the start time in epoch
    seconds): two reads where ``psutil.Process`` takes five, for every new process on the
    machine, every interval. None when it has gone or is a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            cmdline = _linux_cmdline(raw.read())
    except OSError:
        return None
    head, _, rest = data.rpartition(b")")
    fields = rest[1:].split()
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    name = head[head.find(b"(") + 1 :].decode(sys.getfilesystemencoding(), "surrogateescape")
    if len(name) >= 15 and cmdline and os.path.basename(cmdline[0]).startswith(name):
        name = os.path.basename(cmdline[0])
    create_time = int(fields[19]) / CLOCK_TICKS + _boot_time()
    return ProcessEntry(pid=pid, name=name, cmdline=cmdline, create_time=create_time)


def _psutil_create_time(pid: int) -> float | None:
    """The start time of ``pid`` through psutil (every platform but Linux); None as above."""
    try:
        proc = psutil.Process(pid)
        return None if proc.status() == psutil.STATUS_ZOMBIE else proc.create_time()
    except psutil.Error:
        return None


_start_token: Callable[[int], float | None] = (
    _linux_start_ticks if sys.platform.startswith("linux") else _psutil_create_time
)


@dataclass(slots=True)
class _Known:
    """A process seen before: its identity token, cheap facts and a reusable psutil handle."""

    token: float
    entry: ProcessEntry
    cpu_sample: tuple[float, float] | None = None  # (monotonic time, CPU seconds) last read
    _handle: psutil.Process | None = None

    @property
    def handle(self) -> psutil.Process:
        """The psutil handle, made on first use: on Linux only the fallbacks need one."""
        if self._handle is None:
            self._handle = psutil.Process(self.entry.pid)
        return self._handle


class ProcessTableView:
    """One interval's process table (implements ``checks.base.ProcessTable``)."""

    def __init__(
        self,
        known: dict[int, _Known],
        now: Callable[[], float],
        entries: Sequence[ProcessEntry] | None = None,
    ) -> None:
        """``entries``: the previous view's, when the table has not changed since (the same
        object tells a check it may reuse what it matched in it)."""
        self._known = known
        self._now = now
        self._entries = entries or tuple(known[pid].entry for pid in sorted(known))
        self._listening: dict[int, set[int]] | None = None
        # Memoised so two checks matching the same pid do not split its cpu_percent interval.
        self._stats: dict[int, ProcessStats | None] = {}

    @property
    def asked(self) -> list[int]:
        """The pids some check read the stats of, through this view."""
        return list(self._stats)

    def processes(self) -> Sequence[ProcessEntry]:
        return self._entries

    def listening_pids(self, port: int) -> set[int]:
        if self._listening is None:
            self._listening = self._read_listening()
        return set(self._listening.get(port, ()))

    def stats(self, pid: int) -> ProcessStats | None:
        if pid not in self._stats:
            self._stats[pid] = self._read_stats(pid)
        return self._stats[pid]

    def _read_stats(self, pid: int) -> ProcessStats | None:
        known = self._known.get(pid)
        if known is None:
            return None
        if LINUX:
            raw = _linux_stats(pid, known, self._now())
            if raw is not None or not os.path.exists(f"/proc/{pid}"):
                return raw
        proc = known.handle
        try:
            with proc.oneshot():
                cpu = proc.cpu_percent(interval=None)
                rss = float(proc.memory_info().rss)
                threads = proc.num_threads()
                files = proc.num_fds() if hasattr(proc, "num_fds") else proc.num_handles()
        except psutil.Error as exc:
            logger.debug("cannot read stats of pid %s: %s", pid, exc)
            return None
        uptime = max(self._now() - known.entry.create_time, 0.0)
        return ProcessStats(
            pid=pid, cpu_percent=cpu, rss=rss, open_files=files, threads=threads, uptime=uptime
        )

    def _read_listening(self) -> dict[int, set[int]]:
        """Port -> pids listening on it; one system-wide read, per process where that is denied."""
        by_port: dict[int, set[int]] = {}
        try:
            connections = [(c.pid, c) for c in psutil.net_connections(kind="tcp")]
        except psutil.AccessDenied:
            # macOS and hardened hosts refuse the system-wide table to non-root users.
            connections = []
            for pid, known in self._known.items():
                try:
                    read = (
                        getattr(known.handle, "net_connections", None) or known.handle.connections
                    )
                    connections.extend((pid, c) for c in read(kind="tcp"))
                except psutil.Error:
                    continue
        for pid, conn in connections:
            if pid is not None and conn.status == psutil.CONN_LISTEN and conn.laddr:
                by_port.setdefault(conn.laddr.port, set()).add(pid)
        return by_port


class ProcessTableCache:
    """Lives for the life of selfreg; ``snapshot()`` once per interval gives the shared view."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        """``now`` is the wall clock in epoch seconds, used for uptimes (process start times
        are real epoch seconds, so it should be the real clock)."""
        self._known: dict[int, _Known] = {}
        self._now = now
        self._rounds = 0
        self._last: ProcessTableView | None = None

    def snapshot(self) -> ProcessTableView:
        """Read the pid list, learn the new processes, forget the gone ones; return the view."""
        current: dict[int, _Known] = {}
        # Known pids are taken on trust (a pid is not reused within seconds), except the ones a
        # check looked at last time, and all of them every VERIFY_EVERY rounds: that catches a
        # matched process turned zombie at once, and any other within a minute.
        everyone = self._rounds % VERIFY_EVERY == 0
        verify = set(self._last.asked) if self._last is not None else set()
        learned = False
        for pid in psutil.pids():
            known = self._known.get(pid)
            if known is not None and not everyone and pid not in verify:
                current[pid] = known  # seen last interval: a pid is not reused within seconds
                continue
            token = _start_token(pid)
            if token is None:
                continue  # gone between listing and reading, or a zombie
            if known is None or known.token != token:
                known = self._learn(pid, token)
                learned = True
            if known is not None:
                current[pid] = known
        previous = self._last
        unchanged = not learned and len(current) == len(self._known) and previous is not None
        self._known = current
        self._rounds += 1
        self._last = ProcessTableView(
            current, self._now, previous.processes() if unchanged and previous else None
        )
        return self._last

    @staticmethod
    def _learn(pid: int, token: float) -> _Known | None:
        """Read name, command line and start time of a process not seen before."""
        if LINUX:
            entry = _linux_entry(pid)
            return None if entry is None else _Known(token=token, entry=entry)
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                name = proc.name()
                create_time = proc.create_time()
        except psutil.Error:
            return None
        try:
            cmdline = tuple(proc.cmdline())
        except psutil.Error:  # another user's may be hidden; a fresh zombie has none
            cmdline = ()
        entry = ProcessEntry(pid=pid, name=name, cmdline=cmdline, create_time=create_time)
        return _Known(token=token, entry=entry, _handle=proc)
