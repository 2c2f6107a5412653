"""The controls remediation and buttons use: restart, stop, start, each saying what it did."""

from __future__ import annotations

import pytest

from bot.errors import UnknownComponent
from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness, wait_until

__all__ = ["harness"]


async def test_restart_replaces_the_process_and_counts_it(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER))
    await supervisor.start()
    before = supervisor.snapshot()[0]["pid"]

    said = await supervisor.restart("api")

    after = supervisor.snapshot()[0]
    assert said == f"pid {before} -> {after['pid']}"
    assert after["pid"] != before and alive(after["pid"]) and not alive(before)
    assert after["restarts"] == 1 and after["status"] == "running"
    assert await harness.settled({after["pid"]}) == {after["pid"]}


async def test_a_stopped_component_stays_stopped_until_started(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER, restart="always"))
    await supervisor.start()
    before = supervisor.snapshot()[0]["pid"]

    assert await supervisor.stop_component("api") == f"stopped pid {before}"
    assert not await wait_until(lambda: bool(harness.marked_pids()), 0.3)  # no restart
    assert supervisor.snapshot()[0]["status"] == "stopped"

    said = await supervisor.start_component("api")
    now = supervisor.snapshot()[0]["pid"]
    assert said == f"started pid {now}" and alive(now)
    assert await supervisor.start_component("api") == f"already running, pid {now}"


async def test_controls_refuse_an_unknown_name(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER))
    await supervisor.start()
    for control in (supervisor.restart, supervisor.stop_component, supervisor.start_component):
        with pytest.raises(UnknownComponent):
            await control("web")
    with pytest.raises(UnknownComponent):
        supervisor.instances("web")
