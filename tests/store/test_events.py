"""bot.store.events: the newest of some kinds, events since an id, the last backup."""

from __future__ import annotations

from pathlib import Path

from bot.store import events, open_store

T0 = 1_700_000_000.0


def test_event_reads(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    assert events.last_of(store, "selfreg.started", "selfreg.stopped") is None
    assert events.last_event_id(store) == 0
    assert events.last_backup_at(store) is None
    with store.transaction():
        store.record_event("selfreg.started", "", T0)
        store.record_event("component.adopted", "api", T0 + 1, pid=41)
        store.record_event("backup.created", "", T0 + 2)
        store.record_event("backup.failed", "", T0 + 3)
        store.record_event("component.adopted", "db", T0 + 4, pid=42)
    assert events.last_of(store, "selfreg.started", "selfreg.stopped") == ("selfreg.started", T0)
    assert events.last_event_id(store) == 5
    assert events.since(store, "component.adopted", 2) == [("db", {"pid": 42})]
    assert events.last_backup_at(store) == T0 + 2, "a failed backup is no backup"
    store.close()
