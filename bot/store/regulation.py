"""Regulation in the store: each decision of a scale rule or detector (with the signal that
caused it), the regulation switch, and runs scheduled for a component's quiet window."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.store.db import Store
from bot.store.proposals import set_switch, switch
from bot.store.samples import find_series

REGULATION_SWITCH = "regulation_paused"
"""Pauses every automatic regulation move (the "Pause regulation" button, the breaker)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionRow:
    """One regulation decision: ``outcome`` is moved / proposed / refused / held."""

    id: int = 0
    at: float
    rule: str
    direction: int
    action: str
    mode: str
    outcome: str
    reason: str = ""
    signal: Mapping[str, Any]
    proposal_id: int | None = None
    incident_id: int | None = None


def record(store: Store, row: DecisionRow) -> int:
    """Write one decision; call inside the transaction of what it caused."""
    cursor = store._conn.execute(
        "INSERT INTO regulation_decisions (at, rule, direction, action, mode, outcome, reason,"
        " signal, proposal_id, incident_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.at,
            row.rule,
            row.direction,
            row.action,
            row.mode,
            row.outcome,
            row.reason,
            json.dumps(dict(row.signal), sort_keys=True, default=str),
            row.proposal_id,
            row.incident_id,
        ),
    )
    return int(cursor.lastrowid or 0)


def _decision(row: tuple[Any, ...]) -> DecisionRow:
    ident, at, rule, direction, action, mode, outcome, reason, signal, proposal, incident = row
    return DecisionRow(
        id=ident,
        at=at,
        rule=rule,
        direction=direction,
        action=action,
        mode=mode,
        outcome=outcome,
        reason=reason,
        signal=json.loads(signal),
        proposal_id=proposal,
        incident_id=incident,
    )


_SELECT = (
    "SELECT id, at, rule, direction, action, mode, outcome, reason, signal, proposal_id,"
    " incident_id FROM regulation_decisions"
)


def decisions(store: Store, rule: str | None = None, limit: int = 100) -> list[DecisionRow]:
    """The newest decisions (of one rule), newest first."""
    where, args = ("WHERE rule = ?", (rule,)) if rule is not None else ("", ())
    rows = store._conn.execute(f"{_SELECT} {where} ORDER BY id DESC LIMIT ?", (*args, limit))
    return [_decision(tuple(r)) for r in rows.fetchall()]


def last_move(store: Store, rule: str) -> DecisionRow | None:
    """The rule's latest decision that moved or proposed a move."""
    row = store._conn.execute(
        f"{_SELECT} WHERE rule = ? AND outcome IN ('moved', 'proposed') ORDER BY id DESC LIMIT 1",
        (rule,),
    ).fetchone()
    return _decision(tuple(row)) if row else None


def moves_since(store: Store, since: float, rule: str | None = None) -> int:
    """Automatic moves (outcome ``moved``) since ``since``, of one rule (a detector's name
    counts all its ``detector:check:subject`` findings) or of all: what the budgets count."""
    sql = "SELECT count(*) FROM regulation_decisions WHERE outcome = 'moved' AND at >= ?"
    args: tuple[Any, ...] = (since,)
    if rule is not None:
        sql += " AND (rule = ? OR substr(rule, 1, length(?) + 1) = ? || ':')"
        args = (since, rule, rule, rule)
    return int(store._conn.execute(sql, args).fetchone()[0])


def paused(store: Store) -> tuple[str, str] | None:
    """(reason, who) when automatic regulation is paused, else None."""
    value = switch(store, REGULATION_SWITCH)
    if value is None or value[0] == "off":
        return None
    return value


def set_paused(store: Store, reason: str | None, by: str, at: float) -> None:
    """Pause (``reason``: "on" or "breaker: ...") or resume (None) automatic regulation."""
    set_switch(store, REGULATION_SWITCH, reason or "off", by, at)


def set_outcome(store: Store, decision_id: int, outcome: str, reason: str) -> None:
    """A decision's later fate: refused by the gate, or failed (the breaker tripped on it)."""
    store._conn.execute(
        "UPDATE regulation_decisions SET outcome = ?, reason = ? WHERE id = ?",
        (outcome, reason, decision_id),
    )


