"""The audit trail is hash-chained: changing or removing a row is found, and named."""

from __future__ import annotations

import io
from pathlib import Path

from bot.store import audit, open_store
from tests.support.db import execute


def filled(tmp_path: Path):
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        for index in range(5):
            audit.append(
                store,
                1_800_000_000.0 + index,
                "decision.approve",
                "U0ALICE",
                f"proposal:{index}",
                {"n": index},
            )
    return store


def test_an_untouched_trail_verifies(tmp_path: Path) -> None:
    store = filled(tmp_path)
    assert audit.verify(store) == (5, None)


def test_a_changed_row_is_named(tmp_path: Path) -> None:
    store = filled(tmp_path)
    execute(store, "UPDATE audit SET actor = 'U0MALLORY' WHERE id = 3")
    _, tampered = audit.verify(store)
    assert tampered is not None and tampered.id == 3 and "content does not match" in tampered.reason


def test_a_removed_row_breaks_the_chain_at_the_next_one(tmp_path: Path) -> None:
    store = filled(tmp_path)
    execute(store, "DELETE FROM audit WHERE id = 2")
    _, tampered = audit.verify(store)
    assert (
        tampered is not None and tampered.id == 3 and "link to the previous row" in tampered.reason
    )


def test_export_writes_csv_since_a_time(tmp_path: Path) -> None:
    store = filled(tmp_path)
    out = io.StringIO()
    assert audit.export_csv(store, out, since=1_800_000_002.0) == 3
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("id,at,kind,actor,subject,detail,digest") and len(lines) == 4
