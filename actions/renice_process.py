"""``renice_process``: lower the CPU (and optionally I/O) priority of what a check matched.

Meant for a runaway process that should keep running, only slower. It only ever lowers a
priority: a process already at or past the configured niceness, or already in a lower I/O
class, is left as it is, so a run can never make anything more important.
"""

from __future__ import annotations

from typing import Literal

import psutil
from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec
from actions.signal_process import safe_pids


class ReniceProcessSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``renice_process``."""

    kind: Literal["renice_process"] = Field(description='Always "renice_process".')
    check: str = Field(min_length=1, description="The process check whose matches are reniced.")
    nice: int = Field(
        default=10, ge=1, le=19, description="Niceness to set (1-19; higher is lower)."
    )
    ionice: Literal["idle", "best-effort-7"] | None = Field(
        default=None, description="Also lower the I/O class: idle, or best-effort at level 7."
    )


def _lower_io(process: psutil.Process, wanted: str) -> str:
    """Move the process to the wanted I/O class unless it is already as low; says what it did."""
    current = process.ionice()
    if current.ioclass == psutil.IOPRIO_CLASS_IDLE:
        return "ionice already idle"
    if wanted == "idle":
        process.ionice(psutil.IOPRIO_CLASS_IDLE)
        return "ionice idle"
    if current.ioclass == psutil.IOPRIO_CLASS_BE and current.value == 7:
        return "ionice already best-effort-7"
    process.ionice(psutil.IOPRIO_CLASS_BE, 7)
    return "ionice best-effort-7"


class ReniceProcess(Action):
    """Raise the niceness of every pid the named process check matched on its latest run."""

    Spec = ReniceProcessSpec
    needs_target = "check"

    def __init__(self, spec: ReniceProcessSpec) -> None:
        super().__init__(spec)
        self.spec: ReniceProcessSpec = spec

    def describe(self) -> str:
        io = f", ionice {self.spec.ionice}" if self.spec.ionice else ""
        return f"renice {self.spec.check} to {self.spec.nice}{io}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec = self.spec
        pids = safe_pids(ctx.matched_pids(spec.check))
        if not pids:
            return ActionResult(ok=False, summary=f"no process matched by check {spec.check}")
        io = f", ionice {spec.ionice}" if spec.ionice else ""
        if dry_run:
            listed = ", ".join(map(str, pids))
            return ActionResult(
                ok=True, summary=f"would renice pids {listed} to nice {spec.nice}{io}"
            )
        lines, handled, failed = [], 0, 0
        for pid in pids:
            try:
                lines.append(f"pid {pid}: {self._renice(pid)}")
                handled += 1
            except psutil.NoSuchProcess:
                lines.append(f"pid {pid}: already gone")
            except (psutil.AccessDenied, OSError) as exc:
                lines.append(f"pid {pid}: {exc}")
                failed += 1
        summary = f"reniced {handled} of {len(pids)} processes to nice {spec.nice}{io}"
        return ActionResult(ok=handled > 0 and not failed, summary=summary, output="\n".join(lines))

    def _renice(self, pid: int) -> str:
        """Lower one process's priority; says what changed and what was already low enough."""
        process = psutil.Process(pid)
        current = process.nice()
        if current >= self.spec.nice:
            done = [f"nice already {current}"]
        else:
            process.nice(self.spec.nice)
            done = [f"nice {current} -> {self.spec.nice}"]
        if self.spec.ionice:
            if not hasattr(process, "ionice"):
                raise OSError("ionice is not supported on this platform")
            done.append(_lower_io(process, self.spec.ionice))
        return ", ".join(done)
