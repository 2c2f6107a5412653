"""Planned maintenance: each check's quiet hour from its stored load, proposals approved "at
the next quiet window" (scheduled, announced in their thread ``ANNOUNCE`` before, cancellable
until they run, then approved through the one gate by the person who scheduled them), and the
capacity horizon of ``selfreg plan``.

A check's load is its ``LOAD_METRIC`` (CPU for ``process`` and ``system``, latency for
``http``), averaged by hour of the day (UTC) over ``QUIET_HISTORY`` of rollups; until an hour
has ``MIN_MINUTES`` of history the configured ``quiet_default`` stands.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bot import messages
from bot.engine.regulate.part import Part
from bot.engine.regulate.trends import fit_line, next_at_hour, quiet_hour
from bot.errors import UserError
from bot.records import SLACK_DOOR, Decision, Door, ProposalState
from bot.store import audit
from bot.store import proposals as store_proposals
from bot.store import regulation as store_regulation
from bot.store.db import Store
from bot.store.samples import check_series
from checks.base import CheckSpec

log = logging.getLogger(__name__)

ANNOUNCE = 600.0
SELFREG = "selfreg"  # the scheduler of a detector's automatic fix
QUIET_HISTORY = 14 * 86400.0
HORIZON_HISTORY = 7 * 86400.0
MIN_MINUTES = 30
LOAD_METRIC = {"process": "cpu_percent", "system": "cpu_percent", "http": "latency"}


def quiet_hour_of(
    store: Store, spec: CheckSpec | None, subject: str, now: float, default: int
) -> tuple[int, bool]:
    """(hour, learned): the check's quiet hour, or ``default`` (learned False)."""
    metric = LOAD_METRIC.get(spec.kind) if spec is not None else None
    if spec is None or metric is None:
        return default, False
    subject = "" if spec.kind == "system" else subject
    load = store_regulation.hourly_load(store, spec.name, subject, metric, now - QUIET_HISTORY)
    hour = quiet_hour(load, MIN_MINUTES)
    return (default, False) if hour is None else (hour, True)


def capacity_horizon(
    store: Store, specs: Mapping[str, CheckSpec], now: float
) -> list[dict[str, Any]]:
    """Every series with an upward limit that its trend reaches: when, soonest first."""
    from bot.engine.predict.predictor import metric_limits  # the models' modules: on demand

    found = []
    for spec in specs.values():
        limits = metric_limits(spec)
        for subject, metric in check_series(store, spec.name):
            wanted = [(v, level) for level, v, way in limits.get(metric, []) if way == "up"]
            if not wanted:
                continue
            limit, level = max(wanted)  # the critical one: "at its limit"
            if metric == "disk_percent":
                limit, level = 100.0, "full"
            points = store_regulation.minute_points(
                store, spec.name, subject, metric, now - HORIZON_HISTORY
            )
            line = fit_line(points)
            eta = line.eta(limit) if line is not None and line.r2 >= 0.5 else None
            if eta is not None and eta > 0:
                found.append(
                    {"check": spec.name, "subject": subject, "metric": metric, "limit": limit,
                     "level": level, "eta": eta, "value": line.level if line else None}
                )  # fmt: skip
    return sorted(found, key=lambda row: row["eta"])


