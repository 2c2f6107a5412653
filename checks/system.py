"""``system``: the host's CPU, load, memory, swap, disks, inodes and network interfaces.

One run yields one observation for the host as a whole (subject ``""``), one per watched mount
(subject: the mount point) and one per watched interface (subject: its name). Rates (CPU, disk
and network throughput) need the previous run's counters: the instance keeps them in memory, so
the first run after a start reports no rate at all rather than a misleading zero. The counters
themselves are read once per instant for all the system checks of it (``host_reading``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Status, Threshold
from checks.host_reading import HostReading, default_mounts, host_reading, mount_usage
from checks.thresholds import PercentThreshold

_NET_RATES = ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv")
_NET_DELTAS = ("errin", "errout", "dropin", "dropout")


class SystemSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``system``."""

    kind: Literal["system"] = Field(description="Host-wide figures, mounts and interfaces.")
    cpu: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=90, critical=98),
        description="Busy CPU (all cores) since the previous run; default warn 90%, critical 98%.",
    )
    load: Threshold = Field(
        default_factory=lambda: Threshold(warn=2.0, critical=4.0),
        description="1-minute load average per core; default warn 2.0, critical 4.0.",
    )
    memory: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=90, critical=97),
        description="Memory in use (not available); default warn 90%, critical 97%.",
    )
    swap: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=80, critical=95),
        description="Swap in use; default warn 80%, critical 95%. Ignored without swap.",
    )
    disk: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=85, critical=95),
        description="Space used on each watched mount, as df counts it; default 85% / 95%.",
    )
    inodes: PercentThreshold = Field(
        default_factory=lambda: PercentThreshold(warn=90, critical=97),
        description="Inodes used on each watched mount; default warn 90%, critical 97%.",
    )
    mounts: list[str] = Field(
        default_factory=list,
        description="Mount points to watch (critical when not mounted); default: every local "
        "disk mount, without read-only images (squashfs, loop devices, snaps).",
    )
    interfaces: list[str] = Field(
        default_factory=list,
        description="Network interfaces to watch (critical when missing or down); "
        "default: all but lo.",
    )


