"""``start_component`` against a tiny supervisor of real child processes."""

from __future__ import annotations

import sys

import psutil

from actions.start_component import StartComponent, StartComponentSpec
from tests.support.action_context import RealActionContext

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
COMPONENTS = {"api": SLEEPER, "broken": ["/nonexistent/selfreg-test"]}


def start(component: str = "api") -> StartComponent:
    spec = StartComponentSpec(name="start-api", kind="start_component", component=component)
    return StartComponent(spec)


async def test_it_starts_a_stopped_component(ctx: RealActionContext) -> None:
    result = await start().execute(ctx, dry_run=False)
    [pid] = ctx.components.pids("api")
    assert result.ok and result.summary == f"started component api: started pid {pid}"
    assert psutil.Process(pid).is_running()


async def test_a_dry_run_says_what_it_would_do_and_changes_nothing(ctx: RealActionContext) -> None:
    result = await start().execute(ctx, dry_run=True)
    assert result.ok and result.summary == "would start component api"
    assert ctx.components.instances("api") == 0


async def test_a_component_that_cannot_start_fails_with_the_error_text(
    ctx: RealActionContext,
) -> None:
    result = await start("broken").execute(ctx, dry_run=False)
    assert not result.ok
    assert result.summary.startswith("could not start component broken: ")
    assert "No such file or directory" in result.summary
