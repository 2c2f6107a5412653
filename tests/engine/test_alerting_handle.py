"""Alerting.handle is the one entrance: rule, prediction and crash-loop transitions open
incidents of their IncidentKind; a prediction refreshes its open incident quietly, and every
predicted episode is a new incident."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.engine.supervisor.restarts import crash_loop_transition
from bot.engine.transitions import fingerprint
from bot.records import IncidentKind, IncidentState, Severity, Transition
from bot.store import Store, open_store
from bot.store import incidents as rows
from checks.base import CheckSpec, Status
from tests.support.db import rows as sql

T0 = 1_700_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "selfreg.db")
    yield opened
    opened.close()


def alerting(store: Store, opened: list | None = None) -> Alerting:
    specs = {"api": CheckSpec(kind="http", name="api")}
    return Alerting(
        store,
        SystemClock(),
        AlertsSettings(),
        specs,
        {"slack": Severity.INFO, "console": Severity.INFO},
        on_opened=None if opened is None else opened.append,
    )


def transition(
    kind: IncidentKind, current: Status, at: float, metric: str = "", summary: str = "x"
) -> Transition:
    failing = current is not Status.OK
    return Transition(
        fingerprint=fingerprint("api", "", kind, metric),
        check="api",
        subject="",
        kind=kind,
        previous=Status.OK if failing else Status.WARNING,
        current=current,
        severity=Severity.WARNING,
        summary=summary,
        values={"latency": 2.0},
        at=at,
    )


def test_each_kind_of_transition_opens_an_incident_of_its_kind(store: Store) -> None:
    opened: list = []
    entrance = alerting(store, opened)
    with store.transaction():
        entrance.handle(transition(IncidentKind.RULE, Status.CRITICAL, T0))
        entrance.handle(transition(IncidentKind.ANOMALY, Status.WARNING, T0, "latency"))
    entrance.handle(crash_loop_transition("web", 5, 60.0, T0))  # opens its own transaction
    kinds = {i.fingerprint: i.kind for i in rows.open_incidents(store)}
    assert kinds == {
        "api||rule": IncidentKind.RULE,
        "api||anomaly:latency": IncidentKind.ANOMALY,
        "component:web||crash-loop": IncidentKind.CRASH_LOOP,
    }
    assert [i.kind for i in opened] == [
        IncidentKind.RULE,
        IncidentKind.ANOMALY,
        IncidentKind.CRASH_LOOP,
    ], "remediation hears of every opened incident"
    assert fingerprint("api", "", IncidentKind.FORECAST, "disk") == "api||forecast:disk"


def test_a_prediction_refreshes_quietly_resolves_and_opens_a_new_episode(store: Store) -> None:
    entrance = alerting(store)
    first = entrance.handle(transition(IncidentKind.RISK, Status.WARNING, T0, summary="a"))
    replies_before = len(sql(store, "SELECT id FROM outbox WHERE kind = 'incident.reply'"))
    again = entrance.handle(transition(IncidentKind.RISK, Status.WARNING, T0 + 5, summary="b"))
    assert again is not None and first is not None and again.id == first.id
    assert (again.count, again.summary, again.state) == (2, "b", IncidentState.OPEN)
    replies = sql(store, "SELECT id FROM outbox WHERE kind = 'incident.reply'")
    assert len(replies) == replies_before, "a refresh says nothing in the thread"

    resolved = entrance.handle(transition(IncidentKind.RISK, Status.OK, T0 + 10))
    assert resolved is not None and resolved.state is IncidentState.RESOLVED
    episode = entrance.handle(transition(IncidentKind.RISK, Status.WARNING, T0 + 11))
    assert episode is not None and episode.id != first.id, "never a reopened prediction"


def test_a_rule_incident_resolved_within_the_cooldown_is_reopened(store: Store) -> None:
    entrance = alerting(store)
    first = entrance.handle(transition(IncidentKind.RULE, Status.CRITICAL, T0))
    entrance.handle(transition(IncidentKind.RULE, Status.OK, T0 + 5))
    again = entrance.handle(transition(IncidentKind.RULE, Status.CRITICAL, T0 + 10))
    assert first is not None and again is not None and again.id == first.id
    assert again.state is IncidentState.OPEN and again.count == 2
    assert entrance.handle(transition(IncidentKind.RULE, Status.OK, T0 + 99)) is not None
    assert entrance.handle(transition(IncidentKind.RULE, Status.OK, T0 + 99)) is None
