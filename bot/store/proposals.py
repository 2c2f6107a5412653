"""Proposals, action runs and switches in the store."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from actions.base import Mode, Risk
from bot.records import Proposal, ProposalState
from bot.store.db import Store

_COLUMNS = [f.name for f in fields(Proposal) if f.name != "id"]


def _from_row(row: sqlite3.Row) -> Proposal:
    data = dict(row)
    data["state"] = ProposalState(data["state"])
    data["mode"] = Mode(data["mode"])
    data["risk"] = Risk(data["risk"])
    data["approvals"] = tuple(json.loads(data["approvals"]))
    return Proposal(**data)


def save(store: Store, proposal: Proposal) -> Proposal:
    data = asdict(proposal)
    data["approvals"] = json.dumps(list(proposal.approvals))
    for key in ("state", "mode", "risk"):
        data[key] = data[key].value
    values = [data[c] for c in _COLUMNS]
    if proposal.id == 0:
        row = store._conn.execute(
            f"INSERT INTO proposals ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) RETURNING id",
            values,
        ).fetchone()
        return replace(proposal, id=row[0])
    store._conn.execute(
        f"UPDATE proposals SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE id = ?",
        [*values, proposal.id],
    )
    return proposal


def claim(
    store: Store, proposal: Proposal, new_state: ProposalState, **changes: object
) -> Proposal | None:
    """Move a proposal out of ``proposed`` only if nobody else did first (first click wins)."""
    cursor = store._conn.execute(
        "UPDATE proposals SET state = ? WHERE id = ? AND state = 'proposed'",
        (new_state.value, proposal.id),
    )
    if cursor.rowcount != 1:
        return None
    updated = replace(proposal, state=new_state, **changes)
    save(store, updated)
    return updated


def get(store: Store, proposal_id: int) -> Proposal | None:
    row = store._conn.execute("SELECT * FROM proposals WHERE id = ?", (proposal_id,)).fetchone()
    return _from_row(row) if row else None


def for_incident(store: Store, incident_id: int) -> list[Proposal]:
    rows = store._conn.execute(
        "SELECT * FROM proposals WHERE incident_id = ? ORDER BY id", (incident_id,)
    ).fetchall()
    return [_from_row(r) for r in rows]


def _open_rows(store: Store) -> list[sqlite3.Row]:
    return store._conn.execute(
        "SELECT * FROM proposals WHERE state = 'proposed' ORDER BY id"
    ).fetchall()


def open_proposals(store: Store) -> list[Proposal]:
    """Proposals waiting for a decision, oldest first."""
    return [_from_row(r) for r in _open_rows(store)]


def runs_since(store: Store, action: str, since: float) -> int:
    """Real (not dry) runs of ``action`` started since ``since``: what the budget counts."""
    row = store._conn.execute(
        "SELECT count(*) FROM action_runs WHERE action = ? AND started_at >= ? AND dry_run = 0",
        (action, since),
    ).fetchone()
    return int(row[0])


def last_run_at(store: Store, action: str) -> float | None:
    row = store._conn.execute(
        "SELECT max(started_at) FROM action_runs WHERE action = ? AND dry_run = 0", (action,)
    ).fetchone()
    return row[0]


def start_run(store: Store, proposal_id: int | None, action: str, at: float, dry_run: bool) -> int:
    cursor = store._conn.execute(
        "INSERT INTO action_runs (proposal_id, action, started_at, dry_run) VALUES (?, ?, ?, ?)",
        (proposal_id, action, at, int(dry_run)),
    )
    return int(cursor.lastrowid or 0)


def finish_run(
    store: Store, run_id: int, at: float, ok: bool, summary: str, output: str, exit_code: int | None
) -> str:
    digest = hashlib.sha256(output.encode()).hexdigest()
    store._conn.execute(
        "UPDATE action_runs SET finished_at = ?, ok = ?, summary = ?, output = ?, output_digest = ?, exit_code = ? WHERE id = ?",
        (at, int(ok), summary, output, digest, exit_code, run_id),
    )
    return digest


def set_verified(store: Store, run_id: int, verified: bool, text: str) -> None:
    store._conn.execute(
        "UPDATE action_runs SET verified = ?, verification = ? WHERE id = ?",
        (int(verified), text, run_id),
    )


def switch(store: Store, name: str) -> tuple[str, str] | None:
    """(value, who changed it) of a switch, or None when never set."""
    row = store._conn.execute(
        "SELECT value, changed_by FROM switches WHERE name = ?", (name,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def set_switch(store: Store, name: str, value: str, by: str, at: float) -> None:
    store._conn.execute(
        "INSERT INTO switches (name, value, changed_by, changed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_by = excluded.changed_by, changed_at = excluded.changed_at",
        (name, value, by, at),
    )


KILL_SWITCH = "actions_paused"
"""The switch that pauses every action (``/selfreg pause``)."""


def paused_by(store: Store) -> str | None:
    """Who paused every action, or None while actions may run."""
    value = switch(store, KILL_SWITCH)
    return value[1] if value and value[0] == "on" else None


def pending_rows(store: Store, wanted: Sequence[str]) -> list[dict[str, Any]]:
    """Proposals waiting for a decision as plain rows of the ``wanted`` columns (those the
    store has: ``selfreg status`` may read a store older than some columns)."""
    rows = _open_rows(store)
    columns = set(rows[0].keys()) if rows else set()  # a Row's `in` looks at values, not keys
    return [{k: row[k] for k in wanted if k in columns} for row in rows]


def shadow_counts(store: Store) -> dict[str, tuple[int, int]]:
    """Per action: (shadow proposals, how many of them a person later ran)."""
    counts: dict[str, tuple[int, int]] = {}
    for row in store._conn.execute(
        "SELECT action, count(*), sum(state = 'approved') FROM proposals "
        "WHERE mode = 'shadow' GROUP BY action"
    ):
        counts[row[0]] = (int(row[1]), int(row[2] or 0))
    return counts


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionUse:
    """How much of its budget an action has used: runs in its window, and the last run."""

    runs_in_window: int
    last_run_at: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class IncidentProposals:
    """An incident's proposals with what the gate needs to show their buttons."""

    proposals: tuple[Proposal, ...]
    use: Mapping[str, ActionUse]
    paused_by: str | None


def for_offers(
    store: Store, incident_id: int, windows: Mapping[str, float], now: float
) -> IncidentProposals:
    """The incident's proposals, each action's use within its budget window (``windows``:
    action name to seconds; actions not named are left out) and the kill switch."""
    found = tuple(for_incident(store, incident_id))
    use = {
        name: ActionUse(
            runs_in_window=runs_since(store, name, now - windows[name]),
            last_run_at=last_run_at(store, name),
        )
        for name in {p.action for p in found}
        if name in windows
    }
    return IncidentProposals(proposals=found, use=use, paused_by=paused_by(store))
