"""``signal_process`` against real child processes a check is said to have matched."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
from pydantic import ValidationError

from actions.signal_process import SignalProcess, SignalProcessSpec
from tests.support.action_context import Children, RealActionContext

HANDLES_USR1 = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGUSR1, lambda *_: (print('got USR1', flush=True), sys.exit(0)))\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)"
)


def action(**fields: Any) -> SignalProcess:
    fields = {"check": "worker", **fields}
    return SignalProcess(SignalProcessSpec(name="term-worker", kind="signal_process", **fields))


async def test_it_terminates_the_processes_the_check_matched(
    ctx: RealActionContext, children: Children
) -> None:
    first, second = await children.start(), await children.start()
    ctx.match("worker", [first.pid, second.pid])
    result = await action().execute(ctx, dry_run=False)
    pids = sorted([first.pid, second.pid])
    assert result.ok and result.summary == f"sent SIGTERM to pids {pids[0]}, {pids[1]}"
    for child in (first, second):
        assert await asyncio.wait_for(child.wait(), 10) == -signal.SIGTERM


async def test_it_delivers_a_signal_the_process_handles(
    ctx: RealActionContext, children: Children
) -> None:
    child = await children.start(HANDLES_USR1)
    ctx.match("worker", [child.pid])
    result = await action(signal="USR1").execute(ctx, dry_run=False)
    assert result.ok
    assert child.stdout is not None
    assert await asyncio.wait_for(child.stdout.readline(), 10) == b"got USR1\n"
    assert await asyncio.wait_for(child.wait(), 10) == 0


async def test_a_dry_run_lists_the_pids_and_sends_nothing(
    ctx: RealActionContext, children: Children
) -> None:
    child = await children.start()
    ctx.match("worker", [child.pid])
    result = await action(signal="KILL").execute(ctx, dry_run=True)
    assert result.ok and result.summary == f"would send SIGKILL to pids {child.pid}"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(child.wait(), 0.3)


async def test_nothing_matched_is_a_failure(ctx: RealActionContext) -> None:
    result = await action().execute(ctx, dry_run=False)
    assert not result.ok and result.summary == "no process matched by check worker"


async def test_it_never_signals_a_group_init_or_selfreg_itself(ctx: RealActionContext) -> None:
    ctx.match("worker", [0, 1, -os.getpid(), os.getpid()])
    for dry_run in (True, False):
        result = await action(signal="KILL").execute(ctx, dry_run=dry_run)
        assert not result.ok and result.summary == "no process matched by check worker"


async def test_a_process_already_gone_is_reported_and_not_ok(
    ctx: RealActionContext, children: Children
) -> None:
    child = await children.start()
    child.kill()
    await asyncio.wait_for(child.wait(), 10)
    ctx.match("worker", [child.pid])
    result = await action().execute(ctx, dry_run=False)
    assert not result.ok and result.summary == f"already gone: {child.pid}"


@pytest.mark.parametrize(("written", "stored"), [("HUP", "HUP"), ("sigquit", "QUIT")])
def test_config_takes_a_signal_name_with_or_without_sig(written: str, stored: str) -> None:
    assert action(signal=written).spec.signal == stored


@pytest.mark.parametrize("written", ["STOP", "9", "TERM; rm -rf /", ""])
def test_config_rejects_any_other_signal(written: str) -> None:
    with pytest.raises(ValidationError):
        action(signal=written)


def test_it_targets_a_check() -> None:
    assert SignalProcess.needs_target == "check"
    assert action().describe() == "send SIGTERM to worker"
