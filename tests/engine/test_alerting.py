"""The incident life cycle with a fake clock: escalation, ack, resolve, cooldown, flapping,
silences, maintenance windows and storm control, as the runner and the sweep drive them."""

from __future__ import annotations

import json

import pytest

from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.errors import IncidentClosed
from bot.records import IncidentState, Severity, Transition
from bot.store import Store
from bot.store import incidents as rows
from checks.base import CheckSpec, Observation, Status
from tests.support import db
from tests.support.clock import FakeClock

CHANNELS = {"slack": Severity.INFO, "console": Severity.INFO, "email": Severity.ERROR}


def make(store: Store, clock: FakeClock, **policy: object) -> Alerting:
    specs = {"api": CheckSpec(kind="http", name="api", runbook_url="https://wiki/api")}
    return Alerting(store, clock, AlertsSettings.model_validate(policy), specs, CHANNELS)


def transition(
    clock: FakeClock, current: Status, previous: Status = Status.OK, check: str = "api"
) -> Transition:
    severity = {Status.OK: Severity.CRITICAL, Status.WARNING: Severity.WARNING}.get(
        current, Severity.CRITICAL
    )
    return Transition(
        fingerprint=f"{check}||rule",
        check=check,
        subject="",
        previous=previous,
        current=current,
        severity=severity,
        summary=f"{check} is {current}",
        at=clock.now(),
    )


def feed(alerting: Alerting, store: Store, event: Transition) -> None:
    with store.transaction():
        alerting.handle(event)


def outbox(store: Store, channel: str | None = None) -> list[tuple[str, str, dict]]:
    query = "SELECT channel, kind, payload FROM outbox"
    args: tuple = ()
    if channel:
        query += " WHERE channel = ?"
        args = (channel,)
    return [(r[0], r[1], json.loads(r[2])) for r in db.rows(store, query + " ORDER BY id", args)]


def replies(store: Store) -> list[dict]:
    return [p for c, k, p in outbox(store, "slack") if k == "incident.reply"]


