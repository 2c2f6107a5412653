"""The ``exec`` check running real small plugins: exit codes, summary, metrics, environment,
no shell, and a plugin that overruns killed together with what it started."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
from pydantic import ValidationError

from checks.base import Observation, Status
from checks.exec import ExecCheck, ExecSpec
from tests.support.check_context import make_context


def plugin(folder: Path, body: str, name: str = "check_demo") -> str:
    """An executable Python plugin script in ``folder``; returns its path."""
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport os, sys, time, subprocess\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def run(http: aiohttp.ClientSession, command: list[str], **fields: Any) -> Observation:
    check = ExecCheck(ExecSpec(kind="exec", name="demo", command=command, **fields))
    (observation,) = await check.run(make_context(http))
    return observation


@pytest.mark.parametrize(
    ("code", "status"),
    [(0, Status.OK), (1, Status.WARNING), (2, Status.CRITICAL), (3, Status.UNKNOWN)],
)
async def test_the_exit_code_is_the_status(
    http: aiohttp.ClientSession, tmp_path: Path, code: int, status: Status
) -> None:
    script = plugin(tmp_path, f"print('DEMO {status.name} - said so'); sys.exit({code})")

    observation = await run(http, [script])

    assert (observation.status, observation.summary) == (status, f"DEMO {status.name} - said so")


async def test_the_first_line_is_the_summary_and_the_perfdata_the_values(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    script = plugin(
        tmp_path,
        "print(\"DISK WARNING - free space: / 3326 MB (56%); | '/ used'=2643MB;2000;5958;0;5968\")\n"
        "print('/boot 68 MB (69%); | /boot=68MB;88;93;0;98 time=12ms')\n"
        "print('inodes=40%;80;90')\n"
        "sys.exit(1)",
    )

    observation = await run(http, [script])

    assert observation.status is Status.WARNING
    assert observation.summary == "DISK WARNING - free space: / 3326 MB (56%);"
    assert observation.values == {
        "/ used": 2643 * 1024**2,
        "/boot": 68 * 1024**2,
        "time": pytest.approx(0.012),
        "inodes": 40.0,
    }


async def test_an_exit_code_outside_the_four_is_unknown_and_says_so(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    script = plugin(tmp_path, "print('half done', file=sys.stderr); sys.exit(7)")

    observation = await run(http, [script])

    assert observation.status is Status.UNKNOWN
    assert observation.summary == f"{script} exited 7: half done"


async def test_a_program_that_cannot_start_is_unknown(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    observation = await run(http, [str(tmp_path / "check_missing")])

    assert observation.status is Status.UNKNOWN
    assert observation.summary.startswith(f"could not start {tmp_path}/check_missing: ")


async def test_arguments_reach_the_plugin_as_written_never_through_a_shell(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    script = plugin(tmp_path, "print('OK - ' + ' '.join(sys.argv[1:]))")

    observation = await run(http, [script, "$(touch pwned)", "; rm -rf /", "*"], cwd=str(tmp_path))

    assert observation.summary == "OK - $(touch pwned) ; rm -rf / *"
    assert not (tmp_path / "pwned").exists()


async def test_it_passes_env_and_hides_selfregs_own_variables(
    http: aiohttp.ClientSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SELFREG_WEB_TOKEN", "secret")
    script = plugin(
        tmp_path,
        "names = [n for n in os.environ if n.startswith(('SLACK_', 'SELFREG_'))]\n"
        "print(f\"OK - {os.environ['DEMO_LEVEL']} {names} {os.getcwd()}\")",
    )

    observation = await run(http, [script], env={"DEMO_LEVEL": "3"}, cwd=str(tmp_path))

    assert observation.summary == f"OK - 3 [] {tmp_path}"


async def test_a_plugin_that_overruns_is_killed_with_everything_it_started(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    script = plugin(
        tmp_path,
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)",
    )

    observation = await run(http, [script], interval="10s", timeout="1s")

    assert observation.status is Status.UNKNOWN
    assert observation.summary == f"{script} gave no answer within 900ms; killed"
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5  # SIGKILL is quick; bounded all the same
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(pid), f"pid {pid} outlived the timeout"


def gone(pid: int) -> bool:
    """Dead, or dead and not yet reaped by its parent."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_its_spec_refuses_an_empty_program_and_a_relative_folder() -> None:
    with pytest.raises(ValidationError, match="the program"):
        ExecSpec(kind="exec", name="x", command=[" "])
    with pytest.raises(ValidationError, match="absolute"):
        ExecSpec(kind="exec", name="x", command=["check_disk"], cwd="plugins")
    assert os.path.isabs(ExecSpec(kind="exec", name="x", command=["a"], cwd="/tmp").cwd or "")


async def test_performance_data_it_cannot_read_is_logged_once_and_the_rest_kept(
    http: aiohttp.ClientSession, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = plugin(tmp_path, "print('OK - fine | load=0.5 speed=fast')")
    check = ExecCheck(ExecSpec(kind="exec", name="demo", command=[script]))

    runs = [(await check.run(make_context(http)))[0] for _ in range(2)]

    assert [o.values for o in runs] == [{"load": 0.5}] * 2
    assert [r.getMessage() for r in caplog.records] == [
        "demo: performance data not understood: 'speed=fast'"
    ]
