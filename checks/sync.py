"""``sync``: keep a shared folder in step with the other side through rsync, as a check.

A ``[[sync]]`` entry is this check with its own table (``bot/config/schema.py`` moves it to
the checks): each run *is* one sync, so a failed sync is a failing check and opens an incident
like any other, and a sync that overruns its ``timeout`` is killed and reported ``unknown``.
Each run's files, bytes, duration and exit status are its values; the engine also keeps them
as a ``sync_runs`` row (``bot/engine/sync_runs.py``).

Safe by default: nothing on the destination is deleted unless ``delete = true``, and a source
that is missing or empty is refused rather than mirrored (with ``--delete`` that is how a
backup folder gets wiped; without it, a run that copies nothing must not look like a good one).
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator

from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from checks.rsync import (
    error_line,
    is_remote,
    list_argv,
    listed_entries,
    parse_stats,
    run_rsync,
    sync_argv,
)
from common.units import Duration, format_duration

VANISHED = 24  # rsync: some source files vanished during the run (logs rotate): a warning


class SyncSpec(CheckSpec):
    """A ``[[sync]]`` entry (or a ``[[checks]]`` entry of kind ``sync``)."""

    kind: Literal["sync"] = "sync"
    source: str = Field(description="Folder copied from: a local path, or host:path over ssh.")
    destination: str = Field(description="Folder copied into: a local path, or host:path.")
    direction: Literal["push", "pull"] = Field(
        default="push",
        description="push: the source is on this side (local); pull: the destination is.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="rsync --exclude patterns, e.g. ['*.tmp']."
    )
    delete: bool = Field(
        default=False,
        description="Also delete on the destination what the source no longer has.",
    )
    interval: Duration = Field(default=600.0, gt=0, description="How often the sync runs.")
    timeout: Duration | None = Field(
        default=300.0, gt=0, description="A sync still running after this is killed: unknown."
    )
    overdue: Duration | None = Field(
        default=None,
        gt=0,
        description="A sync with no good run for this long is overdue: a run that fails then is "
        "critical whatever the failure (a killed run too), and a good run after such a gap (a "
        "sync missed while selfreg was down) says so. Default: three intervals.",
    )
    rsync: str = Field(default="rsync", description="The rsync program (checked at start).")
    ssh: str = Field(
        default="ssh -o BatchMode=yes",
        description="rsync's remote shell for host:path (--rsh); never asks for a password.",
    )

    @property
    def overdue_after(self) -> float:
        """How old the last good sync may be before the sync is overdue."""
        return self.overdue if self.overdue is not None else 3 * self.interval

    @model_validator(mode="after")
    def _direction_matches_paths(self) -> SyncSpec:
        here = self.source if self.direction == "push" else self.destination
        if is_remote(here):
            side = "source" if self.direction == "push" else "destination"
            raise ValueError(f"direction {self.direction!r} needs a local {side}, not {here!r}")
        for place in (self.source, self.destination):
            if not is_remote(place) and not os.path.isabs(place):
                raise ValueError(f"{place!r} must be an absolute path or host:path")
        return self


class SyncCheck(Check):
    """One rsync run per interval; critical when it fails or the source is missing or empty."""

    Spec = SyncSpec

    def __init__(self, spec: SyncSpec) -> None:
        super().__init__(spec)
        self.spec: SyncSpec = spec

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        limit = max(spec.run_timeout * 0.9, 0.05)
        io_timeout = max(int(limit), 1)
        refusal = await self._source_refusal(limit, io_timeout)
        if refusal is not None:
            return self._failed(ctx, Status.CRITICAL, refusal, {"refused": 1})
        argv = sync_argv(spec, io_timeout)
        started = ctx.now()
        run = await run_rsync(argv, limit)
        duration = ctx.now() - started
        if run.code is None:
            reason = f"rsync still running after {format_duration(limit)}; killed"
            return self._failed(ctx, Status.UNKNOWN, reason, {})
        found = {**parse_stats(run.out), "duration": duration, "exit_status": float(run.code)}
        if run.code not in (0, VANISHED):
            reason = f"rsync exited {run.code}: {error_line(run.err)}"
            return self._failed(ctx, Status.CRITICAL, reason, found)
        gap = self._since_good(ctx)
        ctx.state.set("last_ok", ctx.now())
        files, size = int(found.get("files", 0)), int(found.get("bytes", 0))
        line = f"{spec.source} → {spec.destination}: {files} files, {size} bytes in "
        line += format_duration(duration)
        if gap is not None and gap > spec.overdue_after:
            line += f" (caught up: no good sync for {format_duration(gap, 'sentence')} before)"
        if run.code == VANISHED:
            return [self.observe(ctx, Status.WARNING, line + " (some files vanished)", found)]
        return [self.observe(ctx, Status.OK, line, found)]

    async def _source_refusal(self, limit: float, io_timeout: int) -> str | None:
        """Why the source must not be mirrored (missing, empty), or None when it may."""
        source = self.spec.source
        if not is_remote(source):
            if not os.path.isdir(source):
                return f"source {source} is missing; refusing to sync"
            with os.scandir(source) as entries:
                if next(entries, None) is None:
                    return f"source {source} is empty; refusing to mirror an empty folder"
            return None
        run = await run_rsync(list_argv(self.spec.rsync, source, self.spec.ssh, io_timeout), limit)
        if run.code != 0:
            return f"source {source} cannot be listed ({error_line(run.err)}); refusing to sync"
        if listed_entries(run.out) == 0:
            return f"source {source} is empty; refusing to mirror an empty folder"
        return None

    def _since_good(self, ctx: CheckContext) -> float | None:
        """Seconds since the last good sync (kept across restarts); None before the first."""
        last = ctx.state.get("last_ok")
        return None if last is None else ctx.now() - float(last)

    def _failed(
        self, ctx: CheckContext, status: Status, reason: str, found: dict[str, float]
    ) -> list[Observation]:
        """A failed run: the reason and the last good sync; critical once the sync is overdue."""
        gap = self._since_good(ctx)
        if gap is None:
            return [self.observe(ctx, status, f"{reason} (no good sync yet)", found)]
        ago = format_duration(gap, "sentence")
        if gap > self.spec.overdue_after:
            line = f"{reason} (overdue: last good sync {ago} ago)"
            return [self.observe(ctx, Status.CRITICAL, line, found)]
        return [self.observe(ctx, status, f"{reason} (last good sync {ago} ago)", found)]
