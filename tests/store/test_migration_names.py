"""The names the start-up checks without sqlite_utils are the migrations sqlite_utils applies."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store import open_store
from bot.store.migration_names import NAMES, pending_at, pending_in
from bot.store.migrations import MIGRATIONS


def test_the_names_are_the_registered_migrations_in_order() -> None:
    assert tuple(m.name for m in MIGRATIONS._migrations) == NAMES


def test_a_new_store_lacks_every_migration_and_a_migrated_one_none(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.db"
    assert pending_at(path) == list(NAMES)

    open_store(path).close()

    assert pending_at(path) == []


def test_a_store_of_an_older_release_lacks_the_newer_migrations(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (NAMES[-1],))

    assert pending_in(conn) == [NAMES[-1]]
    conn.close()
