"""A store with something to show: components, checks with history, incidents, a proposal
waiting for approval, a run scheduled for a quiet window, a regulation decision, a prediction. Written through the store's own write functions; used by
the dashboard tests, bench/dashboard.py and scripts/screenshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from actions.base import Mode, Risk
from bot.engine.transitions import fingerprint
from bot.records import (
    Incident,
    IncidentState,
    LatestState,
    Proposal,
    Severity,
    Transition,
)
from bot.store import Store, audit, proposals
from bot.store import regulation as store_regulation
from bot.store.components import ComponentRow, save_summary
from bot.store.history import put_rollups
from bot.store.incidents import save_incident
from bot.store.observations import RunRecord, write_runs
from bot.store.predictions import PredictionRow, record
from bot.store.samples import series_id
from checks.base import Observation, Status

NOW = 1_800_000_000.0
STEP = 60.0
"""Seconds between two seeded raw samples."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Seeded:
    """What ``seed`` wrote that tests look for."""

    open_incident: int
    resolved_incident: int
    proposal: int
    latency_series: int
    scheduled_run: int


def value_at(index: int, at: float) -> float:
    """The seeded value of metric ``index`` at ``at``: a daily wave plus a slow rise."""
    return round(40 + 10 * index % 30 + 15 * math.sin(at / 86400 * 2 * math.pi) + at % 7, 3)


def seed(
    store: Store,
    now: float = NOW,
    *,
    metrics: int = 4,
    days: int = 30,
    raw_hours: float = 6,
    step: float = STEP,
) -> Seeded:
    """Seed ``metrics`` metrics (five per check) with ``days`` of rollups and ``raw_hours``
    of raw samples every ``step`` seconds, plus the rows the overview lists."""
    with store.transaction():
        _components(store, now)
        latency = _history(store, now, metrics, days, raw_hours, step)
        _states(store, now, metrics)
        found = _incidents(store, now)
        proposal = proposals.save(
            store,
            Proposal(
                incident_id=found[0], action="restart-api", mode=Mode.APPROVE, risk=Risk.HIGH,
                requested_by="selfreg", created_at=now - 300, expires_at=now + 3300,
            ),
        )  # fmt: skip
        audit.append(store, now - 300, "proposal.created", "selfreg", f"proposal:{proposal.id}",
                     {"action": "restart-api", "risk": "high"})  # fmt: skip
        audit.append(store, now - 120, "proposal.approved", "U0ALICE", f"proposal:{proposal.id}",
                     {"approvals": 1, "needed": 2})  # fmt: skip
        scheduled = _regulation(store, now, found[0])
        record(
            store,
            [
                PredictionRow(
                    check="host", subject="/", kind="forecast", score=7200.0, at=now - 120,
                    detail={"metric": "disk_percent", "value": 81.0, "limit": 90.0, "eta": 7200.0},
                ),
                PredictionRow(
                    check="api-health", subject="", kind="anomaly", score=0.91, at=now - 1800,
                    detail={"metric": "latency", "value": value_at(0, now - 1800)},
                ),
            ],
        )  # fmt: skip
    return Seeded(
        open_incident=found[0], resolved_incident=found[1], proposal=proposal.id,
        latency_series=latency, scheduled_run=scheduled,
    )  # fmt: skip


def _regulation(store: Store, now: float, incident: int) -> int:
    """A scale rule's automatic move, and a proposal scheduled for the quiet window (3 h on)."""
    store_regulation.record(store, store_regulation.DecisionRow(
        at=now - 240, rule="api-latency", direction=1, action="scale-api-up", mode="auto",
        outcome="moved", incident_id=incident,
        signal={"metric": "latency", "value": 812.0, "low": 100.0, "high": 500.0},
    ))  # fmt: skip
    later = proposals.save(store, Proposal(
        incident_id=incident, action="scale-api-down", mode=Mode.APPROVE, risk=Risk.LOW,
        requested_by="selfreg", created_at=now - 200, expires_at=now + 4 * 3600,
    ))  # fmt: skip
    return store_regulation.schedule(store, store_regulation.ScheduledRun(
        proposal_id=later.id, run_at=now + 3 * 3600, scheduled_by="U0BOB", created_at=now - 100,
    )).id  # fmt: skip


def check_of(index: int) -> tuple[str, str, str]:
    """(check, subject, metric) of seeded metric ``index``: api-health latency first."""
    if index == 0:
        return ("api-health", "", "latency")
    if index == 1:
        return ("host", "/", "disk_percent")
    return (f"check-{index // 5:02d}", "", f"metric_{index % 5}")


