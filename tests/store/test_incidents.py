"""bot.store.incidents: incidents (kind read back as an Enum), silences and digests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.records import Incident, IncidentKind, IncidentState, Severity
from bot.store import incidents as rows
from bot.store import open_store
from checks.base import Status

T0 = 1_700_000_000.0


def incident(fingerprint: str, kind: IncidentKind = IncidentKind.RULE, **fields) -> Incident:
    check, subject, _ = fingerprint.split("|")
    return Incident(
        fingerprint=fingerprint,
        check=check,
        subject=subject,
        kind=kind,
        severity=Severity.WARNING,
        status=Status.WARNING,
        summary="slow",
        values={"latency": 1.5},
        opened_at=T0,
        last_seen_at=T0,
        **fields,
    )


def test_incidents_round_trip_with_their_kind_as_an_enum(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        rule = rows.save_incident(store, incident("api||rule"))
        predicted = rows.save_incident(
            store, incident("api||anomaly:latency", IncidentKind.ANOMALY)
        )
        rows.save_incident(store, replace(rule, state=IncidentState.RESOLVED, resolved_at=T0))
    found = rows.get_incident(store, predicted.id)
    assert found == predicted and found.kind is IncidentKind.ANOMALY and found.kind.predicted
    assert rows.latest_for(store, "api||rule").state is IncidentState.RESOLVED  # type: ignore[union-attr]
    assert [i.id for i in rows.open_incidents(store)] == [predicted.id]
    assert [i.id for i in rows.recent_incidents(store, 5)] == [predicted.id, rule.id]
    assert rows.opened_since(store, T0) == 1
    store.close()


def test_silences_and_digests(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        silence = rows.add_silence(
            store,
            {"check": "api"},
            starts_at=T0,
            ends_at=T0 + 60,
            until_resolved=False,
            reason="deploy",
            author="U1",
            now=T0,
        )
        digest = rows.create_digest(store, T0)
        member = rows.save_incident(store, incident("db||rule", digest_id=digest))
    assert [s.id for s in rows.active_silences(store, T0 + 30)] == [silence.id]
    assert rows.active_silences(store, T0 + 61) == []
    assert rows.remove_silence(store, silence.id, "U1", T0 + 1)
    assert not rows.remove_silence(store, silence.id, "U1", T0 + 2)
    assert rows.get_silence(store, silence.id) is None
    assert rows.current_digest(store, T0 - 1) == digest
    assert [i.id for i in rows.in_digest(store, digest)] == [member.id]
    store.close()