def human_bytes(count: float) -> str:
    """Bytes as operators read them, in decimal units like ``"512MB"`` in config: ``"29 GB"``."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(count) < 1000 or unit == "TB":
            return (
                f"{count:.0f} {unit}" if unit == "B" or abs(count) >= 10 else f"{count:.1f} {unit}"
            )
        count /= 1000
    raise AssertionError("unreachable")


class SystemCheck(Check):
    """Judge the host on CPU, load, memory, swap, disk and inode use; report I/O rates."""

    Spec = SystemSpec

    def __init__(self, spec: SystemSpec) -> None:
        super().__init__(spec)
        self.spec: SystemSpec = spec
        self._cpu: tuple[float, float] | None = None  # (busy, total) CPU seconds
        self._disk: tuple[float, Any] | None = None  # (at, psutil disk counters)
        self._net: tuple[float, dict[str, Any]] | None = None  # (at, per-interface counters)

    @property
    def server(self) -> str | None:
        """None: it reads the host, so every system check of an interval starts at once and
        they share one reading (``checks.host_reading``)."""
        return None

    async def run(self, ctx: CheckContext) -> list[Observation]:
        now = ctx.now()
        reading = host_reading()  # before any await: shared by the turn's system checks
        host, interfaces = self._host(ctx, now, reading), self._interfaces(ctx, now, reading)
        mounts = self.spec.mounts or default_mounts()
        # statvfs of a dead network mount blocks for minutes: never on the loop.
        usage = await mount_usage(tuple(mounts))
        return [host, *(self._mount(ctx, m, usage[m]) for m in mounts), *interfaces]

    def _host(self, ctx: CheckContext, now: float, reading: HostReading) -> Observation:
        spec = self.spec
        values: dict[str, float] = {}
        parts: list[str] = []
        judged: list[tuple[str, float, Threshold]] = []  # (name, value, limits)

        # Own counters rather than psutil.cpu_percent(), whose baseline is global to the process.
        # Linux counts guest time inside user and nice too: leave it out of the total once.
        times = reading.cpu_times
        total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        busy = total - times.idle - getattr(times, "iowait", 0.0)
        if self._cpu is not None and total > self._cpu[1]:
            # Clamped: the difference of two large float sums can land a hair outside 0..100.
            share = (busy - self._cpu[0]) / (total - self._cpu[1])
            cpu = values["cpu_percent"] = 100 * min(1.0, max(0.0, share))
            parts.append(f"cpu {cpu:.0f}%")
            judged.append(("cpu", cpu, spec.cpu))
        self._cpu = (busy, total)

        memory = reading.memory_percent
        values["memory_percent"] = memory
        parts.append(f"memory {memory:.0f}%")
        judged.append(("memory", memory, spec.memory))
        swap = reading.swap
        if swap.total > 0:
            values["swap_percent"] = swap.percent
            judged.append(("swap", swap.percent, spec.swap))

        load1, load5, load15 = reading.load
        per_core = load1 / reading.cores
        values.update(load1=load1, load5=load5, load15=load15, load_per_core=per_core)
        parts.append(f"load {per_core:.1f}/core")
        judged.append(("load", per_core, spec.load))

        disk = reading.disk  # None on hosts (containers) without block devices
        if disk is not None:
            if self._disk is not None and now > self._disk[0]:
                values.update(_disk_rates(disk, self._disk[1], now - self._disk[0]))
            self._disk = (now, disk)

        statuses = [limits.status(value) for _, value, limits in judged]
        problems = [
            _problem(name, status, value, limits)
            for (name, value, limits), status in zip(judged, statuses, strict=True)
            if status is not Status.OK
        ]
        summary = ", ".join(parts) + "".join(f"; {p}" for p in problems)
        return self.observe(ctx, Status.worst(statuses), summary, values)

    def _mount(self, ctx: CheckContext, mount: str, st: os.statvfs_result | None) -> Observation:
        if st is None:
            return self.observe(ctx, Status.CRITICAL, f"{mount}: not mounted", subject=mount)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        free = st.f_bavail * st.f_frsize  # what an unprivileged writer can still use, as df
        percent = 100 * used / (used + free) if used + free else 0.0
        values = {"disk_percent": percent, "disk_free_bytes": float(free)}
        statuses = [self.spec.disk.status(percent)]
        summary = f"{mount}: {percent:.0f}% used ({human_bytes(free)} free)"
        if st.f_files > 0:  # btrfs and some network file systems have no inode limit
            inodes = 100 * (st.f_files - st.f_ffree) / st.f_files
            values["inodes_percent"] = inodes
            statuses.append(self.spec.inodes.status(inodes))
            if statuses[-1] is not Status.OK:
                summary += f"; inodes {inodes:.0f}% used"
        return self.observe(ctx, Status.worst(statuses), summary, values, subject=mount)

    def _interfaces(self, ctx: CheckContext, now: float, reading: HostReading) -> list[Observation]:
        counters, links = reading.net, reading.links
        explicit = bool(self.spec.interfaces)
        names = self.spec.interfaces or sorted(n for n in counters if n != "lo")
        previous = self._net
        self._net = (now, counters)
        observations = []
        for name in names:
            if name not in counters:
                summary = f"{name}: no such interface"
                observations.append(self.observe(ctx, Status.CRITICAL, summary, subject=name))
                continue
            up = name in links and links[name].isup
            values: dict[str, float] = {"up": float(up)}
            summary = f"{name}: {'up' if up else 'down'}"
            if previous is not None and name in previous[1] and now > previous[0]:
                values.update(_net_rates(counters[name], previous[1][name], now - previous[0]))
            if "bytes_recv_per_s" in values:
                summary += (
                    f", {human_bytes(values['bytes_recv_per_s'])}/s in"
                    f", {human_bytes(values['bytes_sent_per_s'])}/s out"
                )
            status = Status.CRITICAL if explicit and not up else Status.OK
            observations.append(self.observe(ctx, status, summary, values, subject=name))
        return observations


def _disk_rates(now: Any, before: Any, elapsed: float) -> dict[str, float]:
    """Read and written bytes per second; none when a counter went back (a reset)."""
    read, written = now.read_bytes - before.read_bytes, now.write_bytes - before.write_bytes
    if read < 0 or written < 0:
        return {}
    return {"disk_read_bytes_per_s": read / elapsed, "disk_write_bytes_per_s": written / elapsed}


def _net_rates(now: Any, before: Any, elapsed: float) -> dict[str, float]:
    """Per-second rates and per-interval error/drop counts; none when a counter went back
    (the interface was recreated), since a negative rate would be a lie."""
    deltas = {
        field: getattr(now, field) - getattr(before, field) for field in _NET_RATES + _NET_DELTAS
    }
    if any(delta < 0 for delta in deltas.values()):
        return {}
    rates = {f"{field}_per_s": deltas[field] / elapsed for field in _NET_RATES}
    return rates | {field: float(deltas[field]) for field in _NET_DELTAS}


def _problem(name: str, status: Status, value: float, threshold: Threshold) -> str:
    limit = threshold.critical if status is Status.CRITICAL else threshold.warn
    if name == "load":
        return f"load {value:.1f}/core ({status} ≥ {limit:g})"
    return f"{name} {value:.0f}% ({status} ≥ {limit:g}%)"
