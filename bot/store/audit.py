"""The audit trail: append-only, hash-chained, never pruned.

Each row stores the SHA-256 digest of its own content and of the previous row's digest, so
changing or deleting any row breaks every digest after it; ``verify`` names the first row
that does not match. Proposals, decisions, runs and verifications are written here.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from bot import messages
from bot.store.db import Store

GENESIS = "0" * 64


def _digest(previous: str, at: float, kind: str, actor: str, subject: str, detail: str) -> str:
    material = json.dumps([previous, repr(at), kind, actor, subject, detail], ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()


def append(
    store: Store, at: float, kind: str, actor: str, subject: str, detail: Mapping[str, Any]
) -> int:
    """Append one row, chained to the last; call inside the change's own transaction."""
    row = store._conn.execute("SELECT digest FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    previous = row[0] if row else GENESIS
    text = json.dumps(dict(detail), sort_keys=True, default=str)
    digest = _digest(previous, at, kind, actor, subject, text)
    cursor = store._conn.execute(
        "INSERT INTO audit (at, kind, actor, subject, detail, previous, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (at, kind, actor, subject, text, previous, digest),
    )
    return int(cursor.lastrowid or 0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Tampered:
    """The first row whose chain does not hold, and why."""

    id: int
    reason: str


def verify(store: Store) -> tuple[int, Tampered | None]:
    """(rows checked, the first tampered row or None)."""
    previous = GENESIS
    count = 0
    for row in store._conn.execute("SELECT * FROM audit ORDER BY id"):
        count += 1
        if row["previous"] != previous:
            return count, Tampered(
                id=row["id"],
                reason=messages.audit_row_changed(link_broken=True),
            )
        expected = _digest(
            previous, row["at"], row["kind"], row["actor"], row["subject"], row["detail"]
        )
        if row["digest"] != expected:
            return count, Tampered(
                id=row["id"], reason=messages.audit_row_changed(link_broken=False)
            )
        previous = row["digest"]
    return count, None


def rows(
    store: Store,
    since: float = 0.0,
    subject: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
) -> Iterator[Mapping[str, Any]]:
    """Audit rows oldest first, optionally filtered."""
    query = "SELECT * FROM audit WHERE at >= ?"
    args: list[Any] = [since]
    if subject is not None:
        query += " AND subject = ?"
        args.append(subject)
    if actor is not None:
        query += " AND actor = ?"
        args.append(actor)
    query += " ORDER BY id"
    if limit is not None:
        query = f"SELECT * FROM ({query.replace('ORDER BY id', 'ORDER BY id DESC')} LIMIT {int(limit)}) ORDER BY id"
    for row in store._conn.execute(query, args):
        yield dict(row)


def export_csv(store: Store, out: TextIO, since: float = 0.0) -> int:
    """Write the trail since ``since`` as CSV; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(["id", "at", "kind", "actor", "subject", "detail", "digest"])
    count = 0
    for row in rows(store, since):
        writer.writerow(
            [
                row["id"],
                row["at"],
                row["kind"],
                row["actor"],
                row["subject"],
                row["detail"],
                row["digest"],
            ]
        )
        count += 1
    return count


def recent(
    store: Store, subject: str | None = None, actor: str | None = None, limit: int = 20
) -> list[Mapping[str, Any]]:
    """The newest ``limit`` rows (oldest first) for an incident's proposals or for an actor."""
    if subject is not None and subject.startswith("incident:"):
        incident = int(subject.split(":")[1])
        ids = [
            r[0]
            for r in store._conn.execute(
                "SELECT id FROM proposals WHERE incident_id = ?", (incident,)
            )
        ]
        subjects = [f"proposal:{i}" for i in ids] or ["-"]
        marks = ", ".join("?" for _ in subjects)
        query = f"SELECT * FROM audit WHERE subject IN ({marks}) ORDER BY id DESC LIMIT ?"
        found = store._conn.execute(query, (*subjects, limit)).fetchall()
    elif actor is not None:
        found = store._conn.execute(
            "SELECT * FROM audit WHERE actor = ? ORDER BY id DESC LIMIT ?", (actor, limit)
        ).fetchall()
    else:
        found = store._conn.execute(
            "SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
    return [dict(r) for r in reversed(found)]