class Planner(Part):
    """Scheduled runs and quiet windows; ``tick`` is a scheduler job."""

    def quiet_window(self, check: str, subject: str = "") -> float:
        """When the check's next quiet hour starts."""
        now = self.clock.now()
        hour, _ = quiet_hour_of(
            self.store, self.specs.get(check), subject, now, self.settings.quiet_default
        )
        return next_at_hour(now, hour)

    def schedule(
        self, proposal_id: int, actor: str, door: Door = SLACK_DOOR
    ) -> store_regulation.ScheduledRun:
        """Approve a proposal for its check's next quiet window (stored; audited; said in its
        thread). The proposal stays open until then, so it can be cancelled or decided."""
        proposal = store_proposals.get(self.store, proposal_id)
        if proposal is None or proposal.state is not ProposalState.PROPOSED:
            raise UserError(messages.plan_not_schedulable(proposal_id))
        if store_regulation.pending_for(self.store, proposal_id) is not None:
            raise UserError(messages.plan_already_scheduled(proposal_id))
        incident = self.alerting.incident(proposal.incident_id or 0)
        now = self.clock.now()
        run_at = self.quiet_window(
            incident.check if incident else "", incident.subject if incident else ""
        )
        with self.store.transaction():
            # it must not expire before its window: it lives until the window plus its own time
            life = proposal.expires_at - proposal.created_at
            store_proposals.save(self.store, replace(proposal, expires_at=run_at + life))
            run = store_regulation.schedule(
                self.store,
                store_regulation.ScheduledRun(
                    proposal_id=proposal_id,
                    run_at=run_at,
                    scheduled_by=actor,
                    created_at=now,
                    door=door.detail(),
                ),
            )
            audit.append(
                self.store, now, "regulate.scheduled", actor, f"proposal:{proposal_id}",
                {**door.detail(), "run": run.id, "run_at": run_at},
            )  # fmt: skip
            if proposal.incident_id is not None:
                text = messages.plan_scheduled(proposal.action, run_at, run.id, actor)
                self.alerting.reply(proposal.incident_id, text)
        return run

    def cancel(
        self, run_id: int, actor: str, door: Door = SLACK_DOOR
    ) -> store_regulation.ScheduledRun:
        """Cancel a scheduled run that has not run yet."""
        now = self.clock.now()
        with self.store.transaction():
            run = store_regulation.scheduled_run(self.store, run_id)
            if run is None or not store_regulation.set_run_state(
                self.store, run_id, "cancelled", now
            ):
                raise UserError(messages.plan_not_cancellable(run_id))
            audit.append(
                self.store, now, "regulate.cancelled", actor, f"proposal:{run.proposal_id}",
                {**door.detail(), "run": run_id},
            )  # fmt: skip
            self._say(run, messages.plan_cancelled(run_id, actor))
        return run

    async def tick(self) -> None:
        """Announce what runs within ``ANNOUNCE``; approve what is due, as its scheduler."""
        now = self.clock.now()
        for run in store_regulation.scheduled_runs(self.store):
            if run.announced_at is None and run.run_at - now <= ANNOUNCE:
                with self.store.transaction():
                    store_regulation.mark_announced(self.store, run.id, now)
                    self._say(run, messages.plan_announced(run.id, run.run_at))
            if run.run_at <= now:
                await self._run(run, now)

    async def _run(self, run: store_regulation.ScheduledRun, now: float) -> None:
        with self.store.transaction():
            if not store_regulation.set_run_state(self.store, run.id, "ran", now):
                return  # cancelled meanwhile
        # the person who scheduled it approves, through the gate; the planner is the door. A
        # detector's automatic fix (scheduled by selfreg) is selfreg's trusted approval, unless
        # regulation was paused meanwhile (the button, the breaker): then people decide.
        trusted = run.scheduled_by == SELFREG
        paused = store_regulation.paused(self.store) if trusted else None
        if paused is not None:
            decision = Decision(allowed=False, reason=messages.regulation_paused_reason(*paused))
        else:
            decision = await self.remediation.approve(
                run.proposal_id, run.scheduled_by, trusted=trusted, door=schedule_door(run)
            )
        if not decision.allowed:
            with self.store.transaction():
                store_regulation.set_run_state(self.store, run.id, "refused", now, was="ran")
                self._say(run, messages.plan_refused(run.id, decision.reason))

    def _say(self, run: store_regulation.ScheduledRun, text: str) -> None:
        proposal = store_proposals.get(self.store, run.proposal_id)
        if proposal is not None and proposal.incident_id is not None:
            self.alerting.reply(proposal.incident_id, text)

    def document(self) -> dict[str, Any]:
        """What ``selfreg plan`` shows: scheduled runs, the horizon, the regulation switch."""
        return plan_document(self.store, self.specs, self.clock.now())


def schedule_door(run: store_regulation.ScheduledRun) -> Door:
    """The door of a scheduled run: the scheduler, naming the door (and the terminal user or
    API identity) it was scheduled through."""
    came = run.door
    return Door(
        "schedule",
        local_user=came.get("local_user", ""),
        identity=came.get("identity", ""),
        via=came.get("door", ""),
    )


def scheduled_rows(store: Store) -> list[dict[str, Any]]:
    """Runs waiting for their quiet window, soonest first (the plan and the status)."""
    return [
        {"id": w.run.id, "proposal": w.run.proposal_id, "run_at": w.run.run_at,
         "action": w.action, "by": w.run.scheduled_by}
        for w in store_regulation.waiting(store)
    ]  # fmt: skip


def plan_document(store: Store, specs: Mapping[str, CheckSpec], now: float) -> dict[str, Any]:
    """The plan, read from the store alone (``selfreg plan`` works without a running selfreg)."""
    paused = store_regulation.paused(store)
    return {
        "scheduled": scheduled_rows(store),
        "horizon": capacity_horizon(store, specs, now),
        "paused": {"reason": paused[0], "by": paused[1]} if paused else None,
    }
