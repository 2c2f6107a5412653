"""A storm of status changes: the runs that change a status in one turn of the loop are one
transaction (not one COMMIT and fsync each, back to back on the loop), and every change is
still recorded and alerted: its transition, its incident, its messages, the storm digest."""

from __future__ import annotations

import asyncio
from typing import ClassVar, Literal

import aiohttp

from bot.clock import SystemClock
from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.engine.runner import CheckRunner
from bot.records import Severity
from bot.store import Store
from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from tests.support.db import rows, scalar

N = 60  # checks that change status together


class FlipSpec(CheckSpec):
    kind: Literal["flip"] = "flip"
    delay: float = 0.0


class FlipCheck(Check):
    """Every instance fails while the class says so: they all cross at once, as the
    ``selfreg`` checks of ``bench/load.py`` do when the load crosses their thresholds."""

    Spec = FlipSpec
    failing: ClassVar[bool] = False
    server = None  # opens no connection: the checks of an interval start together

    async def run(self, ctx: CheckContext) -> list[Observation]:
        assert isinstance(self.spec, FlipSpec)
        if self.spec.delay:
            await asyncio.sleep(self.spec.delay)
        status = Status.CRITICAL if type(self).failing else Status.OK
        return [self.observe(ctx, status, status.value, {"value": 1.0})]


def flips(count: int, **fields: object) -> list[Check]:
    fields.setdefault("interval", 1)
    fields.setdefault("open_after", 1)
    return [FlipCheck(FlipSpec(name=f"c{i:03}", **fields)) for i in range(count)]


def runner_for(store: Store, http: aiohttp.ClientSession, checks: list[Check]) -> CheckRunner:
    clock = SystemClock()
    channels = {"console": Severity.INFO, "slack": Severity.INFO}
    specs = {check.name: check.spec for check in checks}
    alerting = Alerting(store, clock, AlertsSettings(), specs, channels)
    return CheckRunner(checks=checks, store=store, clock=clock, http=http, alerting=alerting)


class Transactions:
    """The transactions the store's writer connection begins while it is traced."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.statements: list[str] = []

    def __enter__(self) -> Transactions:
        self.store.trace(self.statements.append)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.store.trace(None)

    @property
    def begun(self) -> int:
        return sum(s.startswith("BEGIN") for s in self.statements)


async def test_a_storm_of_status_changes_is_one_transaction_and_each_change_is_alerted(
    store, http
) -> None:
    FlipCheck.failing = False
    runner = runner_for(store, http, flips(N))
    await runner.run_interval(1)
    FlipCheck.failing = True
    with Transactions(store) as failing:
        await runner.run_interval(1)
        await asyncio.sleep(0)
    assert failing.begun == 1, "the changes of one turn, and no steady run left for the deadline"
    assert scalar(store, "SELECT count(*) FROM transitions WHERE current = 'critical'") == N
    assert scalar(store, "SELECT count(*) FROM incidents WHERE state = 'open'") == N
    notices = rows(store, "SELECT ref FROM outbox WHERE channel = 'console'")
    assert len({r[0] for r in notices}) == N, "one console notice per incident"
    digests = scalar(store, "SELECT count(DISTINCT digest_id) FROM incidents")
    past_threshold = scalar(store, "SELECT count(*) FROM incidents WHERE digest_id IS NOT NULL")
    assert (digests, past_threshold) == (1, N - AlertsSettings().storm.incidents), (
        "past the storm threshold the incidents go into one digest for Slack"
    )
    assert all(runner.latest[(f"c{i:03}", "")].status is Status.CRITICAL for i in range(N))

    FlipCheck.failing = False
    with Transactions(store) as recovering:
        await runner.run_interval(1)
        await asyncio.sleep(0)
    assert recovering.begun == 1
    assert scalar(store, "SELECT count(*) FROM incidents WHERE state = 'resolved'") == N
    notices = rows(
        store,
        "SELECT json_extract(payload, '$.notice'), count(*) FROM outbox "
        "WHERE channel = 'console' GROUP BY 1 ORDER BY 1",
    )
    assert [tuple(r) for r in notices] == [("opened", N), ("resolved", N)], (
        "each opening and each resolution is announced"
    )


async def test_the_confirming_reruns_of_a_storm_are_written_in_one_transaction(store, http) -> None:
    FlipCheck.failing = True
    runner = runner_for(store, http, flips(N, open_after=2, confirm_after=0.05))
    await runner.run_interval(1)
    assert scalar(store, "SELECT count(*) FROM transitions") == 0, "not yet confirmed"
    with Transactions(store) as confirming:
        for _ in range(200):  # bounded: 2 s at most
            await asyncio.sleep(0.01)
            if scalar(store, "SELECT count(*) FROM transitions") == N:
                break
    assert scalar(store, "SELECT count(*) FROM transitions") == N
    assert scalar(store, "SELECT count(*) FROM incidents WHERE state = 'open'") == N
    assert confirming.begun == 1, "the re-runs share one timer, end together, commit together"


async def test_the_runs_skipped_after_a_stall_are_recorded_in_one_transaction(store, http) -> None:
    FlipCheck.failing = False
    runner = runner_for(store, http, flips(5, interval=0.1, timeout=2, delay=0.5))
    await runner.run_interval(0.1)
    with Transactions(store) as skipping:
        await runner.run_interval(0.1)
    assert skipping.begun == 1
    assert scalar(store, "SELECT count(*) FROM events WHERE kind = 'check.skipped'") == 5
    assert runner.skipped == 5
    await asyncio.wait_for(asyncio.gather(*runner.in_flight.values()), timeout=3)
    await asyncio.sleep(0)
    assert all(runner.latest[(f"c{i:03}", "")].status is Status.OK for i in range(5))
