"""A component killed with ``kill -9`` is back at once, with a new pid, and the event is kept."""

from __future__ import annotations

import os
import signal
import time

from tests.engine.test_supervisor_support import SLEEPER, Harness, alive, harness, wait_until
from tests.support.db import rows

__all__ = ["harness"]


async def test_a_killed_component_is_back_with_a_new_pid_within_milliseconds(
    harness: Harness,
) -> None:
    supervisor = harness.supervisor(harness.component("api", SLEEPER))
    await supervisor.start()
    first = supervisor.snapshot()[0]["pid"]

    killed_at = time.monotonic()
    os.kill(first, signal.SIGKILL)
    assert await wait_until(lambda: supervisor.snapshot()[0]["pid"] not in (None, first), 5)
    took = time.monotonic() - killed_at

    component = supervisor.snapshot()[0]
    assert alive(component["pid"]) and component["status"] == "running"
    assert component["restarts"] == 1 and component["last_exit_code"] == -signal.SIGKILL
    assert took < 1.0, f"restart took {took:.3f}s"
    kinds = [kind for kind, _ in harness.events("api")]
    assert kinds == ["component.started", "component.exited", "component.started"]
    exited, started = harness.events("api")[1:]
    assert exited[1]["pid"] == first and started[1]["pid"] == component["pid"]
    assert await harness.settled({component["pid"]}) == {component["pid"]}  # no duplicate


async def test_stop_sends_sigterm_then_sigkill_and_records_it(harness: Harness) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    supervisor = harness.supervisor(
        harness.component("polite", SLEEPER),
        harness.component("stubborn", stubborn, stop_timeout="300ms"),
    )
    await supervisor.start()
    pids = {c["name"]: c["pid"] for c in supervisor.snapshot()}
    await wait_until(lambda: False, 0.3)  # let the stubborn one install its handler

    began = time.monotonic()
    await supervisor.stop()
    assert time.monotonic() - began < 5

    assert not alive(pids["polite"]) and not alive(pids["stubborn"])
    stops = [(k, d) for k, d in harness.events() if k == "component.stopped"]
    codes = {d["pid"]: d["code"] for _, d in stops}
    assert codes == {pids["polite"]: -signal.SIGTERM, pids["stubborn"]: -signal.SIGKILL}
    subjects = [
        r["subject"]
        for r in rows(
            harness.store, "SELECT subject FROM events WHERE kind = 'component.stopped' ORDER BY id"
        )
    ]
    assert subjects == ["stubborn", "polite"]  # reverse of the declared order
    assert {c["status"] for c in supervisor.snapshot()} == {"stopped"}
