"""How the writer connection is opened: the settings selfreg's promises rest on."""

from __future__ import annotations

from pathlib import Path

from bot.store import open_store
from bot.store.db import CACHE_KIB


def test_the_writer_is_wal_fsynced_at_each_commit_with_a_small_page_cache(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    try:
        ask = store._conn.execute
        assert ask("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ask("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert ask("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
    finally:
        store.close()
