"""``signal_process``: send a signal to the processes a ``process`` check matched.

The pids come from the check's latest run (``ctx.matched_pids``), never from the request, and
the signal from a short closed list. Pids 0 and 1, negative pids (process groups) and selfreg's
own pid are never signalled: ``os.kill`` would reach a whole group, init, or ourselves.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, field_validator

from actions.base import Action, ActionContext, ActionResult, ActionSpec

SignalName = Literal["TERM", "HUP", "INT", "KILL", "USR1", "USR2", "QUIT"]


class SignalProcessSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``signal_process``."""

    kind: Literal["signal_process"] = Field(description='Always "signal_process".')
    check: str = Field(min_length=1, description="The process check whose matches get the signal.")
    signal: SignalName = Field(
        default="TERM",
        description="TERM, HUP, INT, KILL, USR1, USR2 or QUIT (SIG prefix optional).",
    )

    @field_validator("signal", mode="before")
    @classmethod
    def _bare_name(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper().removeprefix("SIG")
        return value


def safe_pids(pids: Iterable[int]) -> list[int]:
    """The pids that may be acted on: single processes other than init and selfreg itself."""
    own = os.getpid()
    return sorted({pid for pid in pids if pid > 1 and pid != own})


class SignalProcess(Action):
    """Signal every pid the named process check matched on its latest run."""

    Spec = SignalProcessSpec
    needs_target = "check"

    def __init__(self, spec: SignalProcessSpec) -> None:
        super().__init__(spec)
        self.spec: SignalProcessSpec = spec

    def describe(self) -> str:
        return f"send SIG{self.spec.signal} to {self.spec.check}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec = self.spec
        pids = safe_pids(ctx.matched_pids(spec.check))
        if not pids:
            return ActionResult(ok=False, summary=f"no process matched by check {spec.check}")
        listed = ", ".join(map(str, pids))
        if dry_run:
            return ActionResult(ok=True, summary=f"would send SIG{spec.signal} to pids {listed}")
        number = signal.Signals[f"SIG{spec.signal}"]
        sent, gone, failed = [], [], []
        for pid in pids:
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                gone.append(pid)
            except OSError as exc:
                failed.append(f"pid {pid}: {exc.strerror or exc}")
            else:
                sent.append(pid)
        parts = [f"sent SIG{spec.signal} to pids {', '.join(map(str, sent))}"] if sent else []
        if gone:
            parts.append(f"already gone: {', '.join(map(str, gone))}")
        parts.extend(failed)
        ok = bool(sent) and not failed
        ctx.logger.info(
            "signal_process %s: sent=%s gone=%s failed=%s", spec.name, sent, gone, failed
        )
        return ActionResult(ok=ok, summary="; ".join(parts))
