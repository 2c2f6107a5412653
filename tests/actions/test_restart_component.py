"""``restart_component`` against a tiny supervisor of real child processes."""

from __future__ import annotations

import sys

import psutil

from actions.restart_component import RestartComponent, RestartComponentSpec
from tests.support.action_context import RealActionContext

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
COMPONENTS = {"api": SLEEPER, "broken": ["/nonexistent/selfreg-test"]}


def restart(component: str = "api") -> RestartComponent:
    spec = RestartComponentSpec(name="restart-api", kind="restart_component", component=component)
    return RestartComponent(spec)


async def test_it_replaces_the_running_process_with_a_new_one(ctx: RealActionContext) -> None:
    await ctx.components.start("api")
    [old] = ctx.components.pids("api")
    result = await restart().execute(ctx, dry_run=False)
    [new] = ctx.components.pids("api")
    assert result.ok and new != old
    assert result.summary == f"restarted component api: pid {old} -> {new}"
    assert not psutil.pid_exists(old), "the old process was stopped and reaped"


async def test_a_dry_run_says_what_it_would_do_and_changes_nothing(ctx: RealActionContext) -> None:
    await ctx.components.start("api")
    before = ctx.components.pids("api")
    result = await restart().execute(ctx, dry_run=True)
    assert result.ok and result.summary == "would restart component api"
    assert ctx.components.pids("api") == before


async def test_a_component_that_cannot_start_fails_with_the_error_text(
    ctx: RealActionContext,
) -> None:
    result = await restart("broken").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary.startswith("could not restart component broken: ")
    assert "No such file or directory" in result.summary


async def test_an_unknown_component_fails_with_the_supervisors_words(
    ctx: RealActionContext,
) -> None:
    result = await restart("nope").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary == "could not restart component nope: no component named nope"


def test_it_describes_itself_for_the_button() -> None:
    assert restart().describe() == "restart api"
