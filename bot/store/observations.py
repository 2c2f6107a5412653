"""Writing one interval's results in one transaction.

What one run changes (latest state, metric samples, the check's own state such as log
offsets, transition rows and their event rows) commits together or not at all. Incidents and
outbox rows are not written here: the caller hands the runs' transitions and repeats to
alerting inside the same transaction (``CheckRunner.record``). Reading back at start is
``bot.store.state``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.records import EventKind, LatestState, Transition
from bot.store.db import Store
from bot.store.samples import add_samples
from bot.store.state import save_check_state, save_latest
from checks.base import Observation

__all__ = ["RunRecord", "write_runs"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """One check run's outcome, ready to be written."""

    check: str
    states: Sequence[LatestState]
    observations: Sequence[Observation]
    transitions: Sequence[Transition] = ()
    repeats: Sequence[Observation] = ()
    state_writes: Mapping[str, Any] = field(default_factory=dict)


def write_runs(store: Store, runs: Iterable[RunRecord]) -> None:
    """Write runs in one transaction (the caller's, if one is open). Their transitions and
    repeats are the caller's to hand to alerting, run by run, in the same transaction."""
    with store.transaction():
        states: list[LatestState] = []
        observations: list[Observation] = []
        for run in runs:
            states.extend(run.states)
            observations.extend(run.observations)
            if run.state_writes:
                save_check_state(store, run.check, run.state_writes)
            for transition in run.transitions:
                _record_transition(store, transition)
        save_latest(store, states)
        add_samples(store, observations)


def _record_transition(store: Store, transition: Transition) -> None:
    row = store._conn.execute(
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
