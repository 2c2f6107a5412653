"""A full disk, a read-only one and a locked store under a running selfreg, and a backup
that does not fit: /health and the console say so, checks go on, nothing committed is lost,
and selfreg recovers by itself when the cause goes away.

``tests/support/disk_faults.py``: the data folder is a 4 MB tmpfs mounted here (root only;
without permission to mount this prints why and exits 0). A real ``selfreg run`` checks every
200 ms; each fault is held ``--hold`` seconds. Printed per fault: /health during it (status,
reason, the store's error, the loop lag), whether the console said so, check runs counted
during it (/metrics), committed rows lost, seconds from the cause's removal to /health ok.

    sudo python bench/disk_faults.py [--hold 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.disk_faults import can_mount, run_faults  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="selfreg-disk-") as tmp:
        if not can_mount(Path(tmp) / "probe"):
            print("skipped: mounting a tmpfs is not permitted here (run as root)")
            return 0
        faults, (code, said, left) = run_faults(Path(tmp), args.hold)
    for f in faults:
        print(f"{f.fault}:")
        if f.health_during:
            back = f"{f.recovered_after:.2f} s" if f.recovered_after is not None else "never"
            print(f"  /health during: {f.health_during}")
            print(
                f"  console said so: {f.console_said}; check runs during: {f.checks_ran_during}; "
                f"committed rows lost: {f.lost_rows}; /health ok again after: {back}"
            )
        for note in f.notes[:1]:
            print(f"  {note.splitlines()[0]}")
    print(f"backup into the full folder: exit {code}, {said!r}; files left: {left or 'none'}")
    ok = all(f.lost_rows == 0 for f in faults) and code != 0 and not left
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
