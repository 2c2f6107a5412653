"""``logfile``: follow log files like ``tail -F`` and count lines matching patterns.

Where each file was read up to lives in the check's state under ``files``: path ->
``[st_dev, st_ino, offset]``. A file is known by its inode, not its name, so after a rotation
(``app.log`` renamed ``app.log.1``, a new ``app.log`` created) the old file is read to its end
under its new name if the globs still match it, and the new one from its start. A file shorter
than its offset was truncated and is read again from 0. Only whole lines are consumed: a line
still being written is read on the next run. State is written only through ``ctx.state``, which
the engine commits with the observation, so a dry run (``selfreg health``) never moves offsets.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Regex, Status
from common.units import Size

_SEVERITY = {"warning": Status.WARNING, "critical": Status.CRITICAL}


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


class LogfileSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``logfile``."""

    kind: Literal["logfile"] = Field(description="Log files followed like tail -F.")
    paths: list[str] = Field(
        min_length=1,
        description="Files or globs to follow; include the rotated names (app.log*) so lines "
        "written just before a rotation are not lost. No match at all: warning.",
    )
    patterns: list[LogPattern] = Field(
        min_length=1, description="Patterns; a line matching several counts once, worst first."
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


@dataclass(slots=True)
class _Scan:
    """What one pass over the files found and where it stopped."""

    files: dict[str, list[int]] = field(default_factory=dict)  # path -> [dev, ino, offset]
    matches: int = 0
    status: Status = Status.OK
    last_line: str = ""
    last_name: str | None = None  # the name of the worst pattern the last line matched
    bytes_read: int = 0
    found_any: bool = False


class LogfileCheck(Check):
    """Warning or critical when new lines match a pattern; ok when none did."""

    Spec = LogfileSpec

    def __init__(self, spec: LogfileSpec) -> None:
        super().__init__(spec)
        self.spec: LogfileSpec = spec
        self._patterns = [
            (re.compile(p.regex), _SEVERITY[p.severity], p.name) for p in spec.patterns
        ]

    async def run(self, ctx: CheckContext) -> list[Observation]:
        first_run = not ctx.state.keys()
        stored: dict[str, list[int]] = ctx.state.get("files") or {}
        scan = await asyncio.to_thread(self.scan, stored, first_run)
        now, last_run = ctx.now(), ctx.state.get("last_run")
        if scan.files != stored:
            ctx.state.set("files", scan.files)
        ctx.state.set("last_run", now)

        values = {"matches": float(scan.matches), "bytes_read": float(scan.bytes_read)}
        if last_run is not None and now > last_run:
            values["matches_per_min"] = scan.matches / ((now - last_run) / 60)
        if not scan.found_any:
            summary = f"no file matches {', '.join(self.spec.paths)}"
            return [self.observe(ctx, Status.WARNING, summary, values)]
        if scan.matches == 0:
            summary = f"no matching lines ({scan.bytes_read} bytes read)"
        else:
            plural = "s" if scan.matches > 1 else ""
            label = f"last ({scan.last_name})" if scan.last_name else "last"
            summary = f"{scan.matches} matching line{plural}, {label}: {scan.last_line[:200]}"
        return [self.observe(ctx, scan.status, summary, values)]

    def scan(self, stored: dict[str, list[int]], first_run: bool) -> _Scan:
        """Read what is new in every matched file (blocking: runs in a worker thread)."""
        scan = _Scan()
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
        hits = [(status, name) for regex, status, name in self._patterns if regex.search(line)]
        if hits:
            worst = max(hits, key=lambda hit: hit[0].rank)  # the first of the worst
            scan.matches += 1
            scan.status = Status.worst([scan.status, worst[0]])
            scan.last_line, scan.last_name = line, worst[1]


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
