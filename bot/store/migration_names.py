"""The names of the store's migrations, in order, and which of them a store still lacks.

``bot/store/migrations.py`` registers the migrations with sqlite_utils; this module knows only
their names, so that a process can tell whether any is pending without importing sqlite_utils
(with dateutil and pluggy it pulls in, about 2 MB of resident memory that a process never gives
back). The long-running selfreg applies pending migrations in a child process (the start-up
step "store schema", ``bot/startup.py``) and then opens a store with nothing pending, so it
never loads them. ``tests/store/test_migration_names.py`` keeps this list equal to the
registered one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

MIGRATION_SET = "selfreg"  # sqlite_utils' migration_set column for selfreg's migrations
NAMES = (
    "m001_core",
    "m002_incidents",
    "m003_remediation",
    "m004_component_instances",
    "m005_slack_posts",
    "m006_predictions",
    "m007_audit_keyed",
    "m008_incident_reopened_at",
    "m009_sync_runs",
    "m010_regulation",
    "m011_scheduled_run_door",
    "m012_recent_samples",
)


def pending_in(conn: sqlite3.Connection) -> list[str]:
    """The migrations not yet applied to the store behind ``conn``, in order."""
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,)
        ).fetchall()
    except sqlite3.OperationalError:  # no such table: a new store
        return list(NAMES)
    applied = {row[0] for row in rows}
    return [name for name in NAMES if name not in applied]


def pending_at(path: Path) -> list[str]:
    """The migrations the store at ``path`` still lacks (all of them when there is no file)."""
    if not path.exists():
        return list(NAMES)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        return pending_in(conn)
    except sqlite3.DatabaseError:  # not a store: migrating it will say why
        return list(NAMES)
    finally:
        conn.close()
