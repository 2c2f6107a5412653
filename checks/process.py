"""``process``: are the right processes running, how many, how heavy, and did they restart?

Processes are matched on the interval's shared process table (``ctx.processes``), so twenty
process checks cost one pid listing, not twenty scans; the costlier figures (CPU, memory, files,
threads) are read only for the processes this check matched. selfreg's own process never
matches. A restart is seen by comparing the matched processes with the previous run's, kept in
the check's state as ``[pid, start time]`` pairs, so even a restart that reuses a pid shows.

The exact-name criterion is ``process_name``: ``name`` is every check's own name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from checks.base import (
    Check,
    CheckContext,
    CheckSpec,
    Observation,
    ProcessEntry,
    ProcessStats,
    Regex,
    Status,
    Threshold,
)
from checks.thresholds import PercentThreshold, SizeThreshold
from common.units import format_duration


class CountLimits(BaseModel):
    """How many matching processes may run."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(default=1, ge=0, description="Fewer than this: critical.")
    max: int | None = Field(default=None, ge=0, description="More than this: warning.")


class ProcessSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``process``; every match criterion given must hold."""

    kind: Literal["process"] = Field(
        description="Processes matched by name, command, pidfile or port."
    )
    process_name: str | None = Field(
        default=None, description="Exact process name, e.g. 'nginx' (as ps -o comm shows it)."
    )
    cmdline: Regex | None = Field(
        default=None, description="Regex searched in the command line joined by spaces."
    )
    pidfile: str | None = Field(default=None, description="File holding the pid to watch.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="TCP port the process listens on."
    )
    count: CountLimits = Field(
        default_factory=CountLimits, description="Running count limits; default at least 1."
    )
    cpu: PercentThreshold = Field(
        default_factory=PercentThreshold,
        description="CPU of each process since the previous run, in % of one core.",
    )
    rss: SizeThreshold = Field(
        default_factory=SizeThreshold, description="Resident memory of each process."
    )
    open_files: Threshold = Field(
        default_factory=Threshold, description="Open file descriptors of each process."
    )
    threads: Threshold = Field(default_factory=Threshold, description="Threads of each process.")

    @model_validator(mode="after")
    def _has_a_criterion(self) -> ProcessSpec:
        if all(c is None for c in (self.process_name, self.cmdline, self.pidfile, self.port)):
            raise ValueError("give at least one of process_name, cmdline, pidfile or port")
        return self

    def describe(self) -> str:
        """The criteria as an operator wrote them: ``process_name=nginx port=80``."""
        given = [("process_name", self.process_name), ("cmdline", self.cmdline)]
        given += [("pidfile", self.pidfile), ("port", self.port)]
        return " ".join(f"{key}={value}" for key, value in given if value is not None)


def read_pidfile(path: str) -> int | None:
    """The pid in ``path``; None when the file is missing, unreadable or holds no pid.

    A pidfile is a few bytes on a local (usually tmpfs) file system: read on the loop.
    """
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _mb(size: float) -> str:
    return f"{size / 1e6:.0f} MB"


class ProcessCheck(Check):
    """Critical when fewer processes match than ``count.min``; warning on a restart."""

    Spec = ProcessSpec

    def __init__(self, spec: ProcessSpec) -> None:
        super().__init__(spec)
        self.spec: ProcessSpec = spec
        self._cmdline = re.compile(spec.cmdline) if spec.cmdline else None
        self._decided: dict[tuple[int, float], bool] = {}
        # the table last matched against in full and what matched: a view of an unchanged
        # table hands over the same entries object, and the same entries match the same way
        self._matched: tuple[Sequence[ProcessEntry] | None, tuple[ProcessEntry, ...]] = (None, ())

    @property
    def server(self) -> str | None:
        """None: it reads the shared process table."""
        return None

    def matches(self, ctx: CheckContext) -> list[ProcessEntry]:
        """The processes meeting every criterion, selfreg itself excluded."""
        spec = self.spec
        allowed: set[int] | None = None  # None: any pid
        if spec.pidfile is not None:
            pid = read_pidfile(spec.pidfile)
            allowed = {pid} if pid is not None else set()
        if spec.port is not None:
            listening = ctx.processes.listening_pids(spec.port)
            allowed = listening if allowed is None else allowed & listening
        entries = ctx.processes.processes()
        if allowed is None and entries is self._matched[0]:
            return list(self._matched[1])  # the same table as last time: the same matches
        own = os.getpid()
        found = [
            entry
            for entry in entries
            if entry.pid != own
            and (allowed is None or entry.pid in allowed)
            and self._static_match(entry)
        ]
        if len(self._decided) > 4 * len(entries) + 64:  # forget processes that are gone
            alive = {e.key for e in entries}
            self._decided = {k: v for k, v in self._decided.items() if k in alive}
        if allowed is None:
            self._matched = (entries, tuple(found))
        return found

    def _static_match(self, entry: ProcessEntry) -> bool:
        """Name and command-line criteria, decided once per process (pid and start time)."""
        key = entry.key
        decided = self._decided.get(key)
        if decided is None:
            decided = (self.spec.process_name is None or entry.name == self.spec.process_name) and (
                self._cmdline is None or bool(self._cmdline.search(" ".join(entry.cmdline)))
            )
            self._decided[key] = decided
        return decided

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        alive: list[tuple[ProcessEntry, ProcessStats]] = []
        for entry in self.matches(ctx):
            stats = ctx.processes.stats(entry.pid)
            if stats is not None:  # None: it exited since the table was read
                alive.append((entry, stats))
        restarts, replaced = self._restarts(ctx, [entry for entry, _ in alive])
        count = len(alive)
        values: dict[str, float] = {"count": float(count), "restarts": float(restarts)}
        if count < spec.count.min:
            summary = "no process matches" if count == 0 else f"only {count} processes match"
            summary += f" {spec.describe()} (expected at least {spec.count.min})"
            return [self.observe(ctx, Status.CRITICAL, summary, values)]
        if count == 0:
            return [self.observe(ctx, Status.OK, f"no process matches {spec.describe()}", values)]

        stats = [s for _, s in alive]
        values |= {
            "cpu_percent": sum(s.cpu_percent for s in stats),
            "rss": sum(s.rss for s in stats),
            "open_files": float(max(s.open_files for s in stats)),
            "threads": float(sum(s.threads for s in stats)),
            "uptime": min(s.uptime for s in stats),
        }
        problems: list[tuple[Status, str]] = []
        if restarts:
            problems.append((Status.WARNING, f"restarted ({replaced})"))
        if spec.count.max is not None and count > spec.count.max:
            problems.append((Status.WARNING, f"{count} running, at most {spec.count.max} wanted"))
        for s in stats:
            problems.extend(self._limits(s))

        pids = ", ".join(str(s.pid) for s in stats[:5]) + (", ..." if count > 5 else "")
        head = f"{count} process{'es' if count > 1 else ''} (pid {pids}), "
        head += f"cpu {values['cpu_percent']:.0f}%, rss {_mb(values['rss'])}"
        head += f", up {format_duration(values['uptime'])}"
        summary = "; ".join([head, *(text for _, text in problems)])
        return [self.observe(ctx, Status.worst([s for s, _ in problems]), summary, values)]

    def _limits(self, stats: ProcessStats) -> list[tuple[Status, str]]:
        """Per-process limits that ``stats`` is past, worded with the pid."""
        spec, found = self.spec, []
        for label, value, limits, text in (
            ("cpu", stats.cpu_percent, spec.cpu, f"{stats.cpu_percent:.0f}%"),
            ("rss", stats.rss, spec.rss, _mb(stats.rss)),
            ("open files", stats.open_files, spec.open_files, str(stats.open_files)),
            ("threads", stats.threads, spec.threads, str(stats.threads)),
        ):
            status = limits.status(value)
            if status is not Status.OK:
                found.append((status, f"pid {stats.pid} {label} {text} ({status})"))
        return found

    @staticmethod
    def _restarts(ctx: CheckContext, alive: list[ProcessEntry]) -> tuple[int, str]:
        """How many previously matched processes were replaced by new ones, and which.

        Kept as ``[pid, start time]`` pairs under the ``pids`` state key; written only when the
        set changes, so a steady process costs no state write.
        """
        current = sorted([e.pid, e.create_time] for e in alive)
        previous = ctx.state.get("pids")
        if previous != current:
            ctx.state.set("pids", current)
        if not previous:
            return 0, ""
        before = {(pid, start) for pid, start in previous}
        now = {(pid, start) for pid, start in current}
        gone, new = sorted(before - now), sorted(now - before)
        replaced = min(len(gone), len(new))
        if not replaced:
            return 0, ""
        arrows = ", ".join(f"pid {g[0]} → {n[0]}" for g, n in zip(gone, new, strict=False))
        return replaced, arrows
