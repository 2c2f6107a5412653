"""The audit trail: append-only, keyed, hash-chained, anchored outside the store, never pruned.

Each row stores an HMAC-SHA256 (keyed with the key in ``audit_key``, kept outside the
database) of its own content and of the previous row's digest, so changing or deleting any
row breaks every digest after it, and nobody without the key can write a chain that checks.
Rows written before the trail was keyed carry a plain SHA-256 (``scheme`` says which); they
may only come first. The head is also written outside the store (``audit_anchors``), which
finds a cut-off tail or a chain written again. ``verify`` names the first thing wrong.
Every state change an operator causes is a row: proposals, decisions, runs and
verifications, acks, silences, reloads and the kill switch, with who and through which door.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from bot import messages
from bot.store.audit_anchors import Anchor
from bot.store.audit_key import find_key, key_for_writing, key_id
from bot.store.db import Store

GENESIS = "0" * 64
UNKEYED = "sha256"
KEYED = "hmac-sha256:"


def _material(previous: str, at: float, kind: str, actor: str, subject: str, detail: str) -> bytes:
    return json.dumps(
        [previous, repr(at), kind, actor, subject, detail], ensure_ascii=False
    ).encode()


def _digest(key: bytes | None, material: bytes) -> str:
    if key is None:
        return hashlib.sha256(material).hexdigest()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def append(
    store: Store, at: float, kind: str, actor: str, subject: str, detail: Mapping[str, Any]
) -> int:
    """Append one row, chained to the last; call inside the change's own transaction."""
    key = store.audit_key
    if key is None:
        key = store.audit_key = key_for_writing(store.path)
    row = store._conn.execute("SELECT digest FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    previous = row[0] if row else GENESIS
    text = json.dumps(dict(detail), sort_keys=True, default=str)
    digest = _digest(key, _material(previous, at, kind, actor, subject, text))
    cursor = store._conn.execute(
        "INSERT INTO audit (at, kind, actor, subject, detail, previous, digest, scheme)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (at, kind, actor, subject, text, previous, digest, KEYED + key_id(key)),
    )
    return int(cursor.lastrowid or 0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Tampered:
    """The first row whose chain does not hold, and why."""

    id: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    """What ``verify`` found: rows checked, anchors checked, unkeyed rows, the first fault."""

    rows: int
    anchors: int
    unkeyed: int
    tampered: Tampered | None


def verify(store: Store, anchors: Iterable[Anchor] = ()) -> Verified:
    """Check the chain row by row, then every anchor against the row it names."""
    key = store.audit_key or find_key(store.path)
    keyed_since = _keyed_since(store)
    previous, last, count, unkeyed = GENESIS, 0, 0, 0
    digests: dict[int, str] = {}
    for row in store._conn.execute("SELECT * FROM audit ORDER BY id"):
        count += 1
        keyed_seen = count - 1 > unkeyed or row["at"] >= keyed_since
        fault = _row_fault(row, previous, last, key, keyed_seen=keyed_seen)
        if fault is not None:
            return Verified(
                rows=count,
                anchors=0,
                unkeyed=unkeyed,
                tampered=Tampered(id=row["id"], reason=fault),
            )
        unkeyed += row["scheme"] == UNKEYED
        previous, last = row["digest"], row["id"]
        digests[last] = previous
    checked = 0
    for anchor in sorted(anchors, key=lambda a: a.id):
        checked += 1
        if anchor.id not in digests:
            reason = messages.audit_truncated(last, anchor.at, anchor.where)
        elif digests[anchor.id] != anchor.digest:
            reason = messages.audit_rewritten(anchor.at, anchor.where)
        else:
            continue
        return Verified(
            rows=count,
            anchors=checked,
            unkeyed=unkeyed,
            tampered=Tampered(id=anchor.id, reason=reason),
        )
    return Verified(rows=count, anchors=checked, unkeyed=unkeyed, tampered=None)


def _keyed_since(store: Store) -> float:
    """When this store's trail became keyed (migration m007): no unkeyed row is newer."""
    row = store._conn.execute(
        "SELECT applied_at FROM _sqlite_migrations WHERE name = 'm007_audit_keyed'"
    ).fetchone()
    try:
        return datetime.fromisoformat(row[0]).timestamp() if row else math.inf
    except (TypeError, ValueError):
        return -math.inf  # an unreadable date: no unkeyed row is believed


def _row_fault(
    row: Mapping[str, Any], previous: str, last: int, key: bytes | None, *, keyed_seen: bool
) -> str | None:
    """Why one row does not hold (None when it does)."""
    if row["previous"] != previous:
        return messages.audit_link_broken(last)
    material = _material(
        previous, row["at"], row["kind"], row["actor"], row["subject"], row["detail"]
    )
    scheme = str(row["scheme"])
    if scheme == UNKEYED:
        if keyed_seen:
            return messages.audit_unkeyed_after_keyed()
        expected = _digest(None, material)
    else:
        if key is None:
            return messages.audit_no_key()
        if scheme != KEYED + key_id(key):
            return messages.audit_other_key(scheme.removeprefix(KEYED), key_id(key))
        expected = _digest(key, material)
    if not hmac.compare_digest(row["digest"], expected):
        return messages.audit_content_changed()
    return None


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
