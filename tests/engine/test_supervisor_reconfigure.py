"""A reload's component changes: added ones start, removed ones stop, changed ones restart,
a change of ``instances`` alone scales, and every other component keeps its pid."""

from __future__ import annotations

from bot.config import ComponentSettings
from bot.engine.supervisor import reconfigure
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
    await reconfigure.apply(supervisor, [ComponentSettings.model_validate(c) for c in wanted])

    after = pids(supervisor)
    assert list(after) == ["api", "steady", "new"]  # the new file's order
    assert after["steady"] == before["steady"]
    assert after["api"] != before["api"] and alive(after["api"][0])
    assert not alive(before["api"][0]) and not alive(before["old"][0])
    assert alive(after["new"][0])
    assert harness.marked_pids() == {after["api"][0], after["steady"][0], after["new"][0]}
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
    await reconfigure.apply(supervisor, [wanted])

    now = pids(supervisor)["workers"]
    assert len(now) == 3 and now[0] == first and all(alive(p) for p in now)
    assert supervisor.components["workers"].settings.instances == 3
