"""Alertmanager's alerts into the engine: each webhook delivery is one run of the
``alertmanager`` check (``checks.alertmanager``), recorded by the runner like any run.

Why a check: the runner already turns observations into transitions, incidents, Slack
messages, escalation, silences and proposals, in one transaction with the observations and
the check state that remembers each alert's episode (so a restart keeps what was known and a
late or repeated delivery is dropped). Feeding alerts through it means none of that is written
twice; the only differences are the check's spec (an incident opens at the first firing
delivery, no confirming re-run) and the actions offered, which come from
``[[alertmanager.routes]]`` label matchers instead of a check's ``remediate`` list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.clock import Clock
from bot.config.alertmanager import AlertmanagerSettings
from bot.engine.context import CheckState
from bot.engine.runner import CheckRunner, RunResult
from bot.errors import AlertPayloadInvalid
from bot.records import Incident
from checks.alertmanager import ALERTS, AlertmanagerCheck


class ExternalAlerts:
    """Records webhook deliveries as runs, and says which actions an alert's incident offers."""

    def __init__(self, runner: CheckRunner, settings: AlertmanagerSettings, clock: Clock) -> None:
        self.runner = runner
        self.settings = settings
        self.clock = clock
        self._pending: Mapping[str, Any] = {}

    def receive(self, payload: Any) -> tuple[int, int]:
        """Record one delivery; (alerts in it, alerts recorded: the rest were stale)."""
        alerts = _alerts_of(payload)
        check = self.runner.checks.get(self.settings.check)
        if not isinstance(check, AlertmanagerCheck):
            raise AlertPayloadInvalid(f"check {self.settings.check} is not running")
        state = CheckState(self.runner.committed.get(check.name, {}))
        observations = check.receive(payload, state, self.clock.now())
        if observations:
            self._pending = state.pending
            try:
                result = RunResult(
                    check=check,
                    observations=observations,
                    state_writes=state.pending,
                    duration=0.0,
                )
                self.runner.record([result])
            finally:
                self._pending = {}
        return len(alerts), len(observations)

    def actions_for(self, incident: Incident) -> list[str]:
        """The routed actions of an alert's incident ([] for any other incident)."""
        if incident.check != self.settings.check:
            return []
        known = {
            **self.runner.committed.get(incident.check, {}).get(ALERTS, {}),
            **self._pending.get(ALERTS, {}),
        }
        record = known.get(incident.subject.rpartition("/")[2])
        return [] if record is None else self.settings.actions_for(record["labels"])

    def reconfigure(self, settings: AlertmanagerSettings) -> None:
        """A live reload's routes and severities (the check itself is rebuilt by the runner)."""
        self.settings = settings


def _alerts_of(payload: Any) -> list[Any]:
    """The alerts of a version 4 webhook payload, or ``AlertPayloadInvalid``."""
    if not isinstance(payload, dict):
        raise AlertPayloadInvalid("the body is not a JSON object")
    if str(payload.get("version")) != "4":
        raise AlertPayloadInvalid(f'version is {payload.get("version")!r}, expected "4"')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not all(isinstance(a, dict) for a in alerts):
        raise AlertPayloadInvalid("alerts is not a list of objects")
    return alerts
