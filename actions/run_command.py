"""``run_command``: run one configured argv, capture its output, kill it when it overruns.

The command is a list written in config and handed to ``exec`` as is: no shell ever sees it,
and nothing from a request is added to it. The child leads its own session, so a timeout (or a
cancelled run) kills it together with everything it started. Its output goes to a pipe this
module owns and closes itself: asyncio's own ``wait()`` would also wait for a pipe that a
descendant which left the session still holds. Only the tail of the output is kept, both while
it runs and in the result: that is where an error usually is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import Literal

from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec
from common.commands import AbsolutePath, Argv, EnvTable
from common.units import format_duration

KEEP_CHARS = 3000
_KEEP_BYTES = KEEP_CHARS * 4  # a UTF-8 character takes at most 4 bytes
_REAP_SECONDS = 5.0  # after SIGKILL the command is gone at once unless the kernel is stuck


class RunCommandSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``run_command``."""

    kind: Literal["run_command"] = Field(description='Always "run_command".')
    command: Argv = Field(
        min_length=1, description="Program and arguments as a list (argv); never run by a shell."
    )
    cwd: AbsolutePath | None = Field(
        default=None, description="Absolute working folder; default selfreg's."
    )
    env: EnvTable = Field(
        default_factory=dict, description="Extra environment variables, added to selfreg's own."
    )


def trim_tail(data: bytes, total: int) -> str:
    """The last ``KEEP_CHARS`` characters of the output, with a first line saying what was cut."""
    text = data.decode("utf-8", "replace")
    if total <= len(data) and len(text) <= KEEP_CHARS:
        return text
    return f"[… cut: the last {KEEP_CHARS:,} characters of {total:,} bytes]\n{text[-KEEP_CHARS:]}"


class RunCommand(Action):
    """Run the configured command once; ok when it exits 0 within ``timeout``."""

    Spec = RunCommandSpec

    def __init__(self, spec: RunCommandSpec) -> None:
        super().__init__(spec)
        self.spec: RunCommandSpec = spec

    def describe(self) -> str:
        return f"run {self.spec.command!r}"

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec = self.spec
        if dry_run:
            where = f" in {spec.cwd}" if spec.cwd else ""
            return ActionResult(ok=True, summary=f"would run {spec.command!r}{where}")
        started = time.monotonic()
        read_end, write_end = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *spec.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_end)
            return ActionResult(ok=False, summary=f"could not start {spec.command[0]}: {exc}")
        finally:
            os.close(write_end)
        tail, total, timed_out = await _drain(proc, read_end, spec.timeout)
        code, took = proc.returncode, format_duration(time.monotonic() - started)
        ctx.logger.info("run_command %s: exit %s after %s", spec.name, code, took)
        ok = code == 0 and not timed_out
        output = trim_tail(bytes(tail), total)
        return ActionResult(
            ok=ok, summary=_summary(spec, code, took, timed_out), output=output, exit_code=code
        )


async def _drain(
    proc: asyncio.subprocess.Process, read_end: int, timeout: float
) -> tuple[bytearray, int, bool]:
    """Read the output pipe until the command exits, keeping its tail; a command that overruns
    ``timeout`` (or whose run is cancelled) is killed with its whole process group and reaped.
    Returns the tail, the byte count and whether it timed out."""
    reader = asyncio.StreamReader()
    pipe, _ = await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_end, "rb", 0)
    )
    tail, total, timed_out = bytearray(), 0, False
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                total += len(chunk)
                tail = (tail + chunk)[-_KEEP_BYTES:]
            await proc.wait()
    except TimeoutError:
        timed_out = True
    finally:
        pipe.close()
        if timed_out or proc.returncode is None:  # overran, or the run was cancelled
            with contextlib.suppress(ProcessLookupError):  # else all of it has exited
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), _REAP_SECONDS)
    return tail, total, timed_out


def _summary(spec: RunCommandSpec, code: int | None, took: str, timed_out: bool) -> str:
    """How the run ended, in one line for the thread."""
    if timed_out:
        return f"{spec.command!r} timed out after {format_duration(spec.timeout)}; killed"
    if code is not None and code < 0:
        return f"{spec.command!r} was killed by signal {-code}"
    return f"{spec.command!r} exited {code} after {took}"
