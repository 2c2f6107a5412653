"""The ``process`` check against real child processes, really killed and replaced."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest
from pydantic import ValidationError

from bot.engine.proctable import ProcessTableCache
from checks.base import Observation, Status
from checks.process import ProcessCheck, ProcessSpec
from tests.support.check_context import commit, make_context

SLEEPER = "import time; print('ready', flush=True); time.sleep(30)"
SPINNER = "print('ready', flush=True)\nwhile True: pass"
LISTENER = (
    "import socket, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    "print(s.getsockname()[1], flush=True); time.sleep(30)"
)

Spawn = Callable[..., tuple[subprocess.Popen[str], str]]


@pytest.fixture
def marker() -> str:
    return f"proc-check-{uuid.uuid4().hex}"


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start real children with a marker argument; returns (child, first printed line)."""
    children: list[subprocess.Popen[str]] = []

    def start(marker: str, code: str = SLEEPER) -> tuple[subprocess.Popen[str], str]:
        child = subprocess.Popen(
            [sys.executable, "-c", code, marker], stdout=subprocess.PIPE, text=True
        )
        children.append(child)
        assert child.stdout is not None
        return child, child.stdout.readline().strip()  # printed once the child runs

    yield start
    for child in children:
        child.kill()
        child.wait(timeout=10)


def stop(child: subprocess.Popen[str]) -> None:
    child.kill()
    child.wait(timeout=10)


def check_of(**fields: Any) -> ProcessCheck:
    return ProcessCheck(ProcessSpec(kind="process", name="worker", **fields))


async def run(
    check: ProcessCheck,
    http: aiohttp.ClientSession,
    cache: ProcessTableCache | None = None,
    committed: dict[str, Any] | None = None,
) -> tuple[Observation, dict[str, Any]]:
    """One run on a fresh snapshot; returns its observation and the state it commits."""
    view = (cache or ProcessTableCache()).snapshot()
    ctx = make_context(http, committed=committed, processes=view, name=check.name)
    (observation,) = await check.run(ctx)
    return observation, commit(ctx.state)


