"""From a prediction to its incident and back: open once per episode, resolve once clear.

``PredictionIncidents`` remembers which prediction incidents are open (rebuilt from the store
at start) and since when each one's condition has been clear. A prediction over its threshold
opens (or refreshes) its incident through ``Alerting.handle`` (a warning transition of its
kind) and is queued as a ``predictions`` row; one clear for ``clear_after`` resolves it
through the same entrance (a recovery transition). Anomalies are not refreshed: an episode's first detection
already said what there is to say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.engine.alerting import Alerting
from bot.engine.transitions import fingerprint as fingerprint_of
from bot.records import IncidentKind, Severity, Transition
from bot.store import incidents as rows
from bot.store import predictions
from bot.store.db import Store
from checks.base import Status


@dataclass(kw_only=True, slots=True)
class Active:
    """An open prediction incident and since when its condition has been clear."""

    kind: IncidentKind
    check: str
    subject: str
    metric: str
    seen_at: float
    calm_since: float | None = None


class PredictionIncidents:
    """The open prediction incidents, and the prediction rows waiting to be written."""

    def __init__(self, store: Store, alerting: Alerting, clear_after: float) -> None:
        self.store = store
        self.alerting = alerting
        self.clear_after = clear_after
        self.active: dict[str, Active] = {}
        self.found: list[predictions.PredictionRow] = []

    def load(self, now: float) -> None:
        """Pick up the prediction incidents left open by the previous run (each counts as
        seen now: its metric gets the usual time to report again)."""
        for incident in rows.open_incidents(self.store):
            if incident.kind.predicted:
                metric = incident.fingerprint.rpartition("|")[2].partition(":")[2]
                self.active[incident.fingerprint] = Active(
                    kind=incident.kind,
                    check=incident.check,
                    subject=incident.subject,
                    metric=metric,
                    seen_at=now,
                )

    def raised(
        self,
        kind: str,
        check: str,
        subject: str,
        metric: str,
        score: float,
        summary: str,
        detail: Mapping[str, Any],
        now: float,
    ) -> None:
        """A prediction over its threshold: open its incident, or refresh the open one."""
        incident_kind = IncidentKind(kind)
        fingerprint = fingerprint_of(check, subject, incident_kind, metric)
        active = self.active.get(fingerprint)
        if active is not None:
            active.calm_since = None
            active.seen_at = now
            if incident_kind is IncidentKind.ANOMALY:
                return  # one episode, one incident: the first detection said it
        else:
            self.found.append(
                predictions.PredictionRow(
                    check=check, subject=subject, kind=kind, score=score, detail=detail, at=now
                )
            )
            self.active[fingerprint] = Active(
                kind=incident_kind, check=check, subject=subject, metric=metric, seen_at=now
            )
        values = {metric or kind: float(detail.get("value", score))}
        self.alerting.handle(
            _transition(
                fingerprint, incident_kind, check, subject, Status.WARNING, summary, values, now
            )
        )

    def calm(self, fingerprint: str, calm: bool, now: float) -> None:
        """Whether an open prediction's condition is clear now; resolve it once clear long
        enough (unknown fingerprints are ignored: nothing is open)."""
        active = self.active.get(fingerprint)
        if active is None:
            return
        active.seen_at = now
        if not calm:
            active.calm_since = None
            return
        if active.calm_since is None:
            active.calm_since = now
        if now - active.calm_since >= self.clear_after:
            self._resolve(
                fingerprint, messages.prediction_cleared(active.kind, now - active.calm_since)
            )

    def sweep(self, now: float, stale_after: Callable[[str], float]) -> None:
        """Resolve the open predictions whose metric stopped reporting (a check removed or
        disabled, a disk unmounted, a metric a check no longer gives): with nothing to judge,
        an incident would otherwise stay open for ever. ``stale_after(check)`` is how long
        silence counts as gone for that check."""
        for fingerprint, active in list(self.active.items()):
            silent = now - active.seen_at
            if silent >= stale_after(active.check):
                self._resolve(fingerprint, messages.prediction_unreported(active.kind, silent))

    def _resolve(self, fingerprint: str, summary: str) -> None:
        active = self.active.pop(fingerprint)
        self.alerting.handle(
            _transition(
                fingerprint,
                active.kind,
                active.check,
                active.subject,
                Status.OK,
                summary,
                {},
                self.alerting.clock.now(),
            )
        )

    def flush(self) -> None:
        """Write the prediction rows queued this interval, in one transaction."""
        if self.found:
            found, self.found = self.found, []
            with self.store.transaction():
                predictions.record(self.store, found)


def _transition(
    fingerprint: str,
    kind: IncidentKind,
    check: str,
    subject: str,
    current: Status,
    summary: str,
    values: Mapping[str, float],
    at: float,
) -> Transition:
    """A prediction over its threshold (warning) or clear again (ok), as alerting hears it."""
    return Transition(
        fingerprint=fingerprint,
        check=check,
        subject=subject,
        kind=kind,
        previous=Status.OK if current is Status.WARNING else Status.WARNING,
        current=current,
        severity=Severity.WARNING,
        summary=summary,
        values=dict(values),
        at=at,
    )
