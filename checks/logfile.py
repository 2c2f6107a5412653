"""``logfile``: follow log files like ``tail -F`` and count lines matching patterns.

Where each file was read up to lives in the check's state under ``files``: path ->
``[st_dev, st_ino, offset]``. A file is known by its inode, not its name, so after a rotation
(``app.log`` renamed ``app.log.1``, a new ``app.log`` created) the old file is read to its end
under its new name if the globs still match it, and the new one from its start. A file shorter
than its offset was truncated and is read again from 0. Only whole lines are consumed: a line
still being written is read on the next run. State is written only through ``ctx.state``, which
the engine commits with the observation, so a dry run (``selfreg health``) never moves offsets.

Matches are counted over a sliding ``window`` (5 minutes by default): the status is a
pattern's severity while the window holds at least that pattern's ``count`` of matches, so a
steady stream of errors keeps one incident open instead of failing and recovering with every
run, and the incident resolves once the window has been quiet. The window lives in the state
too (``window``: one ``[at, [matches per pattern]]`` entry per run that matched, at most one
per run; ``lines``: the last matching lines with their time), so a restart keeps counting
where it left off rather than forgetting the errors it had just seen.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Regex, Status
from common.units import Duration, Size, format_duration

_SEVERITY = {"warning": Status.WARNING, "critical": Status.CRITICAL}
LAST_LINES = 3
"""How many of the last matching lines the summary shows."""
LINE_CHARS = 200
"""Each shown line is cut to this many characters."""


class LogPattern(BaseModel):
    """A regular expression that makes a line count, and how bad it is."""

    model_config = ConfigDict(extra="forbid")

    regex: Regex = Field(description="Searched in each line, e.g. 'ERROR|Traceback'.")
    severity: Literal["warning", "critical"] = Field(
        default="warning", description="The check's status when a line matches."
    )
    name: str | None = Field(
        default=None, description="A label for the pattern, shown with the last matching line."
    )
    count: int = Field(
        default=1,
        ge=1,
        description="Matches within the check's window that make its status this severity.",
    )


class LogfileSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``logfile``."""

    kind: Literal["logfile"] = Field(description="Log files followed like tail -F.")
    paths: list[str] = Field(
        min_length=1,
        description="Files or globs to follow; include the rotated names (app.log*) so lines "
        "written just before a rotation are not lost. No match at all: warning.",
    )
    patterns: list[LogPattern] = Field(
        min_length=1,
        description="Patterns, each { regex, severity = 'warning' | 'critical', name, count = 1 "
        "(matches within the window that make the status) }; a line matching several counts "
        "once, for the worst.",
    )
    start_at: Literal["end", "start"] = Field(
        default="end",
        description="Where files that exist at the check's first run start: 'end' (like "
        "tail -F) or 'start'. Files appearing later are always read from their start.",
    )
    max_bytes_per_run: Size = Field(
        default=4_000_000,
        gt=0,
        description="Read at most this much per run over all files, shared fairly; "
        "the rest is read on the next run.",
    )
    window: Duration = Field(
        default=300.0,
        gt=0,
        description="Matches are counted over this sliding window: the status holds while "
        "it has enough of them, ok once it is quiet. Kept in the check's state across restarts.",
    )