def minute_points(
    store: Store, check: str, subject: str, metric: str, since: float
) -> list[tuple[float, float]]:
    """A series' one-minute rollups since ``since`` as (middle of the minute, average), oldest
    first: what the trend detectors fit."""
    series = find_series(store, check, subject, metric)
    if series is None:
        return []
    rows = store._conn.execute(
        "SELECT minute * 60 + 30, sum / count FROM rollups WHERE series = ? AND minute >= ?"
        " AND count > 0 ORDER BY minute",
        (series, int(since // 60)),
    ).fetchall()
    return [(float(at), float(value)) for at, value in rows]


def hourly_load(
    store: Store, check: str, subject: str, metric: str, since: float
) -> dict[int, tuple[float, int]]:
    """A series' average by hour of the day (UTC) since ``since``: {hour: (average, minutes)},
    for a component's quiet hours."""
    series = find_series(store, check, subject, metric)
    if series is None:
        return {}
    rows = store._conn.execute(
        "SELECT (minute % 1440) / 60 AS hour, sum(sum) / sum(count), count(*) FROM rollups"
        " WHERE series = ? AND minute >= ? AND count > 0 GROUP BY hour",
        (series, int(since // 60)),
    ).fetchall()
    return {int(hour): (float(avg), int(minutes)) for hour, avg, minutes in rows}


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduledRun:
    """A proposal approved for a quiet window: ``state`` scheduled / ran / refused /
    cancelled."""

    id: int = 0
    proposal_id: int
    run_at: float
    state: str = "scheduled"
    scheduled_by: str
    created_at: float
    announced_at: float | None = None
    finished_at: float | None = None
    door: Mapping[str, str] = field(default_factory=dict)
    """The door it was scheduled through (``Door.detail()``: ``door``, maybe ``local_user``
    or ``identity``); its run is audited with the scheduler's door naming this one."""


_RUN_COLUMNS = (
    "id, proposal_id, run_at, state, scheduled_by, created_at, announced_at, finished_at, door"
)
_RUN_SIZE = len(_RUN_COLUMNS.split(", "))


def _run(row: tuple[Any, ...]) -> ScheduledRun:
    values = dict(zip(_RUN_COLUMNS.split(", "), row[:_RUN_SIZE], strict=True))
    values["door"] = json.loads(values["door"] or "{}")
    return ScheduledRun(**values)


def schedule(store: Store, run: ScheduledRun) -> ScheduledRun:
    cursor = store._conn.execute(
        "INSERT INTO scheduled_runs (proposal_id, run_at, state, scheduled_by, created_at, door)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            run.proposal_id, run.run_at, run.state, run.scheduled_by, run.created_at,
            json.dumps(dict(run.door)),
        ),
    )  # fmt: skip
    return scheduled_run(store, int(cursor.lastrowid or 0)) or run


def scheduled_run(store: Store, run_id: int) -> ScheduledRun | None:
    row = store._conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM scheduled_runs WHERE id = ?", (run_id,)
    ).fetchone()
    return _run(row) if row else None


def scheduled_runs(store: Store, *, pending_only: bool = True) -> list[ScheduledRun]:
    """Runs still waiting for their window (or every one), soonest first."""
    where = "WHERE state = 'scheduled'" if pending_only else ""
    rows = store._conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM scheduled_runs {where} ORDER BY run_at, id"
    ).fetchall()
    return [_run(r) for r in rows]


def pending_for(store: Store, proposal_id: int) -> ScheduledRun | None:
    return next((r for r in scheduled_runs(store) if r.proposal_id == proposal_id), None)


def set_run_state(store: Store, run_id: int, state: str, at: float, was: str = "scheduled") -> bool:
    """Move a scheduled run on (conditional: only from ``was``); True when it moved."""
    cursor = store._conn.execute(
        "UPDATE scheduled_runs SET state = ?, finished_at = ? WHERE id = ? AND state = ?",
        (state, at, run_id, was),
    )
    return cursor.rowcount == 1


def mark_announced(store: Store, run_id: int, at: float) -> None:
    store._conn.execute("UPDATE scheduled_runs SET announced_at = ? WHERE id = ?", (at, run_id))


@dataclass(frozen=True, kw_only=True, slots=True)
class Waiting:
    """A run waiting for its window with its proposal's action and incident (``"?"`` and
    None when the proposal is gone): what the plan, the status and the dashboard list."""

    run: ScheduledRun
    action: str
    incident_id: int | None


def waiting(store: Store) -> list[Waiting]:
    """Runs still waiting for their window with their proposals, soonest first."""
    columns = ", ".join(f"r.{c}" for c in _RUN_COLUMNS.split(", "))
    rows = store._conn.execute(
        f"SELECT {columns}, p.action, p.incident_id FROM scheduled_runs r"
        " LEFT JOIN proposals p ON p.id = r.proposal_id"
        " WHERE r.state = 'scheduled' ORDER BY r.run_at, r.id"
    ).fetchall()
    return [
        Waiting(
            run=_run(r),
            action=r[_RUN_SIZE] if r[_RUN_SIZE] is not None else "?",
            incident_id=r[_RUN_SIZE + 1],
        )
        for r in rows
    ]
