"""A component that keeps dying stops being restarted, and a person decides what next."""

from __future__ import annotations

import asyncio

from bot import messages
from bot.records import IncidentKind, Transition
from tests.engine.test_supervisor_support import (
    EXIT_AT_ONCE,
    Harness,
    alive,
    harness,
    wait_until,
)
from tests.support.db import rows

__all__ = ["harness"]

LOOPER = {"restart_delay": "20ms", "crash_loop": {"exits": 4, "window": "1m"}}


def crash_loop_call(transition: Transition) -> tuple[str, int, float]:
    """(component, exits, window) from the transition the supervisor hands alerting."""
    assert transition.kind is IncidentKind.CRASH_LOOP and transition.subject == ""
    assert transition.fingerprint == f"{transition.check}||crash-loop"
    name = transition.check.removeprefix("component:")
    exits, window = 4, 60.0
    assert transition.summary == messages.crash_loop(name, exits, window)
    return name, exits, window


async def test_a_crash_loop_stops_the_restarts_and_calls_the_hook_once(harness: Harness) -> None:
    calls: list[tuple[str, int, float]] = []
    supervisor = harness.supervisor(
        harness.component("broken", EXIT_AT_ONCE, **LOOPER),
        on_crash_loop=lambda t: calls.append(crash_loop_call(t)),
    )
    await supervisor.start()
    assert await wait_until(lambda: supervisor.snapshot()[0]["status"] == "crash-loop", 15)
    await asyncio.sleep(0.5)  # long enough for further restarts, were there any

    component = supervisor.snapshot()[0]
    assert component["status"] == "crash-loop" and component["pid"] is None
    assert component["restarts"] == 3 and component["last_exit_code"] == 3
    assert calls == [("broken", 4, 60.0)]
    kinds = [kind for kind, _ in harness.events("broken")]
    assert kinds.count("component.exited") == 4 and kinds.count("component.started") == 4
    assert kinds[-1] == "component.crash_looped"
    row = rows(harness.store, "SELECT status FROM components WHERE name = 'broken'")[0]
    assert row["status"] == "crash-loop"


async def test_restart_anyway_clears_the_crash_loop_and_starts_it(harness: Harness) -> None:
    calls: list[tuple[str, int, float]] = []
    flag = harness.tmp_path / "fixed"
    # exits at once until the file "fixed" exists: a broken deploy that someone then repairs
    code = f"import os, time\nif not os.path.exists({str(flag)!r}): raise SystemExit(3)\ntime.sleep(600)"
    supervisor = harness.supervisor(
        harness.component("api", code, **LOOPER),
        on_crash_loop=lambda t: calls.append(crash_loop_call(t)),
    )
    await supervisor.start()
    assert await wait_until(lambda: supervisor.snapshot()[0]["status"] == "crash-loop", 15)

    flag.touch()
    said = await supervisor.restart_anyway("api")
    component = supervisor.snapshot()[0]
    assert component["status"] == "running" and alive(component["pid"])
    assert said == f"started pid {component['pid']}"
    assert len(calls) == 1


async def test_keep_stopped_leaves_it_down(harness: Harness) -> None:
    supervisor = harness.supervisor(harness.component("broken", EXIT_AT_ONCE, **LOOPER))
    await supervisor.start()
    assert await wait_until(lambda: supervisor.snapshot()[0]["status"] == "crash-loop", 15)

    assert await supervisor.keep_stopped("broken") == "kept stopped"
    assert supervisor.snapshot()[0]["status"] == "stopped"
    assert harness.events("broken")[-1][0] == "component.kept_stopped"
    assert await harness.settled(set()) == set()


async def test_a_crash_loop_among_workers_leaves_the_healthy_ones_running(
    harness: Harness,
) -> None:
    # instance 0 dies at once, the others sleep: only instance 0 loops
    code = "import os, time\nif os.environ['SELFREG_INSTANCE'] == '0': raise SystemExit(3)\ntime.sleep(600)"
    supervisor = harness.supervisor(harness.component("workers", code, instances=3, **LOOPER))
    await supervisor.start()
    assert await wait_until(lambda: supervisor.snapshot()[0]["status"] == "crash-loop", 15)
    instances = supervisor.snapshot()[0]["instances"]
    assert [i["status"] for i in instances] == ["crash-loop", "running", "running"]
    assert all(alive(i["pid"]) for i in instances[1:])