def _history(
    store: Store, now: float, metrics: int, days: int, raw_hours: float, step: float
) -> int:
    first_minute = int((now - days * 86400) // 60)
    last_minute = int(now // 60)
    for index in range(metrics):
        series = series_id(store, *check_of(index))
        rows = []
        for minute in range(first_minute, last_minute):
            v = value_at(index, minute * 60.0)
            rows.append((series, minute, 1, v - 1, v + 1, v))
        put_rollups(store, rows)
        check, subject, metric = check_of(index)
        start = now - raw_hours * 3600
        observations = [
            Observation(
                check=check, subject=subject, status=Status.OK, summary="", at=start + i * step,
                values={metric: value_at(index, start + i * step)},
            )
            for i in range(int(raw_hours * 3600 / step))
        ]  # fmt: skip
        write_runs(store, [RunRecord(check=check, states=(), observations=observations)])
    return series_id(store, *check_of(0))


def _states(store: Store, now: float, metrics: int) -> None:
    checks: dict[tuple[str, str], dict[str, float]] = {}
    for index in range(metrics):
        check, subject, metric = check_of(index)
        checks.setdefault((check, subject), {})[metric] = value_at(index, now - STEP)
    states = [
        LatestState(
            check=check, subject=subject,
            status=Status.CRITICAL if check == "api-health" else Status.OK,
            summary=f"{check} answered" if check != "api-health" else "api-health: 500 Internal Server Error",
            values=values, error=None, at=now - 5,
            confirmed=Status.CRITICAL if check == "api-health" else Status.OK,
            confirmed_at=now - 900, streak=3, duration=0.01,
        )
        for (check, subject), values in checks.items()
    ]  # fmt: skip
    write_runs(store, [RunRecord(check="seed", states=[*states, *_services(now)], observations=())])


SERVICES = {
    "mobile": ("peer", Status.WARNING, "mobile: 11 ok, 1 warning — disk warning for 12m"),
    "web-fly": ("fly", Status.OK, "web-fly: 2 of 2 machines started, v41"),
}
"""The peer and external service the seeded store has states for (their kinds in FACTS)."""


def _services(now: float) -> list[LatestState]:
    return [
        LatestState(
            check=name, subject="", status=status, summary=summary, values={}, error=None,
            at=now - 20, confirmed=status, confirmed_at=now - 600, streak=4, duration=0.05,
        )
        for name, (_, status, summary) in SERVICES.items()
    ]  # fmt: skip


def _components(store: Store, now: float) -> None:
    save_summary(store, ComponentRow(
        name="api", pid=4250, create_time=now - 3600, started_at=now - 3600, restarts=2,
        status="running", last_exit_code=1, last_exit_at=now - 3700,
    ))  # fmt: skip
    save_summary(store, ComponentRow(
        name="worker", pid=None, create_time=None, started_at=None, restarts=5,
        status="crash-loop", last_exit_code=137, last_exit_at=now - 60,
    ))  # fmt: skip


def _incidents(store: Store, now: float) -> tuple[int, int]:
    print_ = fingerprint("api-health", "")
    transition = Transition(
        fingerprint=print_, check="api-health", subject="", previous=Status.OK,
        current=Status.CRITICAL, severity=Severity.CRITICAL,
        summary="api-health: 500 Internal Server Error", at=now - 900,
    )  # fmt: skip
    write_runs(
        store, [RunRecord(check="api-health", states=(), observations=(), transitions=[transition])]
    )
    opened = save_incident(store, Incident(
        fingerprint=print_, check="api-health", subject="", severity=Severity.CRITICAL,
        status=Status.CRITICAL, summary="api-health: 500 Internal Server Error",
        values={"latency": value_at(0, now - 900)}, opened_at=now - 900, last_seen_at=now - 5,
        acked_by="U0ALICE", acked_at=now - 600, state=IncidentState.ACKNOWLEDGED,
        slack_channel="C0ALERTS", slack_ts="1800000000.000100",
    ))  # fmt: skip
    resolved = save_incident(store, Incident(
        fingerprint=fingerprint("host", "/"), check="host", subject="/", severity=Severity.WARNING,
        status=Status.WARNING, summary="host /: disk 91%", values={"disk_percent": 91.0},
        opened_at=now - 86400 * 2, last_seen_at=now - 86400 * 2 + 600,
        resolved_at=now - 86400 * 2 + 900, state=IncidentState.RESOLVED,
    ))  # fmt: skip
    return opened.id, resolved.id
