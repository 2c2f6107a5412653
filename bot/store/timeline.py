"""An incident's story and the history lists, read back for the dashboard and ``history``.

An incident's timeline is gathered from where each step was written: its row (opened,
acknowledged, resolved), the transitions of its fingerprint (each update), the notices queued
for it in the outbox (escalations, reminders, silences, flapping), the audit rows of its
proposals (proposed, approved, denied, run, verified) and the feedback events on it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.records import Incident
from bot.store.db import Store
from bot.store.incidents import incident_from_row


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One line of an incident's timeline: when, what kind of step, who, and its text."""

    at: float
    kind: str
    actor: str
    text: str


def incident_steps(store: Store, incident: Incident) -> list[Step]:
    """Every recorded step of ``incident``, oldest first (the row's own steps included)."""
    conn = store._conn
    end = incident.resolved_at if incident.resolved_at is not None else float("inf")
    steps = [Step(at=incident.opened_at, kind="opened", actor="", text=incident.summary)]
    for at, previous, current, summary in conn.execute(
        "SELECT at, previous, current, summary FROM transitions WHERE fingerprint = ? "
        "AND at > ? AND at <= ? ORDER BY id",
        (incident.fingerprint, incident.opened_at, end),
    ):
        steps.append(Step(at=at, kind=f"{previous} → {current}", actor="", text=summary))
    seen: set[tuple[float, str]] = set()
    for at, payload in conn.execute(
        "SELECT created_at, payload FROM outbox WHERE ref = ? AND kind IN "
        "('incident.reply', 'incident.notice') ORDER BY id",
        (incident.id,),
    ):
        notice = _json(payload)
        key = (at, str(notice.get("text", "")))
        if "notice" in notice and key not in seen:
            seen.add(key)
            steps.append(Step(at=at, kind=str(notice["notice"]), actor="", text=key[1]))
    steps.extend(_audit_steps(store, incident.id))
    for at, kind, detail in conn.execute(
        "SELECT at, kind, detail FROM events WHERE subject = ? ORDER BY id",
        (f"incident:{incident.id}",),
    ):
        found = _json(detail)
        steps.append(Step(at=at, kind=kind, actor=str(found.get("actor", "")), text=_text(found)))
    if incident.acked_by and incident.acked_at is not None:
        steps.append(
            Step(at=incident.acked_at, kind="acknowledged", actor=incident.acked_by, text="")
        )
    if incident.resolved_at is not None:
        steps.append(Step(at=incident.resolved_at, kind="resolved", actor="", text=""))
    return sorted(steps, key=lambda s: s.at)


def _audit_steps(store: Store, incident_id: int) -> list[Step]:
    """The audit rows of the incident's proposals as steps."""
    ids = [
        r[0]
        for r in store._conn.execute(
            "SELECT id FROM proposals WHERE incident_id = ?", (incident_id,)
        )
    ]
    if not ids:
        return []
    subjects = [f"proposal:{i}" for i in ids]
    marks = ", ".join("?" for _ in subjects)
    return [
        Step(at=r[0], kind=r[1], actor=r[2], text=_text(_json(r[3])))
        for r in store._conn.execute(
            f"SELECT at, kind, actor, detail FROM audit WHERE subject IN ({marks}) ORDER BY id",
            subjects,
        )
    ]


def _json(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _text(detail: Mapping[str, Any]) -> str:
    """A detail mapping as one short line: ``action=restart-api reason=...``."""
    return " ".join(f"{k}={v}" for k, v in detail.items() if k != "actor" and v not in ("", None))


def incidents_between(
    store: Store,
    start: float,
    *,
    check: str | None = None,
    severity: str | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> list[Incident]:
    """Incidents opened since ``start`` (or still open), newest first, optionally filtered."""
    query = "SELECT * FROM incidents WHERE (opened_at >= ? OR state != 'resolved')"
    args: list[Any] = [start]
    for column, value in (('"check"', check), ("severity", severity), ("kind", kind)):
        if value:
            query += f" AND {column} = ?"
            args.append(value)
    rows = store._conn.execute(query + " ORDER BY id DESC LIMIT ?", [*args, limit])
    return [incident_from_row(r) for r in rows]


def incidents_of(store: Store, check: str, start: float, limit: int = 50) -> list[Incident]:
    """A check's incidents opened since ``start`` or still open, newest first."""
    return incidents_between(store, start, check=check, limit=limit)


def audit_between(
    store: Store, start: float, *, kind: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Audit rows since ``start``, newest first; ``kind`` matches a kind or its prefix
    (``proposal`` matches ``proposal.approved``)."""
    query = "SELECT id, at, kind, actor, subject, detail FROM audit WHERE at >= ?"
    args: list[Any] = [start]
    if kind:
        query += " AND (kind = ? OR kind LIKE ?)"
        args += [kind, f"{kind}.%"]
    rows = store._conn.execute(query + " ORDER BY id DESC LIMIT ?", [*args, limit])
    return [dict(r) for r in rows]


def incident_kinds(store: Store) -> dict[str, list[str]]:
    """The distinct checks, severities and kinds incidents were recorded with (filters)."""
    found: dict[str, list[str]] = {}
    for column in ('"check"', "severity", "kind"):
        found[column.strip('"')] = [
            r[0]
            for r in store._conn.execute(
                f"SELECT DISTINCT {column} FROM incidents ORDER BY {column}"
            )
        ]
    return found


def data_version(store: Store) -> int:
    """SQLite's data version of this connection: changes when another connection commits
    (what the dashboard's live loop polls, for almost nothing)."""
    return int(store._conn.execute("PRAGMA data_version").fetchone()[0])
