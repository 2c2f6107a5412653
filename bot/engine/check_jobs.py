"""The scheduler's check jobs: one ``checks:<interval>`` job per distinct interval (DESIGN.md).

Shared by the start (every interval) and a live reload (add the new intervals' jobs, remove
the jobs of intervals no check uses any more; a job that stays keeps its rhythm).
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.engine.runner import CheckRunner
from common.units import format_duration

PREFIX = "checks:"


def job_id(interval: float) -> str:
    return f"{PREFIX}{format_duration(interval)}"


def add_check_job(scheduler: AsyncIOScheduler, runner: CheckRunner, interval: float) -> None:
    """The job that starts every check of ``interval`` (those of one server in line, by the
    runner), first run now."""
    scheduler.add_job(
        runner.run_interval,
        "interval",
        seconds=interval,
        args=[interval],
        id=job_id(interval),
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=max(int(interval), 1),
        next_run_time=datetime.now(UTC),
    )


def sync_check_jobs(scheduler: AsyncIOScheduler, runner: CheckRunner) -> None:
    """One job per interval the runner's checks use now: add the missing, drop the unused."""
    wanted = {job_id(i): i for i in runner.intervals()}
    for job in scheduler.get_jobs():
        if job.id.startswith(PREFIX) and job.id not in wanted:
            job.remove()
    for ident, interval in wanted.items():
        if scheduler.get_job(ident) is None:
            add_check_job(scheduler, runner, interval)
