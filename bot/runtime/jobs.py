"""The scheduler and its jobs besides the checks: rollup, prune, backup, the alerts sweep and
retraining the models.

``make_scheduler`` builds the scheduler (not started: ``/health`` says "not running" until the
monitors step); ``start_scheduler`` adds every job and starts it. ``Housekeeping`` holds the
jobs' own work and the settings they read, which a reload hands over through
``reconfigure`` (retention and backup keys are live).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import messages
from bot.clock import Clock
from bot.config import LoadedConfig
from bot.engine.check_jobs import add_check_job
from bot.records import EventKind
from bot.runtime.memory import trim_heap
from bot.store import Store, audit_anchors, samples
from bot.store.backup import create_backup
from bot.store.retention import prune, read_rollups, rollup_window, save_rollups

if TYPE_CHECKING:
    from bot.engine.alerting import Alerting
    from bot.engine.predict import Predictor
    from bot.engine.regulate.make import Regulation
    from bot.engine.remediation import Remediation
    from bot.engine.runner import CheckRunner

log = logging.getLogger(__name__)

SWEEP_EVERY = 5.0  # escalation steps and reminders land within this of their time
RETRAIN_AT_MOST_EVERY = 600.0  # the job wakes this often; the predictor decides what is due
PLAN_TICK = 30.0  # scheduled maintenance starts within this of its window
FILE_LOOK_EVERY = 60.0  # whether the recent samples are due to be filed (samples.filing_due)


def retrain_job(predictor: Predictor) -> Callable[[], Coroutine[Any, Any, None]]:
    """The scheduled retrain: what is due is refitted and every model's state saved, then the
    heap's free pages go back to the system at once (the fitted forests arrive as a pickle
    and the save builds its arrays: a few MB that stayed resident until the minute's trim)."""

    async def retrain() -> None:
        await predictor.retrain()
        trim_heap()

    return retrain


