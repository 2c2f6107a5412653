"""``stop_component`` against a tiny supervisor of real child processes."""

from __future__ import annotations

import sys

import psutil

from actions.stop_component import StopComponent, StopComponentSpec
from tests.support.action_context import RealActionContext

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
COMPONENTS = {"worker": SLEEPER}


def stop(component: str = "worker") -> StopComponent:
    spec = StopComponentSpec(name="stop-worker", kind="stop_component", component=component)
    return StopComponent(spec)


async def test_it_stops_every_instance_of_the_component(ctx: RealActionContext) -> None:
    await ctx.components.scale("worker", 2)
    pids = ctx.components.pids("worker")
    result = await stop().execute(ctx, dry_run=False)
    assert result.ok
    assert result.summary == f"stopped component worker: stopped pid {pids[0]}, {pids[1]}"
    assert ctx.components.instances("worker") == 0
    assert not any(psutil.pid_exists(pid) for pid in pids)


async def test_a_dry_run_says_what_it_would_do_and_changes_nothing(ctx: RealActionContext) -> None:
    await ctx.components.start("worker")
    before = ctx.components.pids("worker")
    result = await stop().execute(ctx, dry_run=True)
    assert result.ok and result.summary == "would stop component worker"
    assert ctx.components.pids("worker") == before
    assert psutil.Process(before[0]).is_running()


async def test_an_unknown_component_fails_with_the_supervisors_words(
    ctx: RealActionContext,
) -> None:
    result = await stop("nope").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == "could not stop component nope: no component named nope"
