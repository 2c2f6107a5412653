"""Predictions, feedback on them, and raised thresholds in the store: rows to records and back.

A prediction row is written only when it says something (an anomaly detected, a forecast
crossing inside the horizon, a risk over its threshold): scores under the threshold stay in
memory, so a quiet fleet writes nothing here. ``target`` names what a threshold belongs to:
``check|subject|metric`` for anomalies and forecasts, ``check|subject`` for a risk.

The history the predictors are fitted and warmed on is read where its tables are: samples and
series in ``samples``, rule incidents in ``incidents``, the last fit of each model in ``events``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.store.db import Store

USEFUL = "useful"
FALSE_ALARM = "false_alarm"
VERDICTS = (USEFUL, FALSE_ALARM)


@dataclass(frozen=True, kw_only=True, slots=True)
class PredictionRow:
    """One prediction worth keeping: which check and subject, which model, how sure."""

    check: str
    subject: str
    kind: str
    score: float
    detail: Mapping[str, Any]
    at: float


@dataclass(frozen=True, kw_only=True, slots=True)
class RaisedThreshold:
    """A threshold that rose after false alarms: ``level`` raises so far, the value now."""

    kind: str
    target: str
    level: int
    value: float
    raised_at: float


def record(store: Store, predictions: Iterable[PredictionRow]) -> None:
    """Append predictions (in the caller's transaction)."""
    store._conn.executemany(
        'INSERT INTO predictions ("check", subject, kind, score, detail, at) '
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (p.check, p.subject, p.kind, p.score, json.dumps(dict(p.detail), default=str), p.at)
            for p in predictions
        ],
    )


def recent(
    store: Store, since: float, check: str | None = None, limit: int = 50
) -> list[PredictionRow]:
    """Predictions since ``since``, newest first, optionally for one check."""
    query = 'SELECT "check", subject, kind, score, detail, at FROM predictions WHERE at >= ?'
    args: list[Any] = [since]
    if check is not None:
        query += ' AND "check" = ?'
        args.append(check)
    rows = store._conn.execute(query + " ORDER BY at DESC, id DESC LIMIT ?", [*args, limit])
    return [
        PredictionRow(
            check=r[0], subject=r[1], kind=r[2], score=r[3], detail=json.loads(r[4]), at=r[5]
        )
        for r in rows
    ]


def prune(store: Store, before: float) -> int:
    """Delete predictions older than ``before``; returns how many went."""
    return store._conn.execute("DELETE FROM predictions WHERE at < ?", (before,)).rowcount


def save_feedback(
    store: Store, incident_id: int, actor: str, kind: str, target: str, verdict: str, at: float
) -> None:
    """One person's verdict on one prediction incident; a second click replaces the first."""
    store._conn.execute(
        "INSERT INTO prediction_feedback (incident_id, actor, kind, target, verdict, at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, actor) DO UPDATE SET "
        "verdict = excluded.verdict, at = excluded.at",
        (incident_id, actor, kind, target, verdict, at),
    )


def feedback_counts(store: Store) -> dict[str, dict[str, int]]:
    """Per model kind: how many incidents were judged useful and how many false alarms.

    An incident counts once, by its latest verdict (several people may click)."""
    counts: dict[str, dict[str, int]] = {}
    for row in store._conn.execute(
        "SELECT kind, verdict, count(*) FROM (SELECT kind, verdict, row_number() OVER "
        "(PARTITION BY incident_id ORDER BY at DESC, rowid DESC) AS n FROM prediction_feedback) "
        "WHERE n = 1 GROUP BY kind, verdict"
    ):
        counts.setdefault(row[0], {USEFUL: 0, FALSE_ALARM: 0})[row[1]] = int(row[2])
    return counts


def target_feedback(store: Store, kind: str, target: str) -> tuple[int, int]:
    """(useful, false alarms) of one target's incidents, each by its latest verdict: the
    metric's own record, shown beside its next prediction."""
    counts = {USEFUL: 0, FALSE_ALARM: 0}
    for verdict, count in store._conn.execute(
        "SELECT verdict, count(*) FROM (SELECT verdict, row_number() OVER "
        "(PARTITION BY incident_id ORDER BY at DESC, rowid DESC) AS n FROM prediction_feedback "
        "WHERE kind = ? AND target = ?) WHERE n = 1 GROUP BY verdict",
        (kind, target),
    ):
        counts[verdict] = int(count)
    return counts[USEFUL], counts[FALSE_ALARM]


def false_alarms_since(store: Store, kind: str, target: str, since: float) -> int:
    """False-alarm incidents of one target after ``since`` (its last raise)."""
    row = store._conn.execute(
        "SELECT count(DISTINCT incident_id) FROM prediction_feedback "
        "WHERE kind = ? AND target = ? AND verdict = ? AND at > ?",
        (kind, target, FALSE_ALARM, since),
    ).fetchone()
    return int(row[0])


def raised_thresholds(store: Store) -> dict[tuple[str, str], RaisedThreshold]:
    """Every raised threshold, by (kind, target)."""
    return {
        (r[0], r[1]): RaisedThreshold(
            kind=r[0], target=r[1], level=r[2], value=r[3], raised_at=r[4]
        )
        for r in store._conn.execute(
            "SELECT kind, target, level, value, raised_at FROM prediction_thresholds"
        )
    }


def save_threshold(store: Store, raised: RaisedThreshold) -> None:
    store._conn.execute(
        "INSERT INTO prediction_thresholds (kind, target, level, value, raised_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, target) DO UPDATE SET "
        "level = excluded.level, value = excluded.value, raised_at = excluded.raised_at",
        (raised.kind, raised.target, raised.level, raised.value, raised.raised_at),
    )
