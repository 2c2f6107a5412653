"""Writing one interval's results in one transaction, and reading them back at start.

What one run changes (latest state, metric samples, the check's own state such as log
offsets, transitions with their outbox rows and event rows) commits together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.records import EventKind, LatestState, Transition
from bot.store.db import Store
from bot.store.samples import add_samples
from bot.store.state import load_check_state, load_latest, save_check_state, save_latest
from checks.base import Observation

__all__ = ["RunRecord", "Written", "load_check_state", "load_latest", "write_runs"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """One check run's outcome, ready to be written."""

    check: str
    states: Sequence[LatestState]
    observations: Sequence[Observation]
    transitions: Sequence[Transition] = ()
    repeats: Sequence[Observation] = ()
    state_writes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Written:
    """What ``write_runs`` wrote that alerting must hear of, in the order it was written."""

    transitions: tuple[Transition, ...] = ()
    repeats: tuple[Observation, ...] = ()


def write_runs(store: Store, runs: Iterable[RunRecord]) -> Written:
    """Write runs in one transaction (the caller's, if one is open); return the transitions
    and repeats written, for the caller to hand to alerting in the same transaction."""
    transitions: list[Transition] = []
    repeats: list[Observation] = []
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
                transitions.append(transition)
            repeats.extend(run.repeats)
        save_latest(store, states)
        add_samples(store, observations)
    return Written(transitions=tuple(transitions), repeats=tuple(repeats))


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