class Housekeeping:
    """The scheduled jobs' work: roll up and prune the store, back it up, sweep alerts."""

    def __init__(
        self,
        config: LoadedConfig,
        *,
        store: Store,
        clock: Clock,
        alerting: Alerting,
        remediation: Remediation | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.alerting = alerting
        self.remediation = remediation

    async def rollup(self) -> None:
        """Minute rollups (the scan of the raw samples in a worker thread, off the loop);
        the audit head is anchored outside the store when it moved; then the heap's free
        pages go back to the system."""
        since, until = rollup_window(self.store, self.clock.now())
        rollups = await asyncio.to_thread(read_rollups, self.store.path, since, until)
        save_rollups(self.store, rollups)
        anchor_audit(self.store, self.clock.now(), "minute", only_if_moved=True)
        trim_heap()

    async def file_samples(self) -> None:
        """File the recent samples into the indexed table once due (``samples.filing_due``),
        a bounded batch per turn of the loop."""
        if not samples.filing_due(self.store, self.clock.now()):
            return
        batch = samples.FILE_BATCH
        while samples.file_recent(self.store, batch) == batch:
            await asyncio.sleep(0)

    async def prune(self) -> None:
        retention = self.config.settings.store
        prune(
            self.store,
            self.clock.now(),
            samples_for=retention.metrics_retention,
            rollups_for=retention.rollup_retention,
            events_for=retention.events_retention,
        )

    async def sweep(self) -> None:
        """Escalation steps, reminders, expired silences and proposals that are due."""
        self.alerting.sweep()
        if self.remediation is not None:
            self.remediation.sweep()

    async def backup(self) -> None:
        """Write one archive in a worker thread: the copy and gzip never stall the loop."""
        made = await asyncio.to_thread(create_backup, self.config.backup_place)
        log.info(
            "backup written: %s (%d bytes, %.2f s)%s",
            made.path,
            made.size,
            made.seconds,
            f", copied to {made.copied_to}" if made.copied_to else "",
        )

    def job_failed(self, event: JobExecutionEvent) -> None:
        """A job raised or missed its time: logged, and a failure is an event row."""
        if isinstance(event.exception, asyncio.CancelledError):
            return  # a round cut short by a stop: not a failure
        if event.exception is None:
            log.warning("scheduled job %s missed its run time", event.job_id)
            return
        log.error("scheduled job %s failed: %r", event.job_id, event.exception)
        if self.store.write_error is not None:
            return  # the store cannot take the event row either; it said so itself
        with self.store.transaction():
            self.store.record_event(
                EventKind.JOB_FAILED, event.job_id, self.clock.now(), error=repr(event.exception)
            )

    def reconfigure(self, config: LoadedConfig) -> None:
        """A live reload's config: retention and backup settings are read at each run."""
        self.config = config


def anchor_audit(store: Store, at: float, why: str, *, only_if_moved: bool = False) -> None:
    """Write the audit head outside the store and log it; a full disk only logs a warning."""
    try:
        written = audit_anchors.anchor(store, at, why, only_if_moved=only_if_moved)
    except OSError as exc:
        log.warning("the audit head could not be anchored: %s", exc)
        return
    if written is not None:
        log.info(messages.audit_anchored(written.id, written.digest, why))


def make_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(timezone="UTC")


def start_scheduler(
    scheduler: AsyncIOScheduler,
    runner: CheckRunner,
    housekeeping: Housekeeping,
    predictor: Predictor | None,
    regulation: Regulation | None = None,
) -> None:
    """Add one job per check interval and the housekeeping jobs, then start the scheduler."""
    for interval in runner.intervals():
        add_check_job(scheduler, runner, interval)
    every: dict[str, Any] = {"coalesce": True, "max_instances": 1}
    scheduler.add_job(
        housekeeping.rollup, "interval", seconds=60, id="housekeeping:rollup",
        misfire_grace_time=60, **every,
    )  # fmt: skip
    scheduler.add_job(
        housekeeping.file_samples, "interval", seconds=FILE_LOOK_EVERY,
        id="housekeeping:file_samples", misfire_grace_time=60, **every,
    )  # fmt: skip
    scheduler.add_job(
        housekeeping.sweep, "interval", seconds=SWEEP_EVERY, id="alerts:sweep",
        misfire_grace_time=60, **every,
    )  # fmt: skip
    scheduler.add_job(
        housekeeping.prune, "interval", minutes=15, id="housekeeping:prune",
        misfire_grace_time=600, next_run_time=datetime.now(UTC), **every,
    )  # fmt: skip
    backup_every = housekeeping.config.settings.backup.every
    if backup_every is not None:  # one backup per period, the first one period after start
        scheduler.add_job(
            housekeeping.backup, "interval", seconds=backup_every, id="housekeeping:backup",
            misfire_grace_time=max(int(backup_every), 60), **every,
        )  # fmt: skip
    if predictor is not None:
        retrain_every = housekeeping.config.settings.models.retrain_every
        scheduler.add_job(
            retrain_job(predictor), "interval", seconds=min(retrain_every, RETRAIN_AT_MOST_EVERY),
            id="models:retrain", misfire_grace_time=600, next_run_time=datetime.now(UTC),
            **every,
        )  # fmt: skip
    if regulation is not None:
        add_regulation_jobs(
            scheduler, regulation, housekeeping.config.settings.regulate.detect_every
        )
    scheduler.add_listener(housekeeping.job_failed, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.start()


def add_regulation_jobs(scheduler: AsyncIOScheduler, regulation: Regulation, every: float) -> None:
    """The resource detectors (the first look one period after start: history first) and the
    planner's tick (announce and run scheduled maintenance)."""
    scheduler.add_job(
        regulation.detectors.run, "interval", seconds=every, id="regulate:detect",
        misfire_grace_time=600, coalesce=True, max_instances=1,
    )  # fmt: skip
    scheduler.add_job(
        regulation.planner.tick, "interval", seconds=PLAN_TICK, id="regulate:plan",
        misfire_grace_time=60, coalesce=True, max_instances=1,
    )  # fmt: skip
