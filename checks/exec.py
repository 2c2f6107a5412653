"""``exec``: run a Nagios-compatible plugin and read its verdict, summary and metrics.

The plugins people already have (``check_disk``, ``check_pgsql``, their own scripts) keep
working: the exit code is the status (0 ok, 1 warning, 2 critical, 3 unknown; anything else,
a signal or a program that cannot start is unknown), the first output line (before ``|``) is
the summary, and the performance data become the observation's values (``checks.nagios``
reads them). The command is an argv list written in config, never run by a shell. The plugin
leads its own session, so when it overruns (at 90 % of the check's timeout, so the check can
say so itself) or the run is cancelled, its whole process group is killed. It gets selfreg's
environment without selfreg's own variables and tokens (``SELFREG_*``, ``SLACK_*``), plus
``env``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Literal

from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from checks.nagios import parse_output
from common.commands import AbsolutePath, Argv, EnvTable
from common.units import format_duration

EXIT_STATUS = {0: Status.OK, 1: Status.WARNING, 2: Status.CRITICAL, 3: Status.UNKNOWN}
"""The Nagios plugin exit codes."""
HIDDEN_PREFIXES = ("SELFREG_", "SLACK_")
"""Variables of selfreg's own environment a plugin never sees (tokens, secrets)."""
MAX_OUTPUT = 65536
"""Bytes of a plugin's output (and of its errors) that are kept; plugins print a few lines."""
_REAP_SECONDS = 5.0


class ExecSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``exec``."""

    kind: Literal["exec"] = Field(description="A Nagios-compatible plugin.")
    command: Argv = Field(
        min_length=1,
        description="Program and arguments as a list (argv), never run by a shell, e.g. "
        "['/usr/lib/nagios/plugins/check_disk', '-w', '20%', '-c', '10%', '-p', '/']; "
        "a bare program name is looked up on PATH.",
    )
    cwd: AbsolutePath | None = Field(
        default=None, description="Absolute working folder; default selfreg's."
    )
    env: EnvTable = Field(
        default_factory=dict,
        description="Extra environment variables, added to selfreg's own without its "
        "SELFREG_* and SLACK_* variables.",
    )


class ExecCheck(Check):
    """Run a Nagios plugin: exit code 0 / 1 / 2 / 3 is ok / warning / critical / unknown, the
    first output line the summary, the performance data the metrics."""

    Spec = ExecSpec

    def __init__(self, spec: ExecSpec) -> None:
        super().__init__(spec)
        self.spec: ExecSpec = spec
        self._reported: set[str] = set()  # malformed performance data already logged

    async def run(self, ctx: CheckContext) -> list[Observation]:
        program = self.spec.command[0]
        limit = self.spec.run_timeout * 0.9
        try:
            code, out, err = await self._run(limit)
        except OSError as exc:
            return [self.observe(ctx, Status.UNKNOWN, f"could not start {program}: {exc}")]
        if code is None:
            summary = f"{program} gave no answer within {format_duration(limit)}; killed"
            return [self.observe(ctx, Status.UNKNOWN, summary)]
        output = parse_output(out.decode("utf-8", "replace"))
        for bad in set(output.malformed) - self._reported:  # once each, not every run
            self._reported.add(bad)
            ctx.logger.warning("%s: performance data not understood: %r", self.name, bad[:200])
        values = {d.label: d.value for d in output.perfdata if d.value is not None}
        summary = output.summary or _first_line(err) or f"{program} printed nothing"
        status = EXIT_STATUS.get(code)
        if status is None:
            how = f"killed by signal {-code}" if code < 0 else f"exited {code}"
            status, summary = Status.UNKNOWN, f"{program} {how}: {summary}"
        return [self.observe(ctx, status, summary, values)]

    async def _run(self, limit: float) -> tuple[int | None, bytes, bytes]:
        """Run the plugin; (exit code, stdout, stderr), the code None when it overran."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(HIDDEN_PREFIXES)}
        proc = await asyncio.create_subprocess_exec(
            *self.spec.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.spec.cwd,
            env={**env, **self.spec.env},
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(limit):
                out, err = await proc.communicate()
        except TimeoutError:
            return None, b"", b""
        finally:
            if proc.returncode is None:  # overran, or the run was cancelled
                await kill_group(proc)
        return proc.returncode, out[:MAX_OUTPUT], err[:MAX_OUTPUT]


async def kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the plugin and everything it started, then reap it (bounded)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), _REAP_SECONDS)


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0].strip() if text else ""
