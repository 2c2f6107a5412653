"""The resource detectors at work: a scheduler job (``regulate:detect``, every
``[regulate] detect_every``) reads each check's stored history, asks ``detectors`` for
findings, and turns a new finding into a regulation incident carrying the evidence plus a
proposal of the action that answers it (never a run: a person approves, now or at the quiet
window). Which action: the check's ``remediate`` entries of the fitting kind (a restart for a
leak, renice or restart for a pinned core), and for a disk the ``cleanup_files`` actions whose
folder is on that mount, with what their dry run would free.
"""

from __future__ import annotations

import logging
from typing import Any

from actions.base import Action
from bot import messages
from bot.engine.regulate import detectors
from bot.engine.regulate import growth as grown
from bot.engine.regulate.detectors import Finding
from bot.engine.regulate.part import Part
from bot.engine.regulate.planning import Planner
from bot.engine.regulate.trends import fit_line
from bot.engine.transitions import fingerprint
from bot.records import REGULATE_DOOR, IncidentKind, Severity, Transition
from bot.store import audit
from bot.store import incidents as incident_rows
from bot.store import regulation as store_regulation
from bot.store.samples import check_series
from checks.base import CheckSpec, Status

log = logging.getLogger(__name__)

FIXES = {
    "leak": ("restart_component", "fly_restart_machine"),
    "cpu": ("renice_process", "restart_component", "fly_restart_machine"),
}
DOOR = REGULATE_DOOR.detail()


