"""What ``selfreg status`` adds to the status document from the store and the data folder.

Open incidents, proposals waiting for an approval and the last backup, read by the CLI
itself (read-only SQLite, WAL: the running instance is not disturbed), so the running
instance's ``/status`` stays what it is. Everything is read defensively: an older store
without a table, or no ``backups`` folder, means "nothing to show", never a failed status.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from bot.config import LoadedConfig
from bot.engine.alerting import incident_snapshot
from bot.engine.regulate.planning import scheduled_rows
from bot.engine.status import fold_peers, peer_names
from bot.store import Store, events, open_store, proposals
from bot.store.incidents import open_incidents

BACKUPS_FOLDER = "backups"
PROPOSAL_FIELDS = (
    "id",
    "incident_id",
    "action",
    "risk",
    "mode",
    "requested_by",
    "created_at",
    "expires_at",
)


def add_facts(document: dict[str, Any], config: LoadedConfig) -> dict[str, Any]:
    """``document`` with ``incidents``, ``pending_approvals``, ``last_backup`` and (read from
    the store, selfreg not running) ``peers`` filled in."""
    names = peer_names(config.settings.checks)
    if names and not document.get("peers"):
        document["peers"] = fold_peers(document.get("checks", []), names)
    store: Store | None = None
    if config.db_path.exists():
        try:
            store = open_store(config.db_path, readonly=True)
        except Exception:  # unreadable store: show what the document already has
            store = None
    try:
        if store is not None:
            if "incidents" not in document:
                document["incidents"] = _read(
                    lambda: [incident_snapshot(i) for i in open_incidents(store)]
                )
            document["pending_approvals"] = _read(lambda: pending_approvals(store))
            if scheduled := _read(lambda: scheduled_rows(store)):  # shown only when any
                document.setdefault("scheduled", scheduled)
        document.setdefault("incidents", [])
        document.setdefault("pending_approvals", [])
        document["last_backup"] = last_backup(config.data_dir, store)
    finally:
        if store is not None:
            store.close()
    return document


def _read(query: Any) -> list[dict[str, Any]]:
    try:
        return list(query())
    except sqlite3.Error:  # e.g. a store from before the table existed
        return []


def pending_approvals(store: Store) -> list[dict[str, Any]]:
    return proposals.pending_rows(store, PROPOSAL_FIELDS)


def last_backup(data_dir: Path, store: Store | None) -> dict[str, Any] | None:
    """The newest backup: a file in ``<data>/backups`` or a ``backup.*`` event; None if
    neither exists (then the status says nothing about backups)."""
    found: dict[str, Any] | None = None
    folder = data_dir / BACKUPS_FOLDER
    try:
        files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")]
    except OSError:
        files = None
    if files is not None:
        found = {"at": None, "path": None}
        if files:
            newest = max(files, key=lambda f: f.stat().st_mtime)
            found = {"at": newest.stat().st_mtime, "path": str(newest)}
    at = events.last_backup_at(store) if store is not None else None
    if at is not None and (found is None or (found["at"] or 0) < at):
        found = {"at": at, "path": None}
    return found
