"""Steps 1 and 4 of the flow: run the checks of one interval together and record what they saw.

The checks of an interval start at its turn, those that would open connections to the same
server at once in line, two at a time, all within its first tenth (at most 200 ms:
``start_lines``), each under its own timeout. A check that raises or hangs becomes an
``unknown`` observation with the error text; a check still running when its next turn comes
is skipped (and the skip recorded), never started twice. A run that
changes a status is written on the loop's next turn after it ends (its alert waits for no
timer), together with every other run handed over in the same turn: a storm of status changes
is one transaction, not one per run. The other results in by the interval's deadline are
written in one transaction; a straggler is written like a status change when it ends, so a
slow check never delays the others.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from bot import messages
from bot.clock import Clock
from bot.engine.context import CheckState, RunContext
from bot.engine.proctable import ProcessTableCache
from bot.engine.reuse import reuse_or_make
from bot.engine.rounds import Round
from bot.engine.start_lines import StartLine, start_lines
from bot.engine.transitions import consider
from bot.records import EventKind, Incident, LatestState, Transition
from bot.store.db import Store
from bot.store.observations import RunRecord, write_runs
from bot.store.state import load_check_state, load_latest
from bot.tally import Tally
from checks.base import Check, CheckSpec, Observation, ProcessTable, Status

log = logging.getLogger(__name__)

STATE_REFRESH = 60.0  # seconds a steady check's stored latest state may lag its last run


class AlertSink(Protocol):
    """Where the runner hands what it wrote, in the same transaction (``Alerting``)."""

    def handle(self, transition: Transition) -> Incident | None: ...

    def repeat(self, observation: Observation) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    """What one run of one check produced, before it is recorded."""

    check: Check
    observations: Sequence[Observation]
    state_writes: Mapping[str, object]
    duration: float


class CheckRunner:
    """Runs checks, keeps the latest state in memory, and records every run in the store."""

    def __init__(
        self,
        *,
        checks: Iterable[Check],
        store: Store,
        clock: Clock,
        http: aiohttp.ClientSession,
        alerting: AlertSink | None = None,
        stats: Callable[[], Mapping[str, float]] = dict,
        on_recorded: Callable[[Sequence[Observation]], None] | None = None,
        on_deploy: Callable[[Observation], None] | None = None,
        tally: Tally | None = None,
    ) -> None:
        self.checks = {check.name: check for check in checks}
        self.tally = tally or Tally()  # checks run, for /metrics
        self.store = store
        self.clock = clock
        self.http = http
        self.alerting = alerting
        self.stats = stats
        self.processes = ProcessTableCache()
        self.latest: dict[tuple[str, str], LatestState] = load_latest(store)
        self.committed: dict[str, dict[str, object]] = load_check_state(store)
        self.in_flight: dict[str, asyncio.Task[RunResult]] = {}
        self.skipped = 0
        self.last_durations: dict[str, float] = {}
        self._confirming: set[str] = set()
        self._loggers: dict[str, logging.Logger] = {}
        self._written: dict[tuple[str, str], float] = {}
        self._due: list[RunResult] = []  # handed to record_soon this turn, not written yet
        self.on_recorded = on_recorded
        """Called after each write with the observations just recorded (the predictors)."""
        self.on_deploy = on_deploy
        """Called in the write's transaction, before alerting, with each observation that
        reports a deploy (``bot.engine.deploys.Deploys.seen``)."""

    def intervals(self) -> list[float]:
        """Every distinct interval of the enabled checks: one scheduler job each."""
        return sorted({c.spec.interval for c in self.checks.values() if c.spec.enabled})

    async def run_interval(self, interval: float) -> None:
        """Start every enabled check of ``interval``, those of one server in line
        (``start_lines``), and record their results."""
        due = [c for c in self.checks.values() if c.spec.enabled and c.spec.interval == interval]
        view = self._process_view(due)
        started: list[asyncio.Task[RunResult]] = []
        overran = [c.name for c in due if c.name in self.in_flight]
        if overran:
            self._skip(overran)
            due = [c for c in due if c.name not in self.in_flight]
        lines = start_lines({c.name: s for c in due if (s := c.server) is not None}, interval)
        for check in due:
            line = lines.get(check.name)
            run = self._run_in_line(line, check, view) if line else self.run_one(check, view)
            task = asyncio.create_task(run, name=f"check:{check.name}")
            self.in_flight[check.name] = task
            task.add_done_callback(lambda _t, name=check.name: self.in_flight.pop(name, None))
            started.append(task)
        if not started:
            return
        batch = Round(self)
        for task in started:
            task.add_done_callback(batch.finished)
        done, _pending = await asyncio.wait(started, timeout=interval * 0.8)
        batch.close(done)

    def _skip(self, names: Sequence[str]) -> None:
        """Checks still running at their next turn: each skipped and said, the events in one
        transaction (after a stall of the loop they may be hundreds)."""
        self.skipped += len(names)
        now = self.clock.now()
        for name in names:
            log.warning(messages.check_overran(name))
        try:
            with self.store.transaction():
                for name in names:
                    self.store.record_event(EventKind.CHECK_SKIPPED, name, now)
        except sqlite3.OperationalError:
            if self.store.write_error is None:
                raise  # not the disk or a lock: a fault of ours, to be seen

    def changes_status(self, result: RunResult) -> bool:
        """Whether a run saw a status other than its subject's latest (ok for a subject not
        seen before): the runs that may open or resolve an incident."""
        for observation in result.observations:
            latest = self.latest.get((observation.check, observation.subject))
            if observation.status is not (latest.status if latest else Status.OK):
                return True
        return False

    def _process_view(self, checks: Sequence[Check]) -> ProcessTable:
        """One process-table view for the interval, taken only if a check needs one."""
        if any(c.spec.kind == "process" for c in checks):
            return self.processes.snapshot()
        return _NO_PROCESSES

    async def _run_in_line(self, line: StartLine, check: Check, view: ProcessTable) -> RunResult:
        """``run_one`` at ``check``'s turn in its server's line."""
        try:
            await line.turn(check.name)
            return await self.run_one(check, view)
        finally:
            line.ended(check.name)

    async def run_one(self, check: Check, view: ProcessTable | None = None) -> RunResult:
        """Run one check under its timeout; never raises."""
        state = CheckState(self.committed.get(check.name, {}))
        ctx = RunContext(
            http=self.http,
            processes=view if view is not None else self._process_view([check]),
            state=state,
            logger=self._loggers.setdefault(check.name, logging.getLogger(f"checks.{check.name}")),
            clock=self.clock,
            stats=self.stats,
        )
        timeout = check.spec.run_timeout
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):  # no extra task per run, unlike wait_for
                observations = await check.run(ctx)
            if not observations:
                observations = [
                    _unknown(check, self.clock.now(), messages.check_returned_nothing())
                ]
        except TimeoutError:
            observations = [_unknown(check, self.clock.now(), messages.check_timed_out(timeout))]
        except Exception as exc:  # a check may fail any way at all; the loop must not
            log.debug("check %s raised", check.name, exc_info=True)
            observations = [_unknown(check, self.clock.now(), f"{type(exc).__name__}: {exc}")]
        duration = time.perf_counter() - started
        return RunResult(
            check=check, observations=observations, state_writes=state.pending, duration=duration
        )

    def record_soon(self, result: RunResult) -> None:
        """Record ``result`` on the loop's next turn, with every run handed over in this one.

        Runs that end together (checks of an interval that cross a threshold at once, their
        confirming re-runs) are written in one transaction, one COMMIT and its fsync,
        instead of one each back to back on the loop. ``call_soon``, never a timer: the
        turn after the run's own ends, so an alert waits for no clock."""
        self._due.append(result)
        if len(self._due) == 1:
            asyncio.get_running_loop().call_soon(self._record_due)

    def _record_due(self) -> None:
        due, self._due = self._due, []
        self.record(due)

    def record(self, results: Sequence[RunResult]) -> None:
        """Turn results into states and transitions and write them in one transaction."""
        # a run of a check a reload removed or replaced meanwhile is not recorded
        results = [r for r in results if self.checks.get(r.check.name) is r.check]
        if not results:
            return
        updated: dict[tuple[str, str], LatestState] = {}
        records = [self._considered(result, updated) for result in results]
        try:
            self._write(records)
        except sqlite3.OperationalError:
            if self.store.write_error is None:
                raise  # not the disk or a lock: a fault of ours, to be seen
            return  # said once by the store; the first run it keeps records the change
        self.latest.update(updated)
        if self.on_recorded is not None:
            self.on_recorded([o for result in results for o in result.observations])
        self._confirm_soon(results, updated)
        for result in results:
            if result.state_writes:
                merged = dict(self.committed.get(result.check.name, {}))
                merged.update(result.state_writes)
                self.committed[result.check.name] = merged

    def _considered(
        self, result: RunResult, updated: dict[tuple[str, str], LatestState]
    ) -> RunRecord:
        """One run's states, transitions and repeats (``updated`` gains its new states)."""
        self.tally.add("check_runs", check=result.check.name)
        states, transitions, repeats = [], [], []
        for observation in result.observations:
            key = (observation.check, observation.subject)
            previous = updated.get(key) or self.latest.get(key)
            if previous is not None and observation.at < previous.at:
                continue  # a pushed delivery (``external_alerts``) was recorded meanwhile
            state, transition = consider(previous, observation, result.check.spec, result.duration)
            updated[key] = state
            if self._worth_writing(previous, state, result.check):
                states.append(state)
                self._written[key] = state.at
            if transition is not None:
                transitions.append(transition)
            elif state.confirmed is not Status.OK and observation.status is not Status.OK:
                repeats.append(observation)
        self.last_durations[result.check.name] = result.duration
        return RunRecord(
            check=result.check.name,
            states=states,
            observations=result.observations,
            transitions=transitions,
            repeats=repeats,
            state_writes=result.state_writes,
        )

    def _write(self, records: Sequence[RunRecord]) -> None:
        """Write the runs, then hand alerting each run's transitions and then its repeats,
        run by run: one transaction, so the incidents and outbox rows commit with the runs
        that caused them, or nothing."""
        with self.store.transaction():
            write_runs(self.store, records)
            if self.on_deploy is not None:
                for observation in (o for r in records for o in r.observations if o.deploy):
                    self.on_deploy(observation)
            if self.alerting is None:
                return
            for record in records:
                for transition in record.transitions:
                    self.alerting.handle(transition)
                for observation in record.repeats:
                    self.alerting.repeat(observation)

    def _worth_writing(
        self, previous: LatestState | None, state: LatestState, check: Check
    ) -> bool:
        """Whether the stored latest state must change now.

        A steady check changes only its time, values, summary and streak: the row is refreshed at most
        every STATE_REFRESH seconds then (its samples are written every run regardless), and
        a streak past every threshold no longer matters to the logic that reads it back.
        """
        if previous is None:
            return True
        spec = check.spec
        if (
            state.status is not previous.status
            or state.confirmed is not previous.confirmed
            or state.error != previous.error
            or state.streak <= max(spec.open_after, spec.recover_after)
        ):
            return True
        return state.at - self._written.get((state.check, state.subject), 0.0) >= STATE_REFRESH

    def _confirm_soon(
        self, results: Sequence[RunResult], states: Mapping[tuple[str, str], LatestState]
    ) -> None:
        """After a first failure that does not yet open an incident, look again soon: the
        checks of one write that wait the same ``confirm_after`` share one timer, so their
        re-runs start, end and are written together (a storm confirms in one transaction)."""
        due: dict[float, list[Check]] = {}
        for result in results:
            spec = result.check.spec
            if spec.confirm_after is None or result.check.name in self._confirming:
                continue
            if any(
                (state := states.get((o.check, o.subject))) is not None
                and o.status is not Status.OK
                and state.confirmed is Status.OK
                and state.streak < spec.open_after
                for o in result.observations
            ):
                self._confirming.add(result.check.name)
                due.setdefault(spec.confirm_after, []).append(result.check)
        for delay, checks in due.items():
            asyncio.get_running_loop().call_later(delay, self._start_confirmations, checks)

    def _start_confirmations(self, checks: Sequence[Check]) -> None:
        for check in checks:
            task = asyncio.create_task(self._confirm(check), name=f"confirm:{check.name}")
            task.add_done_callback(lambda _t: None)

    async def _confirm(self, check: Check) -> None:
        """The confirming re-run: recorded like a status change, on the next turn with the
        other runs that end in this one (skipped if one is in flight)."""
        try:
            if check.name in self.in_flight:
                return
            task = asyncio.create_task(self.run_one(check), name=f"check:{check.name}")
            self.in_flight[check.name] = task
            task.add_done_callback(lambda _t, name=check.name: self.in_flight.pop(name, None))
            result = await task
        finally:
            self._confirming.discard(check.name)
        self.record_soon(result)

    async def run_now(self, names: Sequence[str] | None = None) -> list[RunResult]:
        """Run checks once without recording anything (``selfreg health``, ``check run``)."""
        chosen = [
            c
            for c in self.checks.values()
            if (names is None and c.spec.enabled) or (names and c.name in names)
        ]
        view = self._process_view(chosen)
        return list(await asyncio.gather(*(self.run_one(c, view) for c in chosen)))

    def reconfigure(
        self,
        specs: Sequence[CheckSpec],
        *,
        rebuild: Collection[str],
        make: Callable[[CheckSpec], Check],
        forget: Collection[str] = (),
    ) -> None:
        """A live reload's checks, in the new config's order: the ``rebuild`` ones (added or
        changed) are made afresh, every other one keeps its instance and with it its state.
        The latest state of the ``forget`` checks (removed ones) leaves memory."""
        self.checks = reuse_or_make(self.checks, specs, rebuild=rebuild, make=make)
        for key in [k for k in self.latest if k[0] in forget]:
            del self.latest[key]


def _unknown(check: Check, at: float, error: str) -> Observation:
    return Observation(
        check=check.name,
        status=Status.UNKNOWN,
        summary=messages.check_failed(error),
        at=at,
        error=error,
    )


class _NoProcesses:
    """The process view handed to intervals without process checks: nothing was scanned."""

    def processes(self) -> list:
        return []

    def listening_pids(self, port: int) -> set[int]:
        return set()

    def stats(self, pid: int) -> None:
        return None


_NO_PROCESSES = _NoProcesses()
