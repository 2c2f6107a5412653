"""The audit trail is keyed, chained and anchored: every way to rewrite it is found and named.

A changed row, a removed row, a cut-off tail, a chain written again with or without a key,
rows of another key: each fails ``verify`` with its own reason. Real store files; the key is
found the way selfreg finds it (``audit.key`` beside the store, or ``SELFREG_AUDIT_KEY``).
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
from pathlib import Path

import pytest

from bot.store import Store, audit, audit_anchors, open_store
from bot.store.audit_key import KEY_ENV, key_id, key_path
from tests.support.db import execute, rows

T0 = 1_800_000_000.0


def filled(tmp_path: Path, count: int = 5) -> Store:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        for index in range(count):
            audit.append(
                store, T0 + index, "decision.approve", "U0ALICE", f"proposal:{index}", {"n": index}
            )
    return store


def reopened(store: Store) -> Store:
    """A fresh handle (no key cached): what ``selfreg audit verify`` opens."""
    store.close()
    return open_store(store.path, readonly=True)


def test_an_untouched_trail_verifies_with_the_key_kept_beside_the_store(tmp_path: Path) -> None:
    store = filled(tmp_path)
    key_file = key_path(store.path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes().strip()
    schemes = {row["scheme"] for row in rows(store, "SELECT scheme FROM audit")}
    assert schemes == {f"hmac-sha256:{key_id(key)}"}
    assert key.decode() not in json.dumps([dict(r) for r in rows(store, "SELECT * FROM audit")])
    found = audit.verify(reopened(store))
    assert (found.rows, found.tampered) == (5, None)


def test_a_changed_row_is_named(tmp_path: Path) -> None:
    store = filled(tmp_path)
    execute(store, "UPDATE audit SET actor = 'U0MALLORY' WHERE id = 3")
    tampered = audit.verify(reopened(store)).tampered
    assert tampered is not None and tampered.id == 3 and "content does not match" in tampered.reason


def test_a_removed_row_breaks_the_chain_at_the_next_one(tmp_path: Path) -> None:
    store = filled(tmp_path)
    execute(store, "DELETE FROM audit WHERE id = 2")
    tampered = audit.verify(reopened(store)).tampered
    assert tampered is not None and tampered.id == 3
    assert "does not follow row 1: a row between them was removed" in tampered.reason


def test_a_cut_off_tail_is_found_by_the_anchor(tmp_path: Path) -> None:
    store = filled(tmp_path)
    audit_anchors.anchor(store, T0 + 10, "minute")
    execute(store, "DELETE FROM audit WHERE id >= 4")
    anchors = audit_anchors.from_file(audit_anchors.anchors_path(store.path))
    store = reopened(store)
    assert audit.verify(store).tampered is None  # the chain alone still holds
    tampered = audit.verify(store, anchors).tampered
    assert tampered is not None and tampered.id == 5
    assert (
        "and it is gone (the trail ends at row 3): the newest rows were removed" in tampered.reason
    )


def test_a_chain_written_again_without_the_key_is_refused(tmp_path: Path) -> None:
    """Rewritten with plain SHA-256 (what an intruder without the key can compute)."""
    store = filled(tmp_path)
    audit_anchors.anchor(store, T0 + 10, "backup")
    previous = "0" * 64
    for row in rows(store, "SELECT * FROM audit ORDER BY id"):
        actor = "U0MALLORY" if row["id"] == 2 else row["actor"]
        material = json.dumps(
            [previous, repr(row["at"]), row["kind"], actor, row["subject"], row["detail"]]
        ).encode()
        digest = hashlib.sha256(material).hexdigest()
        execute(
            store,
            "UPDATE audit SET actor = ?, previous = ?, digest = ?, scheme = 'sha256' WHERE id = ?",
            (actor, previous, digest, row["id"]),
        )
        previous = digest
    store = reopened(store)
    tampered = audit.verify(store).tampered  # written after the trail was keyed: refused
    assert tampered is not None and tampered.id == 1
    assert "unkeyed row after the trail was keyed" in tampered.reason
    execute(store, "UPDATE _sqlite_migrations SET applied_at = '2030-01-01 00:00:00+00:00'")
    found = audit.verify(store)  # the migration's date moved too: of itself the chain holds ...
    assert found.tampered is None and found.unkeyed == 5
    anchors = audit_anchors.from_file(audit_anchors.anchors_path(store.path))
    tampered = audit.verify(store, anchors).tampered  # ... but not against its anchor
    assert tampered is not None and tampered.id == 5
    assert "differs from the anchor written" in tampered.reason
    assert "audit-anchors.jsonl" in tampered.reason


def test_an_unkeyed_row_after_keyed_ones_is_a_rewrite(tmp_path: Path) -> None:
    store = filled(tmp_path)
    execute(store, "UPDATE audit SET scheme = 'sha256' WHERE id = 4")
    tampered = audit.verify(reopened(store)).tampered
    assert (
        tampered is not None
        and tampered.id == 4
        and "unkeyed row after the trail was keyed" in tampered.reason
    )


def test_another_key_is_told_apart_from_a_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = filled(tmp_path)
    store.close()
    monkeypatch.setenv(KEY_ENV, "a key of another machine")
    tampered = audit.verify(open_store(tmp_path / "selfreg.db", readonly=True)).tampered
    assert tampered is not None and tampered.id == 1
    assert "was keyed with key" in tampered.reason and "SELFREG_AUDIT_KEY" in tampered.reason
    monkeypatch.delenv(KEY_ENV)
    key_path(tmp_path / "selfreg.db").unlink()
    tampered = audit.verify(open_store(tmp_path / "selfreg.db", readonly=True)).tampered
    assert tampered is not None and "no audit key was found" in tampered.reason


def test_the_key_from_the_environment_wins_and_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "s3cr3t-from-env")
    store = filled(tmp_path, count=2)
    assert not key_path(store.path).exists()
    assert rows(store, "SELECT scheme FROM audit")[0]["scheme"] == "hmac-sha256:" + key_id(
        b"s3cr3t-from-env"
    )
    assert audit.verify(reopened(store)).tampered is None


def test_anchors_are_written_when_the_head_moves_and_once_a_day(tmp_path: Path) -> None:
    store = filled(tmp_path, count=2)
    path = audit_anchors.anchors_path(store.path)
    assert audit_anchors.anchor(store, T0 + 60, "minute", only_if_moved=True) is not None
    assert audit_anchors.anchor(store, T0 + 120, "minute", only_if_moved=True) is None
    with store.transaction():
        audit.append(store, T0 + 130, "switch.actions", "U0BOB", "actions", {"paused": True})
    assert audit_anchors.anchor(store, T0 + 180, "minute", only_if_moved=True) is not None
    assert audit_anchors.anchor(store, T0 + 180 + 86_400, "minute", only_if_moved=True)
    written = audit_anchors.from_file(path)
    assert [a.id for a in written] == [2, 3, 3]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    found = audit.verify(reopened(store), written)
    assert (found.rows, found.anchors, found.tampered) == (3, 3, None)


def test_export_writes_csv_since_a_time(tmp_path: Path) -> None:
    store = filled(tmp_path)
    out = io.StringIO()
    assert audit.export_csv(store, out, since=T0 + 2) == 3
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("id,at,kind,actor,subject,detail,digest") and len(lines) == 4
