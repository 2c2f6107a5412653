"""``alertmanager``: the alerts Alertmanager pushes to ``/hooks/alertmanager``, as observations.

This check does not look at anything itself: the web hook hands each webhook payload
(version 4) to ``receive``, which turns every alert in it into an observation of this check,
subject ``<alertname>/<fingerprint>``, and the engine records those like any run (so an
alert opens, updates and resolves one incident through the same transitions, alerting,
Slack, escalation and remediation as every check; the spec opens at the first firing run).
A firing alert's status follows its severity label (critical / error: critical, warning /
info: warning); a resolved one is ok.

Alertmanager re-sends whole groups, retries, and may deliver out of order, so each alert's
latest episode is kept in the check's state (``startsAt``, ``endsAt``, status, labels,
annotations) and a delivery older than what is known is dropped: a firing whose ``startsAt``
is not after the known resolution's ``endsAt`` (a late firing, or a resolved that came
first), or a resolution that ended before the known firing began. A repeat of the known
firing is a repeat (counters move, nothing is announced).

A scheduled ``run`` re-reports the alerts still firing (what a remediation's verification
reads) and one line on the subject "" counting them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, StateStore, Status
from common.units import Duration

SeverityName = Literal["info", "warning", "error", "critical"]

ALERTS = "alerts"
"""The state key holding every known alert's latest episode, by fingerprint."""

KEEP_RESOLVED = 7 * 86400.0
"""Resolved alerts are remembered this long (to drop late deliveries), then forgotten."""

_FAILING = {
    "critical": Status.CRITICAL,
    "error": Status.CRITICAL,
    "warning": Status.WARNING,
    "info": Status.WARNING,
}

_NANOS = re.compile(r"(\.\d{6})\d+")


class AlertmanagerSpec(CheckSpec):
    """The check the ``[alertmanager]`` section adds (not written as a ``[[checks]]`` entry)."""

    kind: Literal["alertmanager"]
    interval: Duration = Field(default=60.0, gt=0)
    open_after: int = Field(default=1, ge=1)
    confirm_after: Duration | None = None
    severity_label: str = Field(default="severity")
    severities: dict[str, SeverityName] = Field(default_factory=dict)
    default_severity: SeverityName = Field(default="warning")


def parse_time(text: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 time as Alertmanager writes it (nanoseconds allowed);
    None for Go's zero time (``0001-01-01T00:00:00Z``: a firing alert's ``endsAt``) or junk."""
    if not text or text.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(_NANOS.sub(r"\1", text.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        return None


def subject_of(labels: Mapping[str, str], fingerprint: str) -> str:
    """An alert's subject: its alertname and fingerprint (two alerts never share one)."""
    return f"{labels.get('alertname', 'alert')}/{fingerprint}"


def describe(record: Mapping[str, Any]) -> str:
    """One line showing an alert's annotations (summary, description first) and labels."""
    labels: Mapping[str, str] = record.get("labels", {})
    notes: Mapping[str, str] = record.get("annotations", {})
    name = labels.get("alertname", "alert")
    head = name if record.get("status") == "firing" else f"{name} resolved"
    parts = [notes[key] for key in ("summary", "description") if notes.get(key)]
    others = [f"{k}: {v}" for k, v in sorted(notes.items()) if k not in ("summary", "description")]
    shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
    text = f"{head}: {' — '.join(parts)}" if parts else head
    return " · ".join([text, *([f"labels {shown}"] if shown else []), *others])


def is_stale(known: Mapping[str, Any] | None, status: str, starts: float, ends: float) -> bool:
    """Whether a delivery is older than the episode already known (see the module text)."""
    if known is None:
        return False
    if status == "firing":
        if known["status"] == "resolved":
            return starts <= known["ends"]
        return starts < known["starts"]
    if known["status"] == "firing":
        return ends < known["starts"]
    return ends < known["ends"]


class AlertmanagerCheck(Check):
    """Alertmanager's alerts as this check's observations (pushed, and re-read on a run)."""

    Spec = AlertmanagerSpec

    def __init__(self, spec: AlertmanagerSpec) -> None:
        super().__init__(spec)
        self.spec: AlertmanagerSpec = spec

    def severity(self, labels: Mapping[str, str]) -> SeverityName:
        """The selfreg severity of an alert, from its severity label."""
        value = labels.get(self.spec.severity_label, "").lower()
        if value in self.spec.severities:
            return self.spec.severities[value]
        if value in _FAILING:
            return value  # type: ignore[return-value] # one of the four names
        return self.spec.default_severity

    def receive(
        self, payload: Mapping[str, Any], state: StateStore, now: float
    ) -> list[Observation]:
        """Every alert of one webhook payload that is not stale, as an observation; the
        known episodes in ``state`` are updated (committed with the observations)."""
        known: dict[str, Any] = dict(state.get(ALERTS, {}))
        seen: list[Observation] = []
        for alert in payload.get("alerts") or []:
            record = self._record(alert, now)
            if record is None or is_stale(
                known.get(record["fingerprint"]), record["status"], record["starts"], record["ends"]
            ):
                continue
            known[record["fingerprint"]] = record
            seen.append(self._observation(record, now))
        horizon = now - KEEP_RESOLVED
        kept = {
            fp: r for fp, r in known.items() if r["status"] == "firing" or r["received"] > horizon
        }
        state.set(ALERTS, kept)
        return seen

    def _record(self, alert: Mapping[str, Any], now: float) -> dict[str, Any] | None:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        fingerprint = str(alert.get("fingerprint") or "")
        status = alert.get("status")
        if not fingerprint or status not in ("firing", "resolved"):
            return None
        starts = parse_time(alert.get("startsAt")) or now
        ends = parse_time(alert.get("endsAt")) if status == "resolved" else None
        return {
            "fingerprint": fingerprint,
            "status": status,
            "labels": labels,
            "annotations": {str(k): str(v) for k, v in (alert.get("annotations") or {}).items()},
            "starts": starts,
            "ends": ends if ends is not None else (now if status == "resolved" else 0.0),
            "url": str(alert.get("generatorURL") or ""),
            "received": now,
        }

    def _observation(self, record: Mapping[str, Any], now: float) -> Observation:
        firing = record["status"] == "firing"
        severity = self.severity(record["labels"])
        return Observation(
            check=self.name,
            subject=subject_of(record["labels"], record["fingerprint"]),
            status=_FAILING[severity] if firing else Status.OK,
            summary=describe(record),
            at=now,
            severity=severity if firing else None,
        )

    async def run(self, ctx: CheckContext) -> list[Observation]:
        now = ctx.now()
        firing = [r for r in ctx.state.get(ALERTS, {}).values() if r["status"] == "firing"]
        count = f"{len(firing)} alert{'' if len(firing) == 1 else 's'} firing from Alertmanager"
        return [
            self.observe(ctx, Status.OK, count, {"firing": float(len(firing))}),
            *(self._observation(record, now) for record in firing),
        ]
