"""``instances = N``: N copies, each watched and restarted on its own; scaling up and down."""

from __future__ import annotations

import os
import signal

import psutil
import pytest

from bot.errors import BadInstanceCount, UnknownComponent
from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness, wait_until
from tests.support.db import scalar

__all__ = ["harness"]


def pids(supervisor, name: str = "workers") -> list[int | None]:
    component = next(c for c in supervisor.snapshot() if c["name"] == name)
    return [i["pid"] for i in component["instances"]]


async def test_three_instances_run_and_killing_one_restarts_only_that_one(
    harness: Harness,
) -> None:
    supervisor = harness.supervisor(harness.component("workers", SLEEPER, instances=3))
    await supervisor.start()
    before = pids(supervisor)
    assert len(set(before)) == 3 and all(alive(p) for p in before)
    # a process's /proc entries fill in a moment after its exec: wait for them
    assert await wait_until(lambda: all(psutil.Process(p).cmdline() for p in before), 5)
    environ = [psutil.Process(p).environ()["SELFREG_INSTANCE"] for p in before]
    assert environ == ["0", "1", "2"]

    os.kill(before[1], signal.SIGKILL)
    assert await wait_until(lambda: pids(supervisor)[1] not in (None, before[1]), 5)

    after = pids(supervisor)
    assert after[0] == before[0] and after[2] == before[2] and alive(after[1])
    component = supervisor.snapshot()[0]
    assert [i["restarts"] for i in component["instances"]] == [0, 1, 0]
    assert component["restarts"] == 1 and component["pid"] == before[0]
    assert await harness.settled(set(after)) == set(after)


async def test_scale_starts_and_stops_copies(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("workers", SLEEPER))
    await supervisor.start()
    first = pids(supervisor)[0]

    await supervisor.scale("workers", 3)
    assert supervisor.instances("workers") == 3
    grown = pids(supervisor)
    assert grown[0] == first and all(alive(p) for p in grown)

    await supervisor.scale("workers", 1)
    assert pids(supervisor) == [first]
    assert await harness.settled({first}) == {first}
    stored = scalar(harness.store, "SELECT count(*) FROM component_instances")
    assert stored == 1
    assert [k for k, _ in harness.events()][-1] == "component.scaled"

    with pytest.raises(BadInstanceCount):
        await supervisor.scale("workers", 0)
    with pytest.raises(UnknownComponent, match='no component is named "nope"'):
        await supervisor.scale("nope", 2)
