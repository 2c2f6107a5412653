"""Incidents, silences and digests in the store: rows to records and back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from typing import Any

from bot.records import Incident, IncidentKind, IncidentState, Severity, Silence
from bot.store.db import Store
from checks.base import Status

_COLUMNS = [f.name for f in fields(Incident) if f.name != "id"]
_QUOTED = {"check": '"check"', "values": '"values"'}


def _column(name: str) -> str:
    return _QUOTED.get(name, name)


def incident_from_row(row: sqlite3.Row) -> Incident:
    data = dict(row)
    data["kind"] = IncidentKind(data["kind"])
    data["severity"] = Severity(data["severity"])
    data["state"] = IncidentState(data["state"])
    data["status"] = Status(data["status"])
    data["values"] = json.loads(data["values"])
    data["changes"] = tuple(json.loads(data["changes"]))
    return Incident(**data)


def _row_values(incident: Incident) -> list[Any]:
    data = asdict(incident)
    data["values"] = json.dumps(dict(incident.values))
    data["changes"] = json.dumps(list(incident.changes))
    for key in ("kind", "severity", "state", "status"):
        data[key] = data[key].value
    return [data[name] for name in _COLUMNS]


def save_incident(store: Store, incident: Incident) -> Incident:
    """Insert a new incident (id 0) or update an existing one; returns it with its id."""
    if incident.id == 0:
        columns = ", ".join(_column(c) for c in _COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        row = store._conn.execute(
            f"INSERT INTO incidents ({columns}) VALUES ({marks}) RETURNING id",
            _row_values(incident),
        ).fetchone()
        return replace(incident, id=row[0])
    assignments = ", ".join(f"{_column(c)} = ?" for c in _COLUMNS)
    store._conn.execute(
        f"UPDATE incidents SET {assignments} WHERE id = ?", [*_row_values(incident), incident.id]
    )
    return incident


def get_incident(store: Store, incident_id: int) -> Incident | None:
    row = store._conn.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    return incident_from_row(row) if row else None


def latest_for(store: Store, fingerprint: str) -> Incident | None:
    """The newest incident of a fingerprint, open or not."""
    row = store._conn.execute(
        "SELECT * FROM incidents WHERE fingerprint = ? ORDER BY id DESC LIMIT 1", (fingerprint,)
    ).fetchone()
    return incident_from_row(row) if row else None


def open_incidents(store: Store) -> list[Incident]:
    rows = store._conn.execute(
        "SELECT * FROM incidents WHERE state != 'resolved' ORDER BY id"
    ).fetchall()
    return [incident_from_row(r) for r in rows]


def recent_incidents(store: Store, limit: int) -> list[Incident]:
    rows = store._conn.execute(
        "SELECT * FROM incidents ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [incident_from_row(r) for r in rows]


def opened_since(store: Store, since: float) -> int:
    """Incidents opened since ``since`` that are still open and not silenced: a storm is many
    at once, not a sequence of short ones."""
    row = store._conn.execute(
        "SELECT count(*) FROM incidents WHERE opened_at >= ? AND state NOT IN ('silenced', 'resolved')",
        (since,),
    ).fetchone()
    return int(row[0])


def silence_from_row(row: sqlite3.Row) -> Silence:
    return Silence(
        id=row["id"],
        matcher=json.loads(row["matcher"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        until_resolved=bool(row["until_resolved"]),
        reason=row["reason"],
        author=row["author"],
        created_at=row["created_at"],
    )


def add_silence(
    store: Store,
    matcher: Mapping[str, Any],
    *,
    starts_at: float,
    ends_at: float | None,
    until_resolved: bool,
    reason: str,
    author: str,
    now: float,
) -> Silence:
    row = store._conn.execute(
        "INSERT INTO silences (matcher, starts_at, ends_at, until_resolved, reason, author, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (json.dumps(dict(matcher)), starts_at, ends_at, int(until_resolved), reason, author, now),
    ).fetchone()
    return silence_from_row(row)


def active_silences(store: Store, now: float) -> list[Silence]:
    rows = store._conn.execute(
        "SELECT * FROM silences WHERE removed_at IS NULL AND starts_at <= ? "
        "AND (ends_at IS NULL OR ends_at > ?) ORDER BY id",
        (now, now),
    ).fetchall()
    return [silence_from_row(r) for r in rows]


def current_silences(store: Store, now: float) -> list[Silence]:
    """Silences in force or still to come (not removed, not ended), by id."""
    rows = store._conn.execute(
        "SELECT * FROM silences WHERE removed_at IS NULL AND (ends_at IS NULL OR ends_at > ?) "
        "ORDER BY id",
        (now,),
    ).fetchall()
    return [silence_from_row(r) for r in rows]


def get_silence(store: Store, silence_id: int) -> Silence | None:
    row = store._conn.execute(
        "SELECT * FROM silences WHERE id = ? AND removed_at IS NULL", (silence_id,)
    ).fetchone()
    return silence_from_row(row) if row else None


def remove_silence(store: Store, silence_id: int, actor: str, now: float) -> bool:
    cursor = store._conn.execute(
        "UPDATE silences SET removed_at = ?, removed_by = ? WHERE id = ? AND removed_at IS NULL",
        (now, actor, silence_id),
    )
    return cursor.rowcount == 1


def current_digest(store: Store, since: float) -> int | None:
    """The digest opened since ``since`` that new incidents should join, if any."""
    row = store._conn.execute(
        "SELECT id FROM digests WHERE opened_at >= ? ORDER BY id DESC LIMIT 1", (since,)
    ).fetchone()
    return int(row[0]) if row else None


def create_digest(store: Store, now: float) -> int:
    row = store._conn.execute(
        "INSERT INTO digests (opened_at) VALUES (?) RETURNING id", (now,)
    ).fetchone()
    return int(row[0])


def in_digest(store: Store, digest_id: int) -> list[Incident]:
    """The incidents gathered in one digest, oldest first."""
    rows = store._conn.execute(
        "SELECT * FROM incidents WHERE digest_id = ? ORDER BY id", (digest_id,)
    ).fetchall()
    return [incident_from_row(r) for r in rows]


def rule_incident_spans(store: Store, check: str) -> list[tuple[float, float | None]]:
    """(opened, resolved) of the check's rule incidents: the failures a risk model learns.
    Prediction incidents never count."""
    return incident_spans(store, check, IncidentKind.RULE)


def incident_spans(
    store: Store, check: str, kind: IncidentKind
) -> list[tuple[float, float | None]]:
    """(opened, resolved) of the check's incidents of one kind, oldest first."""
    return [
        (r[0], r[1])
        for r in store._conn.execute(
            'SELECT opened_at, resolved_at FROM incidents WHERE "check" = ? AND kind = ? '
            "ORDER BY opened_at",
            (check, kind.value),
        )
    ]
