"""A full disk, a read-only one and a locked store under a running selfreg, and a backup
that does not fit: /health, the console and Slack say so, checks go on, nothing committed is
lost, and selfreg recovers by itself when the cause goes away.

``tests/support/disk_faults.py``: the data folder is a 16 MB tmpfs mounted here (root only;
without permission to mount this prints why and exits 0). A real ``selfreg run`` checks every
200 ms and posts to the Slack stand-in; each fault is held ``--hold`` seconds. Printed per
fault: /health during it (status, reason, the store's error, the loop lag), whether the
console said so, the Slack notices received (cannot record / records again), check runs
counted during it (/metrics), committed rows lost, seconds from the cause's removal to
/health ok. ``tests/support/readonly_disk.py``: a volume made read-only and writable again
(a FUSE passthrough whose writes answer EROFS for ``--hold`` seconds,
``tests/support/readonly_fuse.py``; skipped without FUSE), and the read-only disk that does
not heal, an ext4 image mounted ``errors=remount-ro`` that an ext4 error turns read-only
(``mount -o remount,ro`` is refused while the store is open for writing); skipped without
loop devices.

    sudo python bench/disk_faults.py [--hold 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.disk_faults import FaultFigures, can_mount, run_faults  # noqa: E402
from tests.support.readonly_disk import (  # noqa: E402
    can_make_ext4,
    read_only_fault,
    read_only_volume_fault,
)
from tests.support.readonly_fuse import fuse_missing  # noqa: E402
from tests.support.slack_selfreg import new_emulator  # noqa: E402
from tests.support.slack_standin import SlackEmulator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="selfreg-disk-") as tmp:
        if not can_mount(Path(tmp) / "probe"):
            print("skipped: mounting a tmpfs is not permitted here (run as root)")
            return 0
        faults, (code, said, left) = run_faults(Path(tmp), args.hold)
        if missing := fuse_missing():
            print(f"read-only (volume): skipped: {missing}")
        else:
            faults.append(_read_only(read_only_volume_fault, Path(tmp) / "fuse", args.hold))
        if can_make_ext4():
            faults.append(_read_only(read_only_fault, Path(tmp) / "ext4", args.hold))
    for f in faults:
        _show(f)
    print(f"backup into the full folder: exit {code}, {said!r}; files left: {left or 'none'}")
    ok = all(f.lost_rows == 0 for f in faults)  # the ext4 error too: synchronous=FULL
    ok = ok and code != 0 and not left
    return 0 if ok else 1


def _read_only(
    fault: Callable[[Path, float, SlackEmulator], FaultFigures], tmp: Path, hold: float
) -> FaultFigures:
    tmp.mkdir()
    slack = new_emulator()
    try:
        return fault(tmp, hold, slack)
    finally:
        slack.stop()


def _show(f: FaultFigures) -> None:
    print(f"{f.fault}:")
    if f.health_during:
        back = f"{f.recovered_after:.2f} s" if f.recovered_after is not None else "never"
        print(f"  /health during: {f.health_during}")
        print(
            f"  console said so: {f.console_said}; Slack told: {f.slack_told[0]} cannot-record "
            f"and {f.slack_told[1]} records-again notice(s); check runs during: "
            f"{f.checks_ran_during}; committed rows lost: {f.lost_rows}; "
            f"/health ok again after: {back}"
        )
    if f.fault == "read-only (volume)":
        after = f"{f.alert_after:.2f} s" if f.alert_after is not None else "never"
        print(f"  an incident resolved after the fault reached Slack after: {after}")
    for text in f.slack_texts if f.fault in ("full", "read-only (volume)") else []:
        print(f"  Slack: {text}")
    for note in f.notes if "ext4" in f.fault else f.notes[:1]:
        print(f"  {note.splitlines()[0]}")


if __name__ == "__main__":
    sys.exit(main())