@dataclass(slots=True)
class _Scan:
    """What one pass over the files found and where it stopped."""

    files: dict[str, list[int]] = field(default_factory=dict)  # path -> [dev, ino, offset]
    counts: list[int] = field(default_factory=list)  # matching lines per pattern (worst first)
    lines: list[tuple[str, str | None]] = field(default_factory=list)  # the last (line, name)
    bytes_read: int = 0
    found_any: bool = False

    @property
    def matches(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class _Window:
    """What the sliding window holds after this run."""

    totals: list[int]  # matches per pattern within the window
    lines: list[list[Any]]  # [at, line, name] of the last matching lines within it

    @property
    def matches(self) -> int:
        return sum(self.totals)


class LogfileCheck(Check):
    """Warning or critical while matching lines keep coming within the window; ok once quiet."""

    Spec = LogfileSpec

    def __init__(self, spec: LogfileSpec) -> None:
        super().__init__(spec)
        self.spec: LogfileSpec = spec
        self._patterns = [
            (re.compile(p.regex), _SEVERITY[p.severity], p.name) for p in spec.patterns
        ]

    @property
    def server(self) -> str | None:
        """None: it reads a local file and opens no connection, so its runs start at once."""
        return None

    async def run(self, ctx: CheckContext) -> list[Observation]:
        first_run = not ctx.state.keys()
        stored: dict[str, list[int]] = ctx.state.get("files") or {}
        scan = await asyncio.to_thread(self.scan, stored, first_run)
        now = ctx.now()
        if scan.files != stored:
            ctx.state.set("files", scan.files)
        ctx.state.set("last_run", now)
        window = self._slide(ctx, scan, now)
        rate = window.matches / (self.spec.window / 60)
        values = {
            "matches": float(scan.matches),
            "bytes_read": float(scan.bytes_read),
            "window_matches": float(window.matches),
            "matches_per_min": rate,
        }
        if not scan.found_any:
            summary = f"no file matches {', '.join(self.spec.paths)}"
            return [self.observe(ctx, Status.WARNING, summary, values)]
        return [self.observe(ctx, self._status(window), self._summary(window, rate), values)]

    def _slide(self, ctx: CheckContext, scan: _Scan, now: float) -> _Window:
        """Add this run's matches to the stored window and drop what has slid out of it.

        Entries written for another number of patterns (the config changed) are dropped."""
        since = now - self.spec.window
        stored = ctx.state.get("window") or []
        kept = [e for e in stored if e[0] > since and len(e[1]) == len(self._patterns)]
        if scan.matches:
            kept.append([now, scan.counts])
        if kept != stored:
            ctx.state.set("window", kept)
        stored_lines = ctx.state.get("lines") or []
        lines = [e for e in stored_lines if e[0] > since]
        lines += [[now, line, name] for line, name in scan.lines]
        lines = lines[-LAST_LINES:]
        if lines != stored_lines:
            ctx.state.set("lines", lines)
        totals = [sum(e[1][i] for e in kept) for i in range(len(self._patterns))]
        return _Window(totals=totals, lines=lines)

    def _status(self, window: _Window) -> Status:
        """The worst severity whose pattern has reached its count within the window."""
        reached = [
            severity
            for (_, severity, _), spec, total in zip(
                self._patterns, self.spec.patterns, window.totals, strict=True
            )
            if total >= spec.count
        ]
        return Status.worst(reached)

    def _summary(self, window: _Window, rate: float) -> str:
        span = format_duration(self.spec.window)
        if window.matches == 0:
            return f"no matching lines in the last {span}"
        plural = "s" if window.matches > 1 else ""
        newest_name = window.lines[-1][2] if window.lines else None
        label = f"last ({newest_name})" if newest_name else "last"
        shown = " | ".join(line for _, line, _ in window.lines)
        return (
            f"{window.matches} matching line{plural} in the last {span} ({rate:.1f}/min), "
            f"{label}: {shown}"
        )

    def scan(self, stored: dict[str, list[int]], first_run: bool) -> _Scan:
        """Read what is new in every matched file (blocking: runs in a worker thread)."""
        scan = _Scan(counts=[0] * len(self._patterns))
        by_inode = {(dev, ino): offset for dev, ino, offset in stored.values()}
        plan: list[tuple[bool, float, str, os.stat_result, int]] = []  # sort key first
        seen: set[tuple[int, int]] = set()
        for path in sorted({p for g in self.spec.paths for p in glob.glob(os.path.expanduser(g))}):
            try:
                st = os.stat(path)
            except OSError:
                continue
            identity = (st.st_dev, st.st_ino)
            if not os.path.isfile(path) or identity in seen:  # a hard link is read once
                continue
            seen.add(identity)
            new = identity not in by_inode
            if not new:
                offset = by_inode[identity]
            else:
                offset = st.st_size if first_run and self.spec.start_at == "end" else 0
            if st.st_size < offset:
                offset = 0  # truncated (or a recycled inode): start over
            plan.append((new, st.st_mtime, path, st, offset))
        scan.found_any = bool(plan)
        allowance = _share(int(self.spec.max_bytes_per_run), [st.st_size - o for *_, st, o in plan])
        # Files already followed first, then oldest first: a rotated file's last lines are
        # read before the first lines of the file that replaced it.
        for (_, _, path, st, offset), allowed in sorted(zip(plan, allowance, strict=True)):
            if allowed > 0:
                offset = self._read(scan, path, st, offset, allowed)
            scan.files[path] = [st.st_dev, st.st_ino, offset]
        return scan

    def _read(self, scan: _Scan, path: str, st: os.stat_result, offset: int, size: int) -> int:
        """Read up to ``size`` bytes from ``offset``, match whole lines; return the new offset."""
        try:
            with open(path, "rb") as handle:
                opened = os.fstat(handle.fileno())
                if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
                    return offset  # rotated between stat and open: sort it out next run
                handle.seek(offset)
                data = handle.read(size)
        except OSError:
            return offset
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) == size < st.st_size - offset:
            end = len(data)  # one line longer than the budget: take it in pieces, keep moving
        if end == 0:
            return offset
        scan.bytes_read += end
        text = data[:end].decode("utf-8", errors="replace").removesuffix("\n")
        for line in text.split("\n"):
            self._match(scan, line.rstrip("\r"))
        return offset + end

    def _match(self, scan: _Scan, line: str) -> None:
        hits = [
            (status, index)
            for index, (regex, status, _) in enumerate(self._patterns)
            if regex.search(line)
        ]
        if hits:
            worst = max(hits, key=lambda hit: hit[0].rank)[1]  # the first of the worst
            scan.counts[worst] += 1
            kept = (line[:LINE_CHARS], self._patterns[worst][2])  # cut before it is stored
            scan.lines = [*scan.lines[-(LAST_LINES - 1) :], kept]


def _share(budget: int, pending: list[int]) -> list[int]:
    """Split ``budget`` bytes over files with ``pending`` bytes each, fairly: a file that needs
    less than an equal share leaves the rest to the others (water filling)."""
    allowance = [0] * len(pending)
    left = budget
    order = sorted(range(len(pending)), key=lambda i: pending[i])
    for rank, index in enumerate(order):
        allowance[index] = min(max(pending[index], 0), left // (len(order) - rank))
        left -= allowance[index]
    return allowance