class Detectors(Part):
    """Findings from the stored history, proposed once per episode."""

    def __init__(self, *, planner: Planner, **parts: Any) -> None:
        super().__init__(**parts)
        self.planner = planner

    async def run(self) -> list[Finding]:
        """One look at the history; returns the findings that were new (and proposed)."""
        new = []
        growth = self.settings.growth
        if growth.enabled and growth.paths:
            await grown.measure(self.store, growth.paths, self.clock.now())
        for finding in self.findings(self.clock.now()):
            if self._open(finding):
                continue
            await self._propose(finding)
            new.append(finding)
        return new

    def findings(self, now: float) -> list[Finding]:
        found: list[Finding | None] = []
        for spec in self.specs.values():
            for subject, metric in check_series(self.store, spec.name):
                if spec.kind == "process" and metric == "rss" and self.settings.leak.enabled:
                    found.append(self._leak(spec, subject, now))
                elif (
                    spec.kind == "process" and metric == "cpu_percent" and self.settings.cpu.enabled
                ):
                    found.append(self._cpu(spec, subject, now))
                elif (
                    spec.kind == "system"
                    and metric == "disk_percent"
                    and self.settings.disk.enabled
                ):
                    found.append(self._disk(spec, subject, now))
        growth = self.settings.growth
        for path in growth.paths if growth.enabled else []:
            points = store_regulation.minute_points(
                self.store, grown.SERIES_CHECK, path, grown.METRIC, now - growth.window
            )
            found.append(grown.growth(path, points, growth))
        return [f for f in found if f is not None]

    def _points(self, spec: CheckSpec, subject: str, metric: str, since: float) -> list:
        return store_regulation.minute_points(self.store, spec.name, subject, metric, since)

    def _leak(self, spec: CheckSpec, subject: str, now: float) -> Finding | None:
        from bot.engine.predict.predictor import metric_limits  # the models' modules: on demand

        settings = self.settings.leak
        line = fit_line(self._points(spec, subject, "rss", now - settings.window))
        limits = [v for _, v, way in metric_limits(spec).get("rss", []) if way == "up"]
        until_quiet = self.planner.quiet_window(spec.name, subject) - now
        limit = max(limits) if limits else None
        return detectors.leak(spec.name, subject, line, limit, settings, until_quiet)

    def _disk(self, spec: CheckSpec, subject: str, now: float) -> Finding | None:
        settings = self.settings.disk
        line = fit_line(self._points(spec, subject, "disk_percent", now - settings.window))
        return detectors.disk(spec.name, subject, line, settings)

    def _cpu(self, spec: CheckSpec, subject: str, now: float) -> Finding | None:
        settings = self.settings.cpu
        recent = [v for _, v in self._points(spec, subject, "cpu_percent", now - settings.window)]
        hourly = store_regulation.hourly_load(
            self.store, spec.name, subject, "cpu_percent", now - settings.usual
        )
        usual = [avg for avg, _ in hourly.values()]
        return detectors.cpu(spec.name, subject, recent, usual, settings)

    # ---- proposing ----------------------------------------------------------------------------
    def _fingerprint(self, finding: Finding) -> str:
        return fingerprint(
            finding.check, finding.subject, IncidentKind.REGULATION, finding.detector
        )

    def _open(self, finding: Finding) -> bool:
        current = incident_rows.latest_for(self.store, self._fingerprint(finding))
        return current is not None and current.is_open

    def action_for(self, finding: Finding) -> Action | None:
        """The configured action that answers a finding, or None."""
        actions = self.remediation.actions
        if finding.detector in ("disk", "growth"):
            where = finding.subject.rstrip("/") + "/"
            return next(
                (a for a in actions.values() if a.spec.kind == "cleanup_files"
                 and _overlap(str(getattr(a.spec, "folder", "")) + "/", where,
                              finding.detector == "growth")),
                None,
            )  # fmt: skip
        spec = self.specs.get(finding.check)
        listed = [actions[n] for n in getattr(spec, "remediate", []) if n in actions]
        kinds = FIXES.get(finding.detector, ())
        return min(
            (a for a in listed if a.spec.kind in kinds),
            key=lambda a: kinds.index(a.spec.kind),
            default=None,
        )

    async def _propose(self, finding: Finding) -> None:
        action = self.action_for(finding)
        preview = (
            await self.remediation.preview(action.name)
            if action and finding.detector in ("disk", "growth")
            else ""
        )
        now = self.clock.now()
        quiet = self.planner.quiet_window(finding.check, finding.subject)
        evidence = {**finding.evidence, "detector": finding.detector, "urgent": finding.urgent}
        with self.store.transaction():
            incident = self.alerting.handle(
                Transition(
                    fingerprint=self._fingerprint(finding), check=finding.check,
                    subject=finding.subject, kind=IncidentKind.REGULATION, previous=Status.OK,
                    current=Status.WARNING, severity=Severity.WARNING, summary=finding.summary,
                    values={}, at=now,
                )
            )  # fmt: skip
            assert incident is not None
            proposal = None
            if action is not None:
                detail = {**DOOR, "rule": finding.detector, "signal": evidence}
                proposal = self.remediation.propose_move(incident.id, action.name, detail)
            store_regulation.record(
                self.store,
                store_regulation.DecisionRow(
                    at=now, rule=f"{finding.detector}:{finding.check}:{finding.subject}",
                    direction=0, action=action.name if action else "", mode="propose",
                    outcome="proposed" if action else "held", signal=evidence,
                    proposal_id=proposal.id if proposal else None, incident_id=incident.id,
                ),
            )  # fmt: skip
            audit.append(
                self.store, now, "regulate.detected", "selfreg", f"regulate:{finding.detector}",
                {**DOOR, "check": finding.check, "subject": finding.subject, "signal": evidence},
            )  # fmt: skip
            if action is None:
                self.alerting.reply(incident.id, messages.detector_no_action(finding.detector))
                return
            text = messages.detector_proposes(
                action.describe(), finding.urgent, messages.window_time(quiet)
            )
            self.alerting.reply(incident.id, text)
            if preview:
                self.alerting.reply(incident.id, messages.cleanup_preview(preview))


def _overlap(folder: str, where: str, either_way: bool) -> bool:
    """A cleanup folder on a mount (under it), or for a growing path also the path's own
    parent folder (a log file's folder)."""
    if folder.startswith(where):
        return True
    return either_way and where.startswith(folder)
