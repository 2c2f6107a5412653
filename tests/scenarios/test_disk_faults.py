"""A full tmpfs and a locked store under a running selfreg, and a backup that does not fit
(tests/support/disk_faults.py; ``bench/disk_faults.py`` holds each fault longer). Slack (the
stand-in) hears one notice as the store stops taking writes and one as it takes them again.
A volume made read-only and writable again (a FUSE passthrough,
tests/support/readonly_fuse.py) is reported and healed the same way, on the same SQLite
connection. A disk an ext4 error turns read-only loses no committed row (the store's
``synchronous=FULL``). Mounting needs root: skipped where it is not permitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.disk_faults import can_mount, run_faults
from tests.support.readonly_disk import can_make_ext4, read_only_fault, read_only_volume_fault
from tests.support.readonly_fuse import fuse_missing
from tests.support.slack_selfreg import new_emulator


def test_a_full_or_locked_store_is_reported_loses_nothing_and_heals_itself(
    tmp_path: Path,
) -> None:
    if not can_mount(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs is not permitted here")
    faults, (code, said, left) = run_faults(tmp_path, hold=3.0)
    by_name = {f.fault: f for f in faults}
    for name in ("full", "locked"):
        fault = by_name[name]
        assert fault.health_during.startswith("503 failing: the store is not writable"), fault
        assert fault.console_said and fault.checks_ran_during > 0, fault
        assert fault.lost_rows == 0 and fault.recovered_after is not None, fault
        assert fault.slack_told == (1, 1), fault
    assert code == 2 and "backup failed" in said and left == []


def test_a_disk_an_ext4_error_turns_read_only_loses_no_committed_row(tmp_path: Path) -> None:
    if not can_mount(tmp_path / "probe") or not can_make_ext4():
        pytest.skip("mounting an ext4 image on a loop device is not permitted here")

    fault = read_only_fault(tmp_path, hold=3.0, slack=None)

    assert fault.health_during.startswith("503 failing: the store is not writable"), fault
    assert fault.console_said and fault.checks_ran_during > 0, fault
    assert fault.lost_rows == 0, fault
    assert fault.recovered_after is not None, fault


def test_a_volume_made_read_only_and_back_is_reported_loses_nothing_and_heals_itself(
    tmp_path: Path,
) -> None:
    if missing := fuse_missing():
        pytest.skip(f"a FUSE mount cannot be made here: {missing}")
    slack = new_emulator()
    try:
        fault = read_only_volume_fault(tmp_path, hold=3.0, slack=slack)
    finally:
        slack.stop()

    assert fault.health_during.startswith("503 failing: the store is not writable"), fault
    assert "the file system is read-only" in fault.health_during, fault
    assert fault.console_said and fault.checks_ran_during > 0, fault
    assert fault.lost_rows == 0 and fault.recovered_after is not None, fault
    assert fault.slack_told == (1, 1), fault
    assert fault.alert_after is not None, fault  # alerts reach Slack again
