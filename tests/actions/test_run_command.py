"""``run_command`` with real programs: output, exit codes, timeouts, huge output, no shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from pydantic import ValidationError

from actions.run_command import KEEP_CHARS, RunCommand, RunCommandSpec
from tests.support.action_context import RealActionContext

PY = sys.executable
# Starts a grandchild in the same process group, records its pid, then both sleep.
FORKS = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "open(sys.argv[1], 'w').write(str(child.pid))\n"
    "print('started', flush=True); time.sleep(60)"
)

# The same, but the grandchild leaves the group (a new session) and keeps the output pipe open.
ESCAPES = FORKS.replace("time.sleep(60)'])", "time.sleep(60)'], start_new_session=True)")


def command(argv: list[str], **fields: Any) -> RunCommand:
    return RunCommand(RunCommandSpec(name="fix", kind="run_command", command=argv, **fields))


async def test_it_captures_stdout_and_stderr_together(ctx: RealActionContext) -> None:
    code = "import sys; print('to out', flush=True); print('to err', file=sys.stderr)"
    result = await command([PY, "-c", code]).execute(ctx, dry_run=False)
    assert result.ok and result.exit_code == 0
    assert result.output == "to out\nto err\n"
    assert result.summary.startswith(f"{[PY, '-c', code]!r} exited 0 after ")


async def test_a_nonzero_exit_is_a_failure_with_its_code(ctx: RealActionContext) -> None:
    result = await command([PY, "-c", "print('bad'); raise SystemExit(3)"]).execute(
        ctx, dry_run=False
    )
    assert not result.ok and result.exit_code == 3 and result.output == "bad\n"


async def test_arguments_reach_the_program_unchanged_and_no_shell_sees_them(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    hostile = ["$(touch pwned)", "; touch pwned", "*", "`touch pwned`", "a b", "'q'"]
    argv = [PY, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *hostile]
    result = await command(argv, cwd=str(tmp_path)).execute(ctx, dry_run=False)
    assert result.ok and json.loads(result.output) == hostile
    assert list(tmp_path.iterdir()) == []


async def test_extra_environment_and_the_folder_reach_the_program(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    code = (
        "import os; print(os.getcwd()); print(os.environ['SELFREG_TEST'], os.environ['PATH'] != '')"
    )
    result = await command(
        [PY, "-c", code], cwd=str(tmp_path), env={"SELFREG_TEST": "yes"}
    ).execute(ctx, dry_run=False)
    assert result.output == f"{tmp_path.resolve()}\nyes True\n"


async def test_an_overrun_kills_the_command_and_everything_it_started(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    pid_file = tmp_path / "grandchild.pid"
    result = await command([PY, "-c", FORKS, str(pid_file)], timeout="1s").execute(
        ctx, dry_run=False
    )
    assert not result.ok and result.exit_code == -9
    assert result.summary.endswith("timed out after 1s; killed")
    assert result.output == "started\n"
    grandchild = int(pid_file.read_text())
    for _ in range(100):  # orphaned, it is reaped by init (or stays a zombie): dead either way
        try:
            if psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        await asyncio.sleep(0.05)
    else:
        psutil.Process(grandchild).kill()
        pytest.fail("the grandchild outlived the timeout")


async def test_a_descendant_that_left_the_group_cannot_hold_the_run_past_its_timeout(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    pid_file = tmp_path / "escaped.pid"
    action = command([PY, "-c", ESCAPES, str(pid_file)], timeout="1s")
    try:
        result = await asyncio.wait_for(action.execute(ctx, dry_run=False), 10)
        assert not result.ok and result.exit_code == -9
        assert result.summary.endswith("timed out after 1s; killed")
    finally:
        with contextlib.suppress(psutil.NoSuchProcess, ValueError, OSError):
            psutil.Process(int(pid_file.read_text())).kill()


async def test_huge_output_keeps_the_tail_and_marks_the_cut(ctx: RealActionContext) -> None:
    code = "import sys; sys.stdout.write('x' * 5_000_000); print('THE END')"
    result = await command([PY, "-c", code]).execute(ctx, dry_run=False)
    assert result.ok
    head, _, tail = result.output.partition("\n")
    assert head == f"[… cut: the last {KEEP_CHARS:,} characters of 5,000,008 bytes]"
    assert len(tail) == KEEP_CHARS and tail.endswith("xTHE END\n")


async def test_a_missing_program_is_a_failure(ctx: RealActionContext) -> None:
    result = await command(["/nonexistent/selfreg-fix"]).execute(ctx, dry_run=False)
    assert not result.ok and result.summary.startswith("could not start /nonexistent/selfreg-fix")


async def test_a_dry_run_says_what_it_would_run_and_runs_nothing(
    ctx: RealActionContext, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    argv = [PY, "-c", "import sys; open(sys.argv[1], 'w')", str(marker)]
    result = await command(argv).execute(ctx, dry_run=True)
    assert result.ok and result.summary == f"would run {argv!r}"
    await asyncio.sleep(0.2)
    assert not marker.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"command": "rm -rf /tmp/x"},
        {"command": []},
        {"command": [""]},
        {"command": ["ls"], "cwd": "relative/dir"},
        {"command": ["ls"], "env": {"A=B": "c"}},
        {"command": ["ls"], "shell": True},
    ],
)
def test_config_takes_only_an_argv_list(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RunCommandSpec(name="fix", kind="run_command", **fields)