def test_a_failure_opens_one_incident_with_its_runbook_and_one_slack_message(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    [incident] = rows.open_incidents(store)
    assert incident.state is IncidentState.OPEN and incident.runbook_url == "https://wiki/api"
    kinds = [(c, k) for c, k, _ in outbox(store)]
    assert kinds == [
        ("slack", "incident.sync"),
        ("console", "incident.notice"),
        ("email", "incident.notice"),
    ]


def test_repeats_update_counters_and_coalesce_into_one_pending_update(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    for _ in range(5):
        clock.advance(5)
        with store.transaction():
            alerting.repeat(
                Observation(
                    check="api", status=Status.CRITICAL, summary="still down", at=clock.now()
                )
            )
    [incident] = rows.open_incidents(store)
    assert incident.count == 6 and incident.summary == "still down"
    syncs = [k for _, k, _ in outbox(store, "slack") if k == "incident.sync"]
    assert syncs == ["incident.sync"], "a burst of repeats is one pending update"


def test_each_escalation_step_lands_in_the_thread_with_its_mentions_at_its_time(store) -> None:
    clock = FakeClock()
    alerting = make(
        store,
        clock,
        escalation=[
            {"after": "5m", "mention": ["S0ONCALL"]},
            {"after": "20m", "mention": ["@here"], "channel": "#incidents", "severity": "critical"},
        ],
    )
    feed(alerting, store, transition(clock, Status.WARNING))
    clock.advance(299)
    alerting.sweep()
    assert replies(store) == []
    clock.advance(1)
    alerting.sweep()
    [first] = replies(store)
    assert first["mentions"] == ["S0ONCALL"] and first["text"].startswith("Escalation step 1 of 2")
    clock.advance(15 * 60)
    alerting.sweep()
    assert len(replies(store)) == 2 and replies(store)[1]["mentions"] == ["@here"]
    crossposts = [p for _, k, p in outbox(store, "slack") if k == "incident.crosspost"]
    assert [p["channel"] for p in crossposts] == ["#incidents"]
    assert rows.open_incidents(store)[0].severity is Severity.CRITICAL, (
        "the step bumped the severity"
    )


def test_a_reopened_incident_escalates_from_its_reopening_not_at_once(store) -> None:
    """Failing again after 10 minutes is a fresh bout: its steps wait their time again."""
    clock = FakeClock()
    alerting = make(store, clock, cooldown="1h", escalation=[{"after": "5m", "mention": ["@here"]}])
    feed(alerting, store, transition(clock, Status.CRITICAL))
    clock.advance(60)
    feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
    clock.advance(600)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    [again] = rows.open_incidents(store)
    assert again.reopened_at == clock.now() and again.failing_since == clock.now()
    alerting.sweep()
    assert not [r for r in replies(store) if r["text"].startswith("Escalation")]
    clock.advance(299)
    alerting.sweep()
    assert not [r for r in replies(store) if r["text"].startswith("Escalation")]
    clock.advance(1)
    alerting.sweep()
    [step] = [r for r in replies(store) if r["text"].startswith("Escalation")]
    assert "after 5 m" in step["text"]
    clock.advance(30)
    feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
    assert replies(store)[-1]["text"] == "Resolved after 5 m 30 s: api is ok"


def test_acknowledging_stops_escalation_and_reminds_after_the_ack_timeout(store) -> None:
    clock = FakeClock()
    alerting = make(
        store, clock, escalation=[{"after": "5m", "mention": ["S0ONCALL"]}], ack_timeout="1h"
    )
    feed(alerting, store, transition(clock, Status.CRITICAL))
    incident = rows.open_incidents(store)[0]
    clock.advance(60)
    alerting.acknowledge(incident.id, "U0ALICE")
    clock.advance(10 * 60)
    alerting.sweep()
    texts = [r["text"] for r in replies(store)]
    assert texts == ["Acknowledged by <@U0ALICE>; escalation stopped."]
    clock.advance(3600)
    alerting.sweep()
    reminder = replies(store)[-1]
    assert reminder["text"].startswith("Reminder: acknowledged") and reminder["mentions"] == [
        "U0ALICE"
    ]


def test_resolving_updates_the_message_and_replies_then_a_reopen_reuses_it(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock, cooldown="10m")
    feed(alerting, store, transition(clock, Status.CRITICAL))
    first = rows.open_incidents(store)[0]
    clock.advance(252)
    feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
    resolved = rows.get_incident(store, first.id)
    assert resolved is not None and resolved.state is IncidentState.RESOLVED
    assert replies(store)[-1]["text"] == "Resolved after 4 m 12 s: api is ok"
    clock.advance(60)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    [again] = rows.open_incidents(store)
    assert again.id == first.id and again.count == 2
    assert replies(store)[-1]["text"].startswith("Failing again")
    with pytest.raises(IncidentClosed):
        feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
        alerting.acknowledge(first.id, "U0BOB")


def test_a_reopen_after_the_cooldown_is_a_new_incident(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock, cooldown="10m")
    feed(alerting, store, transition(clock, Status.CRITICAL))
    clock.advance(5)
    feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
    clock.advance(11 * 60)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    assert [i.id for i in rows.open_incidents(store)] == [2]


def test_many_changes_in_the_window_make_one_flapping_incident(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock, flapping={"changes": 4, "window": "10m"})
    for _ in range(4):
        feed(alerting, store, transition(clock, Status.CRITICAL))
        clock.advance(30)
        feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
        clock.advance(30)
    [incident] = [rows.get_incident(store, 1)]
    assert incident is not None and incident.state is IncidentState.FLAPPING
    assert rows.recent_incidents(store, 10) == [incident], "one incident, not four"
    flapping = [r for r in replies(store) if r["notice"] == "flapping"]
    assert len(flapping) == 1
    clock.advance(11 * 60)
    alerting.sweep()
    settled = rows.get_incident(store, 1)
    assert settled is not None and settled.state is IncidentState.RESOLVED


def test_a_silenced_incident_is_recorded_but_never_posted_until_the_silence_ends(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock)
    silence = alerting.add_silence({"check": "ap*"}, 3600, "deploy", "U0ALICE")
    feed(alerting, store, transition(clock, Status.CRITICAL))
    [incident] = rows.open_incidents(store)
    assert incident.state is IncidentState.SILENCED and incident.silence_id == silence.id
    assert outbox(store, "slack") == [] and outbox(store, "email") == []
    clock.advance(3601)
    alerting.sweep()
    assert rows.open_incidents(store)[0].state is IncidentState.OPEN
    assert next(k for _, k, _ in outbox(store, "slack")) == "incident.sync"


def test_silence_until_resolved_ends_with_the_incident(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    incident = rows.open_incidents(store)[0]
    alerting.silence_incident(incident.id, "U0BOB", None)
    assert rows.open_incidents(store)[0].state is IncidentState.SILENCED
    clock.advance(10)
    feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
    assert rows.active_silences(store, clock.now()) == []


def test_a_maintenance_window_silences_what_opens_inside_it(store) -> None:
    clock = FakeClock(start=1_800_000_000.0)  # 2027-01-15 08:00:00 UTC
    alerting = make(
        store,
        clock,
        maintenance=[{"name": "nightly", "check": "api", "cron": "0 8 * * *", "duration": "30m"}],
    )
    alerting.sweep()
    feed(alerting, store, transition(clock, Status.CRITICAL))
    assert rows.open_incidents(store)[0].state is IncidentState.SILENCED
    clock.advance(31 * 60)
    alerting.sweep()
    assert rows.open_incidents(store)[0].state is IncidentState.OPEN


def test_past_the_storm_threshold_new_incidents_join_one_digest(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock, storm={"incidents": 3, "window": "2m"})
    for index in range(6):
        feed(alerting, store, transition(clock, Status.CRITICAL, check=f"svc{index}"))
        clock.advance(1)
    digests = [i.digest_id for i in rows.open_incidents(store)]
    assert digests == [None, None, None, 1, 1, 1]
    assert [k for _, k, _ in outbox(store, "slack")].count("digest.sync") == 1


def test_short_incidents_one_after_another_are_not_a_storm(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock, storm={"incidents": 3, "window": "2m"})
    for _ in range(6):
        feed(alerting, store, transition(clock, Status.CRITICAL))
        clock.advance(5)
        feed(alerting, store, transition(clock, Status.OK, Status.CRITICAL))
        clock.advance(5)
    assert all(i.digest_id is None for i in rows.recent_incidents(store, 10))


def test_a_maintenance_window_scheduled_by_command_starts_at_its_time(store) -> None:
    clock = FakeClock()
    alerting = make(store, clock)
    alerting.add_silence({"check": "api"}, 1800, "upgrade", "U0ALICE", starts_at=clock.now() + 600)
    feed(alerting, store, transition(clock, Status.CRITICAL))
    assert rows.open_incidents(store)[0].state is IncidentState.OPEN, "not yet in the window"
    clock.advance(601)
    alerting.sweep()
    assert rows.open_incidents(store)[0].state is IncidentState.SILENCED
    clock.advance(1800)
    alerting.sweep()
    assert rows.open_incidents(store)[0].state is IncidentState.OPEN
