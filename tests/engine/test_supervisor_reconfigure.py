"""A reload's component changes: added ones start, removed ones stop, changed ones restart,
a change of ``instances`` alone scales, and every other component keeps its pid."""

from __future__ import annotations

from bot.config import ComponentSettings
from bot.engine.supervisor.reconfigure import Step, plan
from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness
from tests.support.db import rows

__all__ = ["harness"]


def pids(supervisor) -> dict[str, list[int | None]]:
    return {c["name"]: [i["pid"] for i in c["instances"]] for c in supervisor.snapshot()}


async def test_only_the_components_that_changed_are_touched(harness: Harness) -> None:
    api = harness.component("api", SLEEPER)
    steady = harness.component("steady", SLEEPER)
    old = harness.component("old", SLEEPER)
    supervisor = harness.supervisor(api, steady, old)
    await supervisor.start()
    before = pids(supervisor)

    wanted = [
        {**api, "command": [*api["command"], "v2"]},
        steady,
        harness.component("new", SLEEPER),
    ]
    await supervisor.reconfigure([ComponentSettings.model_validate(c) for c in wanted])

    after = pids(supervisor)
    assert list(after) == ["api", "steady", "new"]  # the new file's order
    assert after["steady"] == before["steady"]
    assert after["api"] != before["api"] and alive(after["api"][0])
    assert not alive(before["api"][0]) and not alive(before["old"][0])
    assert alive(after["new"][0])
    running = {after["api"][0], after["steady"][0], after["new"][0]}
    assert await harness.settled(running) == running
    stored = {r[0] for r in rows(harness.store, "SELECT name FROM components")}
    assert stored == {"api", "steady", "new"}


async def test_a_change_of_instances_alone_scales_and_keeps_the_first_copy(
    harness: Harness,
) -> None:
    workers = harness.component("workers", SLEEPER)
    supervisor = harness.supervisor(workers)
    await supervisor.start()
    first = pids(supervisor)["workers"][0]

    wanted = ComponentSettings.model_validate({**workers, "instances": 3})
    await supervisor.reconfigure([wanted])

    now = pids(supervisor)["workers"]
    assert len(now) == 3 and now[0] == first and all(alive(p) for p in now)
    assert supervisor.components["workers"].settings.instances == 3


def test_the_plan_is_worked_out_from_settings_alone(harness: Harness) -> None:
    api, steady = harness.component("api", SLEEPER), harness.component("steady", SLEEPER)
    old, workers = harness.component("old", SLEEPER), harness.component("workers", SLEEPER)
    current = {c["name"]: ComponentSettings.model_validate(c) for c in (api, steady, old, workers)}
    wanted = [
        ComponentSettings.model_validate(c)
        for c in (
            {**api, "command": [*api["command"], "v2"]},
            steady,
            {**workers, "instances": 2},
            harness.component("new", SLEEPER),
        )
    ]
    made = plan(current, wanted)
    assert made.removed == ("old",)
    assert [(s.name, step) for s, step in made.steps] == [
        ("api", Step.RESTART),
        ("steady", Step.KEEP),
        ("workers", Step.SCALE),
        ("new", Step.ADD),
    ]