async def test_it_counts_the_processes_whose_command_line_matches(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    first, _ = spawn(marker)
    second, _ = spawn(marker)

    observation, _ = await run(check_of(cmdline=re.escape(marker)), http)

    assert observation.status is Status.OK
    assert observation.values["count"] == 2
    assert observation.values["restarts"] == 0
    assert observation.values["rss"] > 2_000_000
    assert observation.values["threads"] >= 2
    assert observation.values["open_files"] >= 3
    assert 0 <= observation.values["uptime"] < 60
    low, high = sorted([first.pid, second.pid])
    assert observation.summary.startswith(f"2 processes (pid {low}, {high}), cpu ")


async def test_it_is_critical_when_no_process_matches(
    http: aiohttp.ClientSession, marker: str
) -> None:
    observation, _ = await run(check_of(cmdline=marker), http)

    assert observation.status is Status.CRITICAL
    assert observation.summary == f"no process matches cmdline={marker} (expected at least 1)"
    assert observation.values["count"] == 0


async def test_it_matches_on_the_exact_name_and_the_command_line_together(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    child, _ = spawn(marker)
    name = psutil.Process(child.pid).name()

    matched, _ = await run(check_of(process_name=name, cmdline=marker), http)
    other_name, _ = await run(check_of(process_name=name + "x", cmdline=marker), http)

    assert matched.values["count"] == 1
    assert other_name.status is Status.CRITICAL


async def test_it_reports_a_restart_when_a_matched_process_is_replaced(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    cache, check = ProcessTableCache(), check_of(cmdline=marker)
    old, _ = spawn(marker)
    first, committed = await run(check, http, cache)
    stop(old)
    new, _ = spawn(marker)

    second, committed = await run(check, http, cache, committed)
    third, _ = await run(check, http, cache, committed)

    assert first.status is Status.OK
    assert second.status is Status.WARNING
    assert second.values["restarts"] == 1
    assert f"restarted (pid {old.pid} → {new.pid})" in second.summary
    assert (third.status, third.values["restarts"]) == (Status.OK, 0)


async def test_a_process_that_stopped_without_a_replacement_is_no_restart(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    cache, check = ProcessTableCache(), check_of(cmdline=marker, count={"min": 0})
    first, _ = spawn(marker)
    second, _ = spawn(marker)
    _, committed = await run(check, http, cache)
    stop(first)

    observation, _ = await run(check, http, cache, committed)

    assert observation.status is Status.OK
    assert observation.values["count"] == 1
    assert observation.values["restarts"] == 0
    assert f"pid {second.pid}" in observation.summary


async def test_it_keeps_no_state_write_while_the_same_processes_run(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    cache, check = ProcessTableCache(), check_of(cmdline=marker)
    child, _ = spawn(marker)
    _, committed = await run(check, http, cache)
    view = cache.snapshot()
    ctx = make_context(http, committed=committed, processes=view)

    await check.run(ctx)

    assert committed["pids"] == [[child.pid, psutil.Process(child.pid).create_time()]]
    assert ctx.state.pending == {}


async def test_it_matches_the_process_listening_on_a_port(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    child, port = spawn(marker, LISTENER)
    spawn(marker)  # same command line, no socket

    by_port, _ = await run(check_of(port=int(port)), http)
    by_both, _ = await run(check_of(port=int(port), cmdline=marker), http)
    wrong_command, _ = await run(check_of(port=int(port), cmdline=marker + "-other"), http)

    assert by_port.values["count"] == 1
    assert f"pid {child.pid}" in by_port.summary
    assert by_both.values["count"] == 1
    assert wrong_command.status is Status.CRITICAL


async def test_it_watches_the_pid_written_in_a_pidfile(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str, tmp_path: Path
) -> None:
    child, _ = spawn(marker)
    spawn(marker)
    pidfile = tmp_path / "worker.pid"
    pidfile.write_text(f"{child.pid}\n")

    watched, _ = await run(check_of(pidfile=str(pidfile)), http)
    pidfile.unlink()
    missing, _ = await run(check_of(pidfile=str(pidfile)), http)

    assert watched.values["count"] == 1
    assert f"pid {child.pid}" in watched.summary
    assert missing.status is Status.CRITICAL
    assert missing.summary.startswith("no process matches pidfile=")


async def test_it_never_matches_selfreg_itself(http: aiohttp.ClientSession) -> None:
    own = psutil.Process(os.getpid())
    # anchored: another pytest on the machine may run with a longer command line
    check = check_of(process_name=own.name(), cmdline=f"^{re.escape(' '.join(own.cmdline()))}$")

    observation, _ = await run(check, http)

    # another session may run this very pytest command line: those are found, this one never
    twins = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if p.pid != own.pid and p.info["cmdline"] == own.cmdline()
    ]
    assert observation.values["count"] == len(twins)
    assert f"pid {own.pid}" not in observation.summary
    if not twins:
        assert observation.status is Status.CRITICAL


async def test_it_warns_when_a_process_passes_its_memory_limit(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    child, _ = spawn(marker)

    observation, _ = await run(check_of(cmdline=marker, rss={"warn": "1MB"}), http)

    assert observation.status is Status.WARNING
    assert re.search(rf"pid {child.pid} rss \d+ MB \(warning\)", observation.summary)


async def test_it_judges_cpu_from_the_second_run_on(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    cache, check = ProcessTableCache(), check_of(cmdline=marker, cpu={"warn": "20%"})
    spawn(marker, SPINNER)

    first, committed = await run(check, http, cache)
    await asyncio.sleep(0.5)
    second, _ = await run(check, http, cache, committed)

    assert (first.status, first.values["cpu_percent"]) == (Status.OK, 0.0)
    assert second.status is Status.WARNING
    assert second.values["cpu_percent"] > 20


async def test_it_warns_when_more_processes_run_than_allowed(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    spawn(marker)
    spawn(marker)

    observation, _ = await run(check_of(cmdline=marker, count={"max": 1}), http)

    assert observation.status is Status.WARNING
    assert "2 running, at most 1 wanted" in observation.summary


def test_its_spec_needs_at_least_one_criterion() -> None:
    with pytest.raises(ValidationError, match="at least one of process_name"):
        ProcessSpec(kind="process", name="worker")


def test_its_spec_rejects_a_command_line_regex_that_does_not_compile() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        ProcessSpec(kind="process", name="worker", cmdline="(unclosed")


async def test_a_process_started_between_runs_is_matched_on_a_shared_table(
    http: aiohttp.ClientSession, spawn: Spawn, marker: str
) -> None:
    """The check reuses its matches while the table is unchanged (the same entries object);
    a table that gained a process is a new one, and the newcomer is matched."""
    cache, check = ProcessTableCache(), check_of(cmdline=re.escape(marker))
    spawn(marker)
    first, _ = await run(check, http, cache)
    spawn(marker)
    second, _ = await run(check, http, cache)

    assert (first.values["count"], second.values["count"]) == (1, 2)


def test_an_unchanged_table_hands_its_entries_to_the_next_view() -> None:
    cache = ProcessTableCache()
    views = [cache.snapshot() for _ in range(20)]  # bounded; other processes may come and go
    pairs = list(itertools.pairwise(views))
    kept = [b.processes() is a.processes() for a, b in pairs]
    same = [[e.pid for e in b.processes()] == [e.pid for e in a.processes()] for a, b in pairs]
    assert all(k <= s for k, s in zip(kept, same, strict=True))  # kept only when unchanged
    assert any(kept)  # twenty snapshots in a row: at least one pair saw no change
