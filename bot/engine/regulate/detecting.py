"""The resource detectors at work: a scheduler job (``regulate:detect``, every
``[regulate] detect_every``) reads each check's stored history, asks ``detectors`` for
findings, and turns a new finding into a regulation incident carrying the evidence plus a
proposal of the action that answers it: in mode ``propose`` a person approves it, now or at the
quiet window; in mode ``auto`` selfreg approves it itself through the gate (now when the finding
is urgent, else it schedules it for the quiet window, where the planner approves it), under the
same safety as a scale rule's automatic move (``Mover``: the kill switch, the regulation pause,
the global and the detector's budget, the circuit breaker) and only for a low-risk action. Which action: the check's ``remediate`` entries of the fitting kind (a restart for a
leak, renice or restart for a pinned core), and for a disk the ``cleanup_files`` actions whose
folder is on that mount, with what their dry run would free.
"""

from __future__ import annotations

import logging
from typing import Any

from actions.base import Action, Risk
from bot import messages
from bot.config.regulate import Detector
from bot.engine.regulate import detectors
from bot.engine.regulate import growth as grown
from bot.engine.regulate.detectors import Finding
from bot.engine.regulate.moves import Mover
from bot.engine.regulate.part import Part
from bot.engine.regulate.planning import SELFREG, Planner
from bot.engine.regulate.trends import fit_line
from bot.engine.transitions import fingerprint
from bot.records import REGULATE_DOOR, Incident, IncidentKind, Severity, Transition
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
DETECTORS = ("leak", "disk", "cpu", "growth")
BREAKER_LOOKBACK = 50
"""Decisions the breaker looks over at each run (a fix runs within minutes of its finding)."""


class Detectors(Part):
    """Findings from the stored history, proposed once per episode."""

    def __init__(self, *, planner: Planner, mover: Mover, **parts: Any) -> None:
        super().__init__(**parts)
        self.planner, self.mover = planner, mover

    async def run(self) -> list[Finding]:
        """One look at the history; returns the findings that were new (and proposed)."""
        new = []
        self.check_breakers()
        growth = self.settings.growth
        if growth.on and growth.paths:
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
                if spec.kind == "process" and metric == "rss" and self.settings.leak.on:
                    found.append(self._leak(spec, subject, now))
                elif spec.kind == "process" and metric == "cpu_percent" and self.settings.cpu.on:
                    found.append(self._cpu(spec, subject, now))
                elif spec.kind == "system" and metric == "disk_percent" and self.settings.disk.on:
                    found.append(self._disk(spec, subject, now))
        growth = self.settings.growth
        for path in growth.paths if growth.on else []:
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
        """A new finding: its incident, the decision and its audit, then per the detector's
        mode a proposal for people or (``auto``, when safety allows) selfreg's own approval."""
        action = self.action_for(finding)
        preview = (
            await self.remediation.preview(action.name)
            if action and finding.detector in ("disk", "growth")
            else ""
        )
        now = self.clock.now()
        mode = self._settings(finding.detector).mode
        refusal = self._refusal(finding, action) if mode == "auto" and action else None
        auto = mode == "auto" and action is not None and refusal is None
        outcome = "moved" if auto else "proposed" if action else "held"
        later = auto and not finding.urgent  # at the quiet window, as a proposal would say
        name = f"{finding.detector}:{finding.check}:{finding.subject}"
        evidence = {**finding.evidence, "detector": finding.detector, "urgent": finding.urgent}
        with self.store.transaction():
            incident = self._incident(finding, now)
            proposal = None
            if action is not None:
                detail = {**DOOR, "rule": finding.detector, "signal": evidence}
                proposal = self.remediation.propose_move(incident.id, action.name, detail)
            decision = store_regulation.record(
                self.store,
                store_regulation.DecisionRow(
                    at=now, rule=name, direction=0, action=action.name if action else "",
                    mode=mode, outcome=outcome, reason=refusal or "", signal=evidence,
                    proposal_id=proposal.id if proposal else None, incident_id=incident.id,
                ),
            )  # fmt: skip
            detail = {**DOOR, "check": finding.check, "subject": finding.subject}
            audit.append(
                self.store, now, "regulate.detected", "selfreg", f"regulate:{finding.detector}",
                {**detail, "signal": evidence, "decision": decision, "outcome": outcome},
            )  # fmt: skip
            if later and proposal is not None:
                self.planner.schedule(proposal.id, SELFREG, REGULATE_DOOR)
            self._say(incident.id, finding, action, auto, refusal, preview)
        if auto and not later and proposal is not None:
            self.mover.approve_later(name, proposal.id, decision)

    def _settings(self, detector: str) -> Detector:
        return getattr(self.settings, detector)  # type: ignore[no-any-return]

    def _refusal(self, finding: Finding, action: Action) -> str | None:
        """Why an automatic fix must wait for a person: its action is not low risk (selfreg is
        one approver, never the second), or a regulation safety rule says no."""
        if action.spec.risk is not Risk.LOW:
            return messages.detector_auto_needs_low_risk(action.name)
        return self.mover.refusal(finding.detector, self._settings(finding.detector).budget)

    def _incident(self, finding: Finding, now: float) -> Incident:
        incident = self.alerting.handle(
            Transition(
                fingerprint=self._fingerprint(finding), check=finding.check,
                subject=finding.subject, kind=IncidentKind.REGULATION, previous=Status.OK,
                current=Status.WARNING, severity=Severity.WARNING, summary=finding.summary,
                values={}, at=now,
            )
        )  # fmt: skip
        assert incident is not None
        return incident

    def _say(
        self,
        incident_id: int,
        finding: Finding,
        action: Action | None,
        auto: bool,
        refusal: str | None,
        preview: str,
    ) -> None:
        """The finding's thread: what runs (auto), or what is proposed and when."""
        if action is None:
            self.alerting.reply(incident_id, messages.detector_no_action(finding.detector))
            return
        quiet = messages.window_time(self.planner.quiet_window(finding.check, finding.subject))
        if auto:
            text = messages.detector_runs(action.describe(), None if finding.urgent else quiet)
        else:
            text = messages.detector_proposes(action.describe(), finding.urgent, quiet)
        self.alerting.reply(incident_id, text + (f" ({refusal})" if refusal else ""))
        if preview:
            self.alerting.reply(incident_id, messages.cleanup_preview(preview))

    def check_breakers(self) -> None:
        """The circuit breaker over the detectors' recent automatic fixes."""
        for decision in store_regulation.decisions(self.store, limit=BREAKER_LOOKBACK):
            if decision.rule.split(":", 1)[0] in DETECTORS and decision.outcome == "moved":
                self.mover.trip_if_failed(decision)


def _overlap(folder: str, where: str, either_way: bool) -> bool:
    """A cleanup folder on a mount (under it), or for a growing path also the path's own
    parent folder (a log file's folder)."""
    if folder.startswith(where):
        return True
    return either_way and where.startswith(folder)
