"""The runner: each check under its own timeout; failures become unknown; nothing runs twice."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import aiohttp

from bot.clock import SystemClock
from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.engine.runner import CheckRunner
from bot.records import Severity
from bot.store import Store
from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from tests.support.db import rows, scalar


class ScriptSpec(CheckSpec):
    kind: Literal["script"] = "script"
    behaviour: str = "ok"
    delay: float = 0.0


class ScriptCheck(Check):
    """A check whose behaviour the test chooses: ok, fail, raise, hang, or count a state key."""

    Spec = ScriptSpec
    runs = 0

    async def run(self, ctx: CheckContext) -> list[Observation]:
        type(self).runs += 1
        spec = self.spec
        assert isinstance(spec, ScriptSpec)
        if spec.delay:
            await asyncio.sleep(spec.delay)
        if spec.behaviour == "raise":
            raise RuntimeError("disk on fire")
        if spec.behaviour == "hang":
            await asyncio.sleep(3600)
        if spec.behaviour == "count":
            ctx.state.set("count", ctx.state.get("count", 0) + 1)
        status = Status.CRITICAL if spec.behaviour == "fail" else Status.OK
        return [self.observe(ctx, status, spec.behaviour, {"value": 1.0})]


def script(name: str, **fields: object) -> ScriptCheck:
    fields.setdefault("open_after", 1)
    return ScriptCheck(ScriptSpec(name=name, **fields))


def runner_for(store: Store, http: aiohttp.ClientSession, *checks: Check) -> CheckRunner:
    clock = SystemClock()
    specs = {check.name: check.spec for check in checks}
    alerting = Alerting(store, clock, AlertsSettings(), specs, {"console": Severity.INFO})
    return CheckRunner(checks=checks, store=store, clock=clock, http=http, alerting=alerting)


async def test_a_check_that_raises_becomes_unknown_with_the_error_text(store, http) -> None:
    runner = runner_for(store, http, script("boom", behaviour="raise", interval=1))
    await runner.run_interval(1)
    state = runner.latest[("boom", "")]
    assert state.status is Status.UNKNOWN
    assert state.error == "RuntimeError: disk on fire"
    row = rows(store, "SELECT status, error FROM state WHERE \"check\" = 'boom'")[0]
    assert tuple(row) == ("unknown", "RuntimeError: disk on fire")


async def test_a_hanging_check_times_out_and_never_delays_the_others(store, http) -> None:
    runner = runner_for(
        store,
        http,
        script("stuck", behaviour="hang", interval=1, timeout=1.2),
        script("quick", interval=1),
    )
    started = time.monotonic()
    await runner.run_interval(1)
    assert time.monotonic() - started < 1.0, "the interval's results are written at its deadline"
    assert runner.latest[("quick", "")].status is Status.OK
    assert ("stuck", "") not in runner.latest
    await asyncio.wait_for(asyncio.gather(*runner.in_flight.values()), timeout=3)
    await asyncio.sleep(0)
    assert runner.latest[("stuck", "")].status is Status.UNKNOWN
    assert runner.latest[("stuck", "")].error == "timed out after 1.2s"


async def test_a_check_still_running_is_skipped_not_started_twice(store, http) -> None:
    ScriptCheck.runs = 0
    runner = runner_for(store, http, script("slow", interval=0.1, timeout=1, delay=0.5))
    await runner.run_interval(0.1)
    await runner.run_interval(0.1)
    assert ScriptCheck.runs == 1
    skipped = rows(store, "SELECT count(*) FROM events WHERE kind = 'check.skipped'")[0]
    assert skipped[0] == 1 and runner.skipped == 1
    await asyncio.wait_for(asyncio.gather(*runner.in_flight.values()), timeout=2)


async def test_an_interval_is_written_in_one_transaction(store, http) -> None:
    statements: list[str] = []
    runner = runner_for(store, http, *(script(f"c{i}", interval=1) for i in range(20)))
    store.trace(statements.append)
    await runner.run_interval(1)
    store.trace(None)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    samples = scalar(store, "SELECT count(*) FROM all_samples")
    assert samples == 20


async def test_changed_statuses_are_written_together_at_once_the_steady_rest_at_the_deadline(
    store, http
) -> None:
    """New failures open incidents (with their outbox rows) in one transaction of their own,
    on the loop's turn after their runs end (their alert waits for no other check); the open
    incident's repeat and the ok runs share the interval's transaction."""
    await runner_for(store, http, script("down", behaviour="fail", interval=1)).run_interval(1)
    checks = [
        script("down", behaviour="fail", interval=1),
        script("a", behaviour="fail", interval=1),
        script("b", behaviour="fail", interval=1),
        *(script(f"ok{i}", interval=1) for i in range(3)),
    ]
    runner = runner_for(store, http, *checks)
    statements: list[str] = []
    store.trace(statements.append)
    await runner.run_interval(1)
    await asyncio.sleep(0)
    store.trace(None)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"] * 2
    assert [s for s in statements if s in ("COMMIT", "ROLLBACK")] == ["COMMIT"] * 2
    incidents = rows(store, 'SELECT "check", state, count FROM incidents ORDER BY "check"')
    assert [tuple(r) for r in incidents] == [
        ("a", "open", 1),
        ("b", "open", 1),
        ("down", "open", 2),
    ]
    outbox = rows(store, "SELECT channel, kind, ref FROM outbox")
    ids = {r[0]: r[1] for r in rows(store, 'SELECT "check", id FROM incidents')}
    assert sorted(tuple(r) for r in outbox) == sorted(
        ("console", "incident.notice", ids[check]) for check in ("down", "a", "b")
    ), "the open incident's notice from before, one for each new incident"
    assert scalar(store, "SELECT count(*) FROM transitions") == 3


async def test_a_transition_opens_an_incident_with_its_outbox_row_and_event(store, http) -> None:
    runner = runner_for(store, http, script("api", behaviour="fail", interval=1))
    await runner.run_interval(1)
    transition = rows(store, "SELECT previous, current, severity FROM transitions")[0]
    assert tuple(transition) == ("ok", "critical", "critical")
    outbox = rows(store, "SELECT channel, kind FROM outbox")
    assert [tuple(r) for r in outbox] == [("console", "incident.notice")]
    incident = rows(store, "SELECT state, count FROM incidents")[0]
    assert tuple(incident) == ("open", 1)
    events = rows(store, "SELECT kind, subject FROM events")
    assert ("transition.recorded", "api||rule") in [tuple(e) for e in events]
    await runner.run_interval(1)
    assert scalar(store, "SELECT count(*) FROM transitions") == 1
    assert scalar(store, "SELECT count FROM incidents") == 2, "a repeat counts"


async def test_state_commits_with_the_run_and_a_dry_run_commits_nothing(
    store, http, tmp_path
) -> None:
    runner = runner_for(store, http, script("counter", behaviour="count", interval=1))
    await runner.run_interval(1)
    await runner.run_interval(1)
    await runner.run_now(["counter"])
    await runner.run_now(None)
    assert runner.committed["counter"] == {"count": 2}
    reopened = runner_for(store, http, script("counter", behaviour="count", interval=1))
    assert reopened.committed["counter"] == {"count": 2}
    assert scalar(store, "SELECT count(*) FROM transitions") == 0


async def test_a_first_failure_is_confirmed_by_a_quick_rerun_not_a_whole_interval(
    store, http
) -> None:
    ScriptCheck.runs = 0
    runner = runner_for(
        store, http, script("api", behaviour="fail", interval=60, open_after=2, confirm_after=0.2)
    )
    await runner.run_interval(60)
    assert scalar(store, "SELECT count(*) FROM transitions") == 0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and ScriptCheck.runs < 2:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)
    assert ScriptCheck.runs == 2
    assert runner.latest[("api", "")].confirmed is Status.CRITICAL
    assert scalar(store, "SELECT count(*) FROM transitions") == 1


async def test_a_run_of_a_check_a_reload_removed_or_replaced_is_not_recorded(store, http) -> None:
    old = script("api", behaviour="fail", interval=1)
    runner = runner_for(store, http, old)
    result = await runner.run_one(old)
    runner.checks = {"api": script("api", behaviour="fail", interval=1)}  # replaced meanwhile
    runner.record([result])
    del runner.checks["api"]  # then removed
    runner.record([result])
    assert runner.latest == {}
    assert scalar(store, "SELECT count(*) FROM incidents") == 0


class GatedCheck(Check):
    """An ok check that ends only when the test opens its gate."""

    Spec = ScriptSpec
    gate: asyncio.Event

    async def run(self, ctx: CheckContext) -> list[Observation]:
        await self.gate.wait()
        return [self.observe(ctx, Status.OK, "ok", {"value": 1.0})]


async def test_a_new_failure_is_written_before_the_intervals_slowest_check_ends(
    store, http
) -> None:
    gated = GatedCheck(ScriptSpec(name="a-slow", interval=10))
    gated.gate = asyncio.Event()
    runner = runner_for(store, http, gated, script("down", behaviour="fail", interval=10))
    round_ = asyncio.create_task(runner.run_interval(10))  # its deadline: 8 s from now
    for _ in range(200):  # bounded: 2 s at most
        if scalar(store, "SELECT count(*) FROM transitions"):
            break
        await asyncio.sleep(0.01)
    assert scalar(store, "SELECT count(*) FROM incidents") == 1
    assert "a-slow" in runner.in_flight, "the slow check was still running meanwhile"
    gated.gate.set()
    await asyncio.wait_for(round_, timeout=10)
    assert runner.latest[("a-slow", "")].status is Status.OK
