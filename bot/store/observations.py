"""Writing one interval's results in one transaction, and reading them back at start.

What one run changes (latest state, metric samples, the check's own state such as log
offsets, transitions with their outbox rows and event rows) commits together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.records import EventKind, LatestState, Transition
from bot.store.db import Store
from checks.base import Observation, Status


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """One check run's outcome, ready to be written."""

    check: str
    states: Sequence[LatestState]
    observations: Sequence[Observation]
    transitions: Sequence[Transition] = ()
    repeats: Sequence[Observation] = ()
    state_writes: Mapping[str, Any] = field(default_factory=dict)


class RunHooks(Protocol):
    """What happens to incidents, inside the same transaction as the runs that caused it."""

    def on_transition(self, transition: Transition) -> None: ...

    def on_repeat(self, observation: Observation) -> None: ...


def write_runs(store: Store, runs: Iterable[RunRecord], hooks: RunHooks | None = None) -> None:
    """Write runs, and what they do to incidents, in one transaction."""
    with store.transaction() as conn:
        samples = []
        states: list[tuple[Any, ...]] = []
        for run in runs:
            states.extend(_state_row(state) for state in run.states)
            for observation in run.observations:
                for metric, value in observation.values.items():
                    series = store.series_id(observation.check, observation.subject, metric)
                    samples.append((series, observation.at, float(value)))
            for key, value in run.state_writes.items():
                conn.execute(
                    'INSERT INTO check_state ("check", key, value) VALUES (?, ?, ?) '
                    'ON CONFLICT ("check", key) DO UPDATE SET value = excluded.value',
                    (run.check, key, json.dumps(value)),
                )
            for transition in run.transitions:
                _record_transition(store, transition)
                if hooks is not None:
                    hooks.on_transition(transition)
            if hooks is not None:
                for observation in run.repeats:
                    hooks.on_repeat(observation)
        conn.executemany(_UPSERT_STATE, states)
        conn.executemany("INSERT INTO samples (series, at, value) VALUES (?, ?, ?)", samples)


_UPSERT_STATE = (
    'INSERT INTO state ("check", subject, status, summary, "values", error, at, confirmed, '
    "confirmed_at, streak, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    'ON CONFLICT ("check", subject) DO UPDATE SET status = excluded.status, '
    'summary = excluded.summary, "values" = excluded."values", error = excluded.error, '
    "at = excluded.at, confirmed = excluded.confirmed, confirmed_at = excluded.confirmed_at, "
    "streak = excluded.streak, duration = excluded.duration"
)


def _state_row(state: LatestState) -> tuple[Any, ...]:
    return (
        state.check,
        state.subject,
        state.status.value,
        state.summary,
        json.dumps(dict(state.values)),
        state.error,
        state.at,
        state.confirmed.value,
        state.confirmed_at,
        state.streak,
        state.duration,
    )


def _record_transition(store: Store, transition: Transition) -> None:
    row = store.conn.execute(
        'INSERT INTO transitions (at, fingerprint, "check", subject, kind, previous, current, '
        'severity, summary, "values") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
        (
            transition.at,
            transition.fingerprint,
            transition.check,
            transition.subject,
            transition.kind,
            transition.previous.value,
            transition.current.value,
            transition.severity.value,
            transition.summary,
            json.dumps(dict(transition.values)),
        ),
    ).fetchone()
    store.record_event(
        EventKind.TRANSITION_RECORDED,
        transition.fingerprint,
        transition.at,
        previous=transition.previous.value,
        current=transition.current.value,
        transition_id=row[0],
    )


def load_latest(store: Store) -> dict[tuple[str, str], LatestState]:
    """Every (check, subject)'s latest state, as written by the last run."""
    latest = {}
    for row in store.conn.execute('SELECT * FROM state ORDER BY "check", subject'):
        latest[(row["check"], row["subject"])] = LatestState(
            check=row["check"],
            subject=row["subject"],
            status=Status(row["status"]),
            summary=row["summary"],
            values=json.loads(row["values"]),
            error=row["error"],
            at=row["at"],
            confirmed=Status(row["confirmed"]),
            confirmed_at=row["confirmed_at"],
            streak=row["streak"],
            duration=row["duration"],
        )
    return latest


def load_check_state(store: Store) -> dict[str, dict[str, Any]]:
    """Every check's key-value state (log offsets, last pids)."""
    state: dict[str, dict[str, Any]] = {}
    for row in store.conn.execute('SELECT "check", key, value FROM check_state'):
        state.setdefault(row["check"], {})[row["key"]] = json.loads(row["value"])
    return state
