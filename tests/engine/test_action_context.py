"""bot.engine.action_context: the controls actions get over a real supervisor (real child
processes), each saying what it did in pids, and the context's matched pids and clock."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from bot.engine.action_context import EngineActionContext, SupervisorControls
from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness
from tests.support.clock import FakeClock

__all__ = ["harness"]


async def test_restart_stop_and_start_name_the_pids_before_and_after(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER))
    await supervisor.start()
    controls = SupervisorControls(supervisor)
    [first] = await harness.wait_marked(1)

    said = await controls.restart("api")
    [second] = await harness.wait_marked(1)
    assert said == f"api restarted: pid {first} -> {second}" and not alive(first)

    assert await controls.stop("api") == f"api stopped (was pid {second})"
    assert await harness.wait_marked(0) == set()
    assert (
        await controls.restart("api")
        == f"api restarted: pid none -> {supervisor.snapshot()[0]['pid']}"
    )
    await controls.stop("api")

    said = await controls.start("api")
    [third] = await harness.wait_marked(1)
    assert said == f"api started: pid {third}"


async def test_scale_counts_instances_and_lists_every_pid(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("worker", SLEEPER))
    await supervisor.start()
    controls = SupervisorControls(supervisor)
    assert controls.instances("worker") == 1
    assert await controls.scale("worker", 2) == "worker scaled from 1 to 2 instances"
    assert controls.instances("worker") == 2
    pids = await harness.wait_marked(2)
    assert len(pids) == 2
    said = await controls.stop("worker")
    assert said.startswith("worker stopped (was pid ")
    assert {
        int(p) for p in said.removeprefix("worker stopped (was pid ").rstrip(")").split(", ")
    } == pids


async def test_an_unknown_component_is_a_lookup_error(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER))
    await supervisor.start()
    controls = SupervisorControls(supervisor)
    for control in (controls.restart, controls.stop):
        with pytest.raises(LookupError, match='no component is named "web"'):
            await control("web")
    with pytest.raises(LookupError):
        controls.instances("web")


async def test_matched_pids_read_the_process_checks_committed_state(
    harness: Harness, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    states = {"procs": {"pids": [[101, 1.5], [102, 2.5], 103]}, "empty": {}}
    context = EngineActionContext(
        components=SupervisorControls(harness.supervisor()),
        http=http,
        logger=logging.getLogger("test"),
        clock=clock,
        check_state=lambda check: states.get(check, {}),
    )
    assert context.matched_pids("procs") == [101, 102, 103]
    assert context.matched_pids("empty") == [] and context.matched_pids("other") == []
    clock.advance(30)
    assert context.now() == clock.now()
