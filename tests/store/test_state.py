"""bot.store.state: latest states and check state survive a reopen; removed checks go."""

from __future__ import annotations

from pathlib import Path

from bot.records import LatestState
from bot.store import open_store
from bot.store import state as rows
from checks.base import Status

T0 = 1_700_000_000.0


def latest(check: str, status: Status = Status.CRITICAL) -> LatestState:
    return LatestState(
        check=check,
        subject="",
        status=status,
        summary=f"{check} {status}",
        values={"latency": 0.5},
        at=T0,
        confirmed=status,
        confirmed_at=T0,
        streak=3,
    )


def test_latest_states_and_check_state_read_back_after_a_reopen(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        rows.save_latest(store, [latest("api"), latest("db", Status.OK)])
        rows.save_check_state(store, "log", {"offset": 120, "inode": 7})
    with store.transaction():
        rows.save_latest(store, [latest("api", Status.WARNING)])
        rows.save_check_state(store, "log", {"offset": 240})
    store.close()
    store = open_store(tmp_path / "selfreg.db")
    found = rows.load_latest(store)
    assert found[("api", "")] == latest("api", Status.WARNING)
    assert found[("db", "")].status is Status.OK
    assert rows.load_check_state(store) == {"log": {"offset": 240, "inode": 7}}
    store.close()


def test_forget_checks_deletes_only_their_rows(tmp_path: Path) -> None:
    store = open_store(tmp_path / "selfreg.db")
    with store.transaction():
        rows.save_latest(store, [latest("api"), latest("db"), latest("disk")])
    rows.forget_checks(store, {"api", "disk"})
    rows.forget_checks(store, ())
    assert list(rows.load_latest(store)) == [("db", "")]
    store.close()
